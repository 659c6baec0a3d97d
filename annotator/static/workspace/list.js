// The annotation list beside the map: filter by label, status and author; an entry is a
// button, so Tab and Enter reach every annotation; choosing one zooms the map to it.
(function () {
  "use strict";
  var AW = window.AW;
  var SHOWN = 300;  // longer lists are cut: narrow the filter to see the rest
  var list = document.getElementById("annotation-list");
  var more = document.getElementById("list-more");
  var count = document.getElementById("list-count");
  var labelFilter = document.getElementById("filter-label");
  var statusFilter = document.getElementById("filter-status");
  var authorFilter = document.getElementById("filter-author");
  var pending = false;

  // A status in words ("in review", not "in_review") for every part of the workspace;
  // `capital` for one that starts a sentence ("In review").
  var t = window.Annotator.t;
  var WORDS = { draft: t("draft"), in_review: t("in review"), approved: t("approved"),
                rejected: t("rejected"), unsaved: t("unsaved"), deleted: t("deleted"),
                saving: t("saving"), conflict: t("conflict"), saved: t("saved") };
  AW.statusWord = function (status, capital) {
    var word = WORDS[status] || String(status || "").replace(/_/g, " ");
    return capital ? word.charAt(0).toUpperCase() + word.slice(1) : word;
  };

  function matches(item) {
    var p = item.feature.properties;
    if (p.deleted || item.filtered) return false;  // filtered: hidden by toggles.js
    var text = labelFilter.value.trim().toLowerCase();
    if (text) {
      var name = (AW.labelName(p.label) + " " + (p.label || "")).toLowerCase();
      if (name.indexOf(text) < 0) return false;
    }
    var status = statusFilter.value;
    if (status === "unsaved" && item.state === "saved") return false;
    if (status && status !== "unsaved" && (p.status !== status || item.isNew)) return false;
    if (authorFilter.value && p.created_by !== authorFilter.value) return false;
    return true;
  }

  function entry(item) {
    var p = item.feature.properties;
    var li = document.createElement("li");
    var button = AW.el("button", "entry status-" + (item.state === "saved" ? p.status : item.state));
    button.type = "button";
    button.dataset.id = item.id;
    if (item.id === AW.selectedId) button.setAttribute("aria-current", "true");
    var swatch = AW.el("span", "swatch");
    swatch.style.background = AW.colour(p.label);
    button.appendChild(swatch);
    var name = AW.el("span", "name", AW.labelName(p.label));
    name.dir = "auto";
    button.appendChild(name);
    var state = AW.statusWord(item.state === "saved" ? p.status : item.state);
    button.appendChild(AW.el("span", "meta " + (item.state === "saved" ? "" : "problem"),
      state + (p.created_by ? " · " + p.created_by : "")));
    if (p.notes) button.title = p.notes;  // a title attribute is text, never markup
    button.addEventListener("click", function () { AW.select(item.id, true); });
    li.appendChild(button);
    return li;
  }

  function render() {
    pending = false;
    var items = Array.from(AW.items.values()).filter(matches);
    var fragment = document.createDocumentFragment();
    items.slice(0, SHOWN).forEach(function (item) { fragment.appendChild(entry(item)); });
    list.replaceChildren(fragment);
    count.textContent = "(" + items.length + ")";
    more.hidden = items.length <= SHOWN;
    more.textContent = t("Showing %(shown)s of %(total)s; filter to see the rest.", { shown: SHOWN, total: items.length });
  }

  AW.refreshList = function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(render);
  };

  function refreshAuthors() {
    var names = {};
    AW.items.forEach(function (item) {
      if (item.feature.properties.created_by) names[item.feature.properties.created_by] = true;
    });
    var current = authorFilter.value;
    var options = [AW.el("option", null, t("anyone"))];
    options[0].value = "";
    Object.keys(names).sort().forEach(function (name) {
      var option = AW.el("option", null, name);
      option.value = name;
      options.push(option);
    });
    authorFilter.replaceChildren.apply(authorFilter, options);
    authorFilter.value = names[current] ? current : "";
  }

  // N / Shift+N: the next or previous entry of the list (keyboard-only review).
  AW.step = function (delta) {
    var ids = Array.from(list.querySelectorAll("button.entry")).map(function (b) { return b.dataset.id; });
    if (!ids.length) return;
    var at = ids.indexOf(AW.selectedId);
    var next = at < 0 ? (delta > 0 ? 0 : ids.length - 1) : (at + delta + ids.length) % ids.length;
    AW.select(ids[next], true);
    var button = list.querySelector('button.entry[data-id="' + ids[next] + '"]');
    if (button) button.scrollIntoView({ block: "nearest" });
  };

  [labelFilter, statusFilter, authorFilter].forEach(function (input) {
    input.addEventListener("input", AW.refreshList);
    input.addEventListener("change", AW.refreshList);
  });
  AW.on("loaded", function () { refreshAuthors(); AW.refreshList(); });
  AW.on("changed", function () { refreshAuthors(); AW.refreshList(); });
  AW.on("state", AW.refreshList);
  AW.on("select", AW.refreshList);
})();
