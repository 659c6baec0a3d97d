// Undo and redo. Every step is a change on the server with its own revision: undoing a
// create deletes (soft), undoing a delete restores, undoing an edit restores the version
// before it; redo does the opposite. Nothing lives only in the browser.
(function () {
  "use strict";
  var AW = window.AW, t = window.Annotator.t;
  var done = [], undone = [];
  var busy = false;
  var undoButton = document.getElementById("undo");
  var redoButton = document.getElementById("redo");

  function refreshButtons() {
    if (undoButton) undoButton.disabled = busy || !done.length;
    if (redoButton) redoButton.disabled = busy || !undone.length;
    document.body.dataset.undo = String(done.length);
    document.body.dataset.redo = String(undone.length);
  }

  // A change the server has made: {kind: "create"|"edit"|"delete", id, from, to}.
  AW.record = function (step) {
    done.push(step);
    undone.length = 0;
    refreshButtons();
  };

  function current(id) {
    var item = AW.items.get(id);
    return item ? item.feature : null;
  }

  // The server call that takes `step` back (undo) or forward again (redo).
  function call(step, backwards) {
    var feature = current(step.id);
    if (!feature) return Promise.resolve({ ok: false, message: t("that annotation is no longer here") });
    var etag = AW.etagOf(feature);
    var remove = (step.kind === "create" && backwards) || (step.kind === "delete" && !backwards);
    if (remove) return AW.request("DELETE", AW.annotationUrl(step.id), undefined, etag);
    var body = {};
    if (step.kind === "edit") body.version = backwards ? step.from : step.to;
    return AW.request("POST", AW.annotationUrl(step.id, "/restore"), body, etag);
  }

  function run(from, to, backwards, verb) {
    if (busy || !from.length) return;
    var step = from.pop();
    busy = true;
    refreshButtons();
    call(step, backwards).then(function (answer) {
      busy = false;
      if (!answer.ok) {
        from.push(step);
        refreshButtons();
        var why = { why: answer.message };
        AW.emit("mode", verb === "undo" ? t("Could not undo: %(why)s", why) : t("Could not redo: %(why)s", why));
        return;
      }
      to.push(step);
      refreshButtons();
      var feature = answer.data;  // the server says whether it is deleted now
      var item = AW.upsert(feature);
      if (feature.properties.deleted) { if (AW.selectedId === item.id) AW.select(null); }
      else AW.select(item.id, false);  // show what came back
      AW.emit("changed", item);
      AW.emit("mode", verb === "undo" ? t("Undone (the server keeps the record).") : t("Redone."));
    });
  }

  AW.undo = function () { run(done, undone, true, "undo"); };
  AW.redo = function () { run(undone, done, false, "redo"); };
  if (undoButton) undoButton.addEventListener("click", AW.undo);
  if (redoButton) redoButton.addEventListener("click", AW.redo);
  refreshButtons();
})();
