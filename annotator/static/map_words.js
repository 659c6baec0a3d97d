// Leaflet's own words in the page's language (issue 16), for every map made after this runs:
// the zoom buttons' titles, the scale bar's units (the figure first, then its unit, as a
// right-to-left page reads them) and the title of the attribution's "Leaflet" link. Load it
// right after leaflet.js (deferred when leaflet.js is). An English page keeps Leaflet's words.
(function () {
  "use strict";
  var L = window.L, t = window.Annotator && window.Annotator.t;
  if (!L || !t || (document.documentElement.lang || "en") === "en") return;
  L.Control.Zoom.mergeOptions({ zoomInTitle: t("Zoom in"), zoomOutTitle: t("Zoom out") });
  var units = { m: t("m"), km: t("km"), ft: t("ft"), mi: t("mi") };
  var rtl = document.documentElement.dir === "rtl";  // a right-to-left isolate keeps "50 م" in order
  var update = L.Control.Scale.prototype._updateScale;
  L.Control.Scale.include({
    _updateScale: function (scale, text, ratio) {
      var parts = String(text).split(" ");
      var words = parts[0] + " " + (units[parts[1]] || parts[1] || "");
      update.call(this, scale, rtl ? "\u2067" + words + "\u2069" : words, ratio);
    }
  });
  var prefix = L.Control.Attribution.prototype.options.prefix;
  if (typeof prefix === "string") {
    var title = t("A JavaScript library for interactive maps").replace(/[&"<>]/g, "");
    L.Control.Attribution.mergeOptions({ prefix: prefix.replace(/title="[^"]*"/, 'title="' + title + '"') });
  }
})();
