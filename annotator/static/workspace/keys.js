// Keyboard shortcuts (the help overlay lists them; `?` opens it). Letters act only when the
// focus is not in a text field, so typing a note never starts a drawing.
(function () {
  "use strict";
  var AW = window.AW;
  var help = document.getElementById("help-dialog");
  var TOOLS = { p: "point", b: "box", r: "rotated-box", g: "polygon", l: "line" };
  var EDITS = { e: "vertices", m: "move", t: "rotate" };

  function typing(target) {
    var tag = target && target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") return !["button", "checkbox", "radio"].includes(target.type);
    return Boolean(target && target.isContentEditable);
  }

  AW.toggleHelp = function () {
    if (help.open) help.close(); else help.showModal();
  };
  document.getElementById("help-button").addEventListener("click", AW.toggleHelp);
  document.getElementById("help-close").addEventListener("click", function () { help.close(); });

  document.addEventListener("keydown", function (event) {
    if (document.querySelector("dialog[open]")) return;  // a dialog handles its own keys
    var key = event.key;
    var ctrl = event.ctrlKey || event.metaKey;
    if (ctrl && (key === "z" || key === "Z")) {
      if (typing(event.target)) return;  // the field's own undo
      event.preventDefault();
      if (event.shiftKey) AW.redo(); else AW.undo();
      return;
    }
    if (ctrl && (key === "y" || key === "Y") && !typing(event.target)) {
      event.preventDefault();
      AW.redo();
      return;
    }
    if (key === "Escape") {
      if (AW.drawing) AW.cancel();
      else if (AW.isEditing()) AW.stopEdit();
      else if (AW.selectedId) AW.select(null);
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target) || ctrl || event.altKey) return;
    if (key === "Enter") {
      if (event.target && event.target.tagName === "BUTTON") return;  // the button's own action
      event.preventDefault();
      if (AW.drawing) AW.finishShape();
      else if (AW.isEditing()) AW.stopEdit();
      else document.getElementById("save").click();
      return;
    }
    if (key === "Delete") {
      var item = AW.selected();
      if (item && AW.lockReason(item)) { AW.emit("mode", AW.lockReason(item)); return; }
      if (item && AW.data.can_edit) { event.preventDefault(); AW.stopEdit(); AW.remove(item); }
      return;
    }
    if (key === " " && AW.drawing) { event.preventDefault(); AW.placeAtCentre(); return; }
    if (key === "?") { event.preventDefault(); AW.toggleHelp(); return; }
    if (key === "/") { event.preventDefault(); document.getElementById("label-search").focus(); return; }
    var lower = key.toLowerCase();
    if (lower === "n") { event.preventDefault(); AW.step(event.shiftKey ? -1 : 1); return; }
    if (event.shiftKey) return;
    if (lower === "s" || lower === "w") {  // submit for review / withdraw to draft (status.js)
      event.preventDefault();
      AW.setStatus(lower === "s" ? "in_review" : "draft");
      return;
    }
    if (TOOLS[lower]) { event.preventDefault(); AW.startTool(TOOLS[lower]); return; }
    if (EDITS[lower]) { event.preventDefault(); AW.startEdit(EDITS[lower]); }
  });
})();
