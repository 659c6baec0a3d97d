// Possible duplicates and "same object as" in the workspace. A save answers with `warnings`
// (another annotation on this image, of a compatible label, overlapping or near it); the panel
// lists them for the selected annotation with: "Same object as this one" (POST .../same-as,
// so the object is counted once), "Different objects" (dismiss) and "Show it" (select and zoom
// the other). An annotation marked the same object says so, with "Count separately" to undo.
// ?annotation=<id>&duplicate=<other> (a "still there" copy that warned, from the compare page)
// opens with that warning shown. Text only (textContent): labels and ids are user data.
(function () {
  "use strict";
  var AW = window.AW, t = window.Annotator.t;
  var panel = document.getElementById("duplicate-panel");
  var list = document.getElementById("duplicate-warnings");
  var same = document.getElementById("same-object");
  var warnings = {};  // annotation id -> the warnings of its last save, minus those dismissed

  function labelOf(id) {
    var other = AW.items.get(id);
    return other ? AW.labelName(other.feature.properties.label) : t("another annotation");
  }

  function measure(warning) {
    var label = labelOf(warning.annotation);
    if (typeof warning.iou === "number") {
      return t("Possible duplicate: %(label)s on this image that overlaps this one by %(percent)s (IoU).",
               { label: label, percent: AW.ltr(window.Annotator.figures.percent(warning.iou)) });
    }
    if (typeof warning.distance_m === "number") {
      return t("Possible duplicate: %(label)s on this image that is %(distance)s from this one.",
               { label: label, distance: AW.ltr(AW.figure(warning.distance_m, 1)) + " " + AW.unit.m });
    }
    return t("Possible duplicate: %(label)s on this image that this one was copied onto.", { label: label });
  }

  function button(text, className, onClick, disabled) {
    var node = AW.el("button", className, text);
    node.type = "button";
    node.disabled = Boolean(disabled);
    node.addEventListener("click", onClick);
    return node;
  }

  function act(item, method, body, done) {
    AW.setState(item, "saving", t("saving…"));
    return AW.request(method, AW.annotationUrl(item.id, "/same-as"), body, AW.etagOf(item.feature))
      .then(function (answer) {
        if (!answer.ok) {
          AW.setState(item, "saved", "");
          AW.emit("mode", t("Not changed: %(reason)s", { reason: answer.message }));
          render(AW.selected());
          return;
        }
        var saved = AW.upsert(answer.data);
        AW.emit("saved", saved);
        AW.emit("changed", saved);
        done(saved);
      });
  }

  function markSame(item, warning) {
    act(item, "POST", { annotation: warning.annotation }, function (saved) {
      delete warnings[saved.id];
      AW.emit("mode", t("Marked the same object as the %(label)s: it is counted once.",
                        { label: labelOf(saved.feature.properties.same_as) }));
      render(AW.selected());
    });
  }

  function dismiss(item, warning) {
    warnings[item.id] = (warnings[item.id] || []).filter(function (w) { return w !== warning; });
    AW.emit("mode", t("Kept as different objects."));
    render(item);
  }

  function showOther(id) {
    if (AW.items.has(id)) AW.select(id, true);
  }

  function render(item) {
    var id = item && !item.isNew ? item.id : null;
    var shown = id ? (warnings[id] || []).filter(function (w) { return AW.items.has(w.annotation); }) : [];
    var target = id ? item.feature.properties.same_as : null;
    var locked = !item || Boolean(AW.lockReason(item));
    list.replaceChildren();
    same.replaceChildren();
    shown.forEach(function (warning) {
      var row = AW.el("li", "duplicate-warning");
      row.dataset.annotation = warning.annotation;
      row.appendChild(AW.el("p", null, measure(warning)));
      var actions = AW.el("div", "duplicate-actions");
      actions.appendChild(button(t("Same object as this one"), "same-object-yes",
        function () { markSame(item, warning); }, locked));
      actions.appendChild(button(t("Different objects"), "same-object-no",
        function () { dismiss(item, warning); }));
      actions.appendChild(button(t("Show it"), "same-object-show",
        function () { showOther(warning.annotation); }));
      row.appendChild(actions);
      list.appendChild(row);
    });
    if (target) {
      same.appendChild(AW.el("p", null, t("The same object as the %(label)s beside it: counted once, with it.",
                                          { label: labelOf(target) })));
      var undo = AW.el("div", "duplicate-actions");
      undo.appendChild(button(t("Show it"), "same-object-show", function () { showOther(target); }));
      undo.appendChild(button(t("Count separately"), "same-object-clear", function () {
        act(item, "DELETE", undefined, function (saved) {
          AW.emit("mode", t("Counted as its own object again."));
          render(saved);
        });
      }, locked));
      same.appendChild(undo);
    }
    panel.hidden = !shown.length && !target;
  }

  AW.on("saved", function (item) {
    if (item && Array.isArray(item.feature.warnings)) {
      warnings[item.id] = item.feature.warnings.slice();
      delete item.feature.warnings;  // shown once, from this save's answer
    }
    if (item && item.id === AW.selectedId) render(item);
  });
  AW.on("select", render);
  AW.on("state", function (item) { if (item && item.id === AW.selectedId) render(item); });

  var query = new URLSearchParams(window.location.search);
  var copied = query.get("annotation"), other = query.get("duplicate");
  if (copied && other && /^[0-9a-f]{32}$/.test(other)) {
    AW.ready.then(function () {
      if (!AW.items.has(copied) || !AW.items.has(other)) return;
      warnings[copied] = [{ code: "possible_duplicate", annotation: other }];
      if (AW.selectedId === copied) render(AW.selected());
    });
  }
  render(AW.selected ? AW.selected() : null);
})();
