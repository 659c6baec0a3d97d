// Show or hide the annotations by status and by label. A hidden annotation is off the map
// (nothing to click or select, nothing drawn over it by mistake) and out of the list and N's
// steps; the list's count is of what is shown. Work not yet saved is always shown, and hiding
// the selected annotation lets go of it first; one selected from elsewhere (a link, a warning)
// is shown while it is selected. Nothing is stored: a reload shows all again.
(function () {
  "use strict";
  var AW = window.AW;
  var STATUSES = ["draft", "in_review", "approved", "rejected"];
  var statusBox = document.getElementById("show-status");
  var labelBox = document.getElementById("show-label");
  var state = document.getElementById("show-state");
  var hiddenStatus = {}, hiddenLabel = {};

  function checkbox(box, kind, value, text, colour) {
    var label = AW.el("label", "show-toggle");
    var input = AW.el("input");
    input.type = "checkbox";
    input.checked = true;
    input.dataset.kind = kind;
    input.value = value;
    label.appendChild(input);
    if (colour) {
      var swatch = AW.el("span", "swatch");
      swatch.style.background = colour;
      label.appendChild(swatch);
    }
    label.appendChild(AW.el("span", "name", text));
    box.appendChild(label);
    input.addEventListener("change", function () {
      var hidden = kind === "status" ? hiddenStatus : hiddenLabel;
      if (input.checked) delete hidden[value]; else hidden[value] = true;
      var selected = AW.selected();
      if (selected && hiddenBy(selected)) {  // let go of it first: then it can go
        if (AW.isEditing()) AW.stopEdit();
        AW.select(null);
      }
      refresh();
    });
  }

  function hiddenBy(item) {
    if (item.isNew || item.state !== "saved") return false;  // unsaved work stays in sight
    var p = item.feature.properties;
    return Boolean(hiddenStatus[p.status] || hiddenLabel[p.label || ""]);
  }

  // Recompute one annotation; true when it changed.
  function settle(item) {
    var filtered = hiddenBy(item) && item.id !== AW.selectedId;
    if (Boolean(item.filtered) === filtered) return false;
    item.filtered = filtered;
    AW.redraw(item);
    return true;
  }

  function refresh() {
    var hidden = 0;
    AW.items.forEach(function (item) {
      settle(item);
      if (item.filtered && !item.feature.properties.deleted) hidden += 1;
    });
    state.textContent = hidden ? window.Annotator.t("%(num)s hidden", { num: hidden }) : window.Annotator.t("all");
    document.body.dataset.annotationsHidden = String(hidden);
    AW.refreshList();
  }

  function labelsPresent() {
    var present = {};
    AW.items.forEach(function (item) {
      var p = item.feature.properties;
      if (!p.deleted && !item.isNew) present[p.label || ""] = true;
    });
    var shown = Array.from(labelBox.querySelectorAll("input")).map(function (i) { return i.value; });
    var missing = Object.keys(present).filter(function (id) { return shown.indexOf(id) < 0; });
    missing.sort(function (a, b) { return AW.labelName(a).localeCompare(AW.labelName(b)); });
    missing.forEach(function (id) { checkbox(labelBox, "label", id, AW.labelName(id || null), AW.colour(id)); });
  }

  STATUSES.forEach(function (status) { checkbox(statusBox, "status", status, AW.statusWord(status)); });
  document.getElementById("show-all").addEventListener("click", function () {
    document.querySelectorAll("#show input[type=checkbox]").forEach(function (input) { input.checked = true; });
    hiddenStatus = {};
    hiddenLabel = {};
    refresh();
  });
  AW.on("loaded", function () { labelsPresent(); refresh(); });
  ["changed", "saved", "state"].forEach(function (name) {
    AW.on(name, function () { labelsPresent(); refresh(); });
  });
  AW.on("select", function () { if (Object.keys(hiddenStatus).length + Object.keys(hiddenLabel).length) refresh(); });
})();
