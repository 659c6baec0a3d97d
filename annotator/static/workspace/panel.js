// The label panel of the selected annotation: type-ahead label search over the taxonomy,
// confidence, count, the label's own attributes, and notes. Changes to a saved annotation
// are saved at once; a new shape is saved with Save or Enter.
(function () {
  "use strict";
  var AW = window.AW, t = window.Annotator.t;
  var panel = document.getElementById("label-panel");
  var search = document.getElementById("label-search");
  var results = document.getElementById("label-results");
  var chosen = document.getElementById("label-chosen");
  var stateLine = document.getElementById("save-state");
  var confidence = document.getElementById("field-confidence");
  var count = document.getElementById("field-count");
  var notes = document.getElementById("field-notes");
  var attributes = document.getElementById("field-attributes");
  var saveButton = document.getElementById("save");
  var deleteButton = document.getElementById("delete");
  var mode = document.getElementById("mode");
  var options = [], active = -1, asked = 0;

  AW.on("mode", function (text) { mode.textContent = text; });

  // Why the signed-in user may not change this annotation, in words; "" when they may. The
  // server's rule (annotations.annotation.may_edit): editors change any annotation; analysts
  // only their own drafts and rejected ones.
  AW.lockReason = function (item) {
    if (!item) return "";
    var p = item.feature.properties;
    if (!AW.data.can_edit) return t("Read-only: changing annotations needs the analyst role.");
    if (item.isNew || AW.data.role === "editor" || AW.data.role === "admin") return "";
    if (p.created_by !== AW.data.user) {
      return t("Read-only: this is %(name)s's annotation; analysts change only their own.", { name: p.created_by });
    }
    if (p.status === "approved") {
      return p.updated_by
        ? t("Read-only: approved by %(name)s. Approved annotations are the record; an editor can send it back to review if it needs a change.", { name: p.updated_by })
        : t("Read-only: approved. Approved annotations are the record; an editor can send it back to review if it needs a change.");
    }
    if (p.status === "in_review") {
      return t("Read-only while in review: withdraw it to draft (W) to change it.");
    }
    return "";
  };

  function showState(item) {
    stateLine.className = "state " + item.state;
    var p = item.feature.properties;
    stateLine.textContent = item.state === "saved"
      ? t("saved · version %(version)s · %(status)s", { version: p.version, status: AW.statusWord(p.status) })
      : item.message || AW.statusWord(item.state);
  }

  function showLabel(labelId) {
    chosen.querySelector(".swatch").style.background = AW.colour(labelId);
    var name = chosen.querySelector(".name");
    name.textContent = labelId ? AW.labelName(labelId) + " (" + labelId + ")" : t("no label yet");
    name.dir = labelId ? "auto" : "";  // the taxonomy's words, in its own language
  }

  function attributeInput(name, spec, value, item) {
    var wrap = AW.el("label", "attribute");
    var words = AW.el("span", null, name.replace(/_/g, " ") + (spec.unit ? " (" + spec.unit + ")" : ""));
    words.dir = "auto";  // the taxonomy's words, in its own language
    wrap.appendChild(words);
    var input;
    if (spec.type === "enum") {
      input = document.createElement("select");
      [""].concat(spec.values).forEach(function (v) {
        var option = AW.el("option", null, v || "—");
        option.value = v;
        input.appendChild(option);
      });
      input.value = value === undefined || value === null ? "" : value;
    } else if (spec.type === "boolean") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = value === true;
    } else {
      input = document.createElement("input");
      input.type = spec.type === "string" ? "text" : "number";
      if (spec.type === "integer") input.step = "1";
      if (spec.type === "number") input.step = "any";
      if (spec.min !== undefined && spec.min !== null) input.min = spec.min;
      if (spec.max !== undefined && spec.max !== null) input.max = spec.max;
      input.value = value === undefined || value === null ? "" : value;
    }
    if (spec.description) input.title = spec.description;
    input.dataset.attribute = name;
    input.addEventListener("change", function () {
      var next = Object.assign({}, item.feature.properties.attributes || {});
      var v;
      if (spec.type === "boolean") v = input.checked;
      else if (spec.type === "number" || spec.type === "integer") v = input.value === "" ? null : Number(input.value);
      else v = input.value === "" ? null : input.value;
      if (v === null) delete next[name]; else next[name] = v;
      AW.change(item, { attributes: next });
    });
    wrap.appendChild(input);
    return wrap;
  }

  function showAttributes(item) {
    var label = AW.labels[item.feature.properties.label];
    var nodes = [AW.el("legend", null, t("Attributes"))];
    var specs = label ? label.attributes : {};
    Object.keys(specs).forEach(function (name) {
      nodes.push(attributeInput(name, specs[name], (item.feature.properties.attributes || {})[name], item));
    });
    if (nodes.length === 1) nodes.push(AW.el("p", "muted", t("this label has no attributes")));
    attributes.replaceChildren.apply(attributes, nodes);
  }

  function show(item) {
    if (!item) { panel.hidden = true; return; }
    panel.hidden = false;
    var p = item.feature.properties;
    showLabel(p.label);
    showState(item);
    search.value = "";
    closeResults();
    confidence.value = p.confidence;
    count.value = p.count;
    notes.value = p.notes || "";
    showAttributes(item);
    var editable = AW.data.can_edit && !AW.lockReason(item);
    [confidence, count, notes, saveButton, deleteButton].forEach(function (c) { c.disabled = !editable; });
    search.disabled = !AW.data.can_edit;  // looking labels up is always allowed; choosing checks
    attributes.disabled = !editable;
    panel.classList.toggle("locked", !editable);
  }

  AW.on("select", show);
  AW.on("state", function (item) { if (item.id === AW.selectedId) showState(item); });
  AW.on("saved", function (item) { if (item.id === AW.selectedId) show(item); });

  // --- type-ahead over the taxonomy (the server's Taxonomy.search) ---
  function closeResults() {
    results.hidden = true;
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
    options = [];
    active = -1;
  }

  function highlight(index) {
    active = index;
    Array.from(results.children).forEach(function (li, i) {
      li.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) search.setAttribute("aria-activedescendant", results.children[index].id);
  }

  function choose(label) {
    var item = AW.selected();
    closeResults();
    search.value = "";
    if (!item) return;
    if (AW.lockReason(item)) { AW.emit("mode", AW.lockReason(item)); return; }
    showLabel(label.id);
    AW.change(item, { label: label.id }).then(function () { showAttributes(AW.selected() || item); });
    showAttributes(item);
  }
  AW.chooseLabel = function (labelId) {
    if (AW.labels[labelId]) choose(AW.labels[labelId]);
  };

  function showResults(labels) {
    options = labels;
    var nodes = labels.map(function (label, i) {
      var li = AW.el("li", "option");
      li.id = "label-option-" + i;
      li.setAttribute("role", "option");
      li.dataset.label = label.id;
      var swatch = AW.el("span", "swatch");
      swatch.style.background = label.colour;
      li.appendChild(swatch);
      li.appendChild(AW.el("span", "name", label.name));
      li.appendChild(AW.el("span", "id muted", label.id));
      li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(label); });
      return li;
    });
    if (!nodes.length) nodes = [AW.el("li", "muted", t("no label matches"))];
    results.replaceChildren.apply(results, nodes);
    results.hidden = false;
    search.setAttribute("aria-expanded", "true");
    highlight(labels.length ? 0 : -1);
  }

  search.addEventListener("input", function () {
    var text = search.value.trim();
    if (!text) { closeResults(); return; }
    var ticket = ++asked;
    var url = AW.data.api.labels + "?limit=12&q=" + encodeURIComponent(text);
    AW.request("GET", url).then(function (answer) {
      if (ticket !== asked) return;  // a later keystroke has its own answer coming
      if (answer.ok) showResults(answer.data.labels);
    });
  });
  search.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && options.length) {
      highlight((active + 1) % options.length); event.preventDefault();
    } else if (event.key === "ArrowUp" && options.length) {
      highlight((active - 1 + options.length) % options.length); event.preventDefault();
    } else if (event.key === "Enter" && active >= 0) {
      choose(options[active]); event.preventDefault(); event.stopPropagation();
    } else if (event.key === "Enter" && results.hidden) {
      saveButton.click(); event.preventDefault();
    } else if (event.key === "Escape" && !results.hidden) {
      closeResults(); event.stopPropagation();
    }
  });
  search.addEventListener("blur", function () { window.setTimeout(closeResults, 150); });

  confidence.addEventListener("change", function () {
    var item = AW.selected();
    if (item) AW.change(item, { confidence: confidence.value });
  });
  count.addEventListener("change", function () {
    var item = AW.selected();
    var value = parseInt(count.value, 10);
    if (item) AW.change(item, { count: isNaN(value) ? count.value : value });
  });
  notes.addEventListener("change", function () {
    var item = AW.selected();
    if (item && notes.value !== (item.feature.properties.notes || "")) AW.change(item, { notes: notes.value });
  });
  notes.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      notes.dispatchEvent(new Event("change"));
    }
  });
  saveButton.addEventListener("click", function () {
    var item = AW.selected();
    if (!item) return;
    if (notes.value !== (item.feature.properties.notes || "")) item.feature.properties.notes = notes.value;
    else if (item.saving || item.state === "saved") return;  // nothing new to send
    AW.save(item);
  });
  deleteButton.addEventListener("click", function () { AW.remove(AW.selected()); });
})();
