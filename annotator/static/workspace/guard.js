// The unsaved-changes guard: work that is not on the server is not lost by leaving the page.
// Unsaved means a shape drawn but not saved, a save that failed or is still on its way, a
// conflict not yet settled, a note typed but not yet saved, or a shape half drawn. A link in
// the page (another image, the timeline, compare, the menu) asks first, naming what would be
// lost; anything else that unloads the page (reload, the address bar, closing the tab, the
// browser's Back) gets the browser's own "Leave site?" question through beforeunload. When
// everything is saved, nothing asks.
(function () {
  "use strict";
  var AW = window.AW, t = window.Annotator.t;
  var notes = document.getElementById("field-notes");
  var leaving = false;  // the analyst has already said yes to leaving

  var UNLABELLED = {
    point: t("unlabelled point"), box: t("unlabelled box"), "rotated-box": t("unlabelled rotated box"),
    polygon: t("unlabelled polygon"), line: t("unlabelled line"), shape: t("unlabelled shape")
  };

  function describe(item) {
    var p = item.feature.properties;
    var what = p.label ? AW.labelName(p.label) : UNLABELLED[p.shape] || UNLABELLED.shape;
    var state = item.state === "saved" ? t("note not saved") : AW.statusWord(item.state);
    return t("%(what)s (%(state)s)", { what: what, state: state });
  }

  // What leaving now would lose, in words; empty when everything is saved.
  AW.unsavedWork = function () {
    var lost = [];
    var selected = AW.selected();
    AW.items.forEach(function (item) {
      if (item.feature.properties.deleted && !item.isNew) return;
      var noteTyped = item === selected && notes && !notes.disabled &&
        notes.value !== (item.feature.properties.notes || "");
      if (item.isNew || item.state !== "saved" || noteTyped) lost.push(describe(item));
    });
    if (AW.drawingStarted && AW.drawingStarted()) lost.push(t("the shape being drawn"));
    return lost;
  };

  function refresh() {
    document.body.dataset.unsaved = String(AW.unsavedWork().length);
    leaving = false;  // a new change: leaving must be asked again
  }
  ["changed", "state", "saved", "select"].forEach(function (name) { AW.on(name, refresh); });
  if (notes) notes.addEventListener("input", refresh);

  function question(lost) {
    var shown = lost.slice(0, 5).join(t("; ")) +
      (lost.length > 5 ? t("; and %(count)s more", { count: lost.length - 5 }) : "");
    return lost.length === 1
      ? t("1 change is not saved: %(list)s. Leave this page and lose it?", { list: shown })
      : t("%(count)s changes are not saved: %(list)s. Leave this page and lose them?",
          { count: lost.length, list: shown });
  }

  window.addEventListener("beforeunload", function (event) {
    if (leaving || !AW.unsavedWork().length) return;
    event.preventDefault();
    event.returnValue = "";  // Chromium asks only when returnValue is set
  });

  // Links within the app: a question that names what would be lost.
  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey ||
        event.shiftKey || event.altKey) return;  // a new tab or window loses nothing
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || (link.target && link.target !== "_self") || link.hasAttribute("download")) return;
    var to = new URL(link.href, window.location.href);
    if (to.origin === window.location.origin && to.pathname === window.location.pathname &&
        to.search === window.location.search && to.hash) return;  // a jump within this page
    var lost = AW.unsavedWork();
    if (!lost.length) return;
    if (window.confirm(question(lost))) { leaving = true; return; }
    event.preventDefault();
  });
  refresh();
})();
