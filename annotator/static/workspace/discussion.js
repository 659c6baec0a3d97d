// The selected annotation's comment thread, under the label panel: shown for a saved
// annotation, hidden while nothing (or only an unsaved shape) is selected. The thread itself
// is annotator/static/discussion.js.
(function () {
  "use strict";
  var AW = window.AW;
  var panel = document.getElementById("discussion-panel");
  var box = document.getElementById("discussion-thread");
  var count = document.getElementById("discussion-count");
  var shownId = null;

  function show(item) {
    var id = item && !item.isNew && item.feature && item.feature.id ? String(item.feature.id) : null;
    if (id === shownId) return;
    shownId = id;
    panel.hidden = !id;
    count.textContent = "";
    if (!id) { box.textContent = ""; return; }
    window.Discussion.thread(box, {
      url: panel.dataset.comments.replace("ANNOTATION_ID", encodeURIComponent(id)),
      commentUrl: panel.dataset.comment,
      people: panel.dataset.people,
      csrf: panel.dataset.csrf,
      me: panel.dataset.me,
      canWrite: Boolean(panel.dataset.canWrite),
      onChange: function (comments) {
        var live = comments.filter(function (c) { return !c.withdrawn_at; }).length;
        count.textContent = live ? "(" + live + ")" : "";
      }
    });
  }

  AW.on("select", show);
  AW.on("saved", function (item) { if (item && AW.selectedId === item.id) show(item); });
  show(AW.selected ? AW.selected() : null);
})();
