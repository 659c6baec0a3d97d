// Brightness, contrast, gamma and sharpening of the image as shown, done in the browser:
// CSS filters on the image's own tile layer (brightness, contrast) and one SVG filter (gamma
// in sRGB, a 3x3 sharpening kernel) when those are asked for. Nothing reaches the server: the
// tiles, their cache, the stored image, figures and exports stay as captured, and a slider
// answers at once. The setting belongs to this view of the page and lasts while the map moves
// (the filter sits on the layer's container, so new tiles get it too); Reset puts it back.
(function () {
  "use strict";
  var AW = window.AW;
  var SVG = "http://www.w3.org/2000/svg";
  var NEUTRAL = { brightness: 0, contrast: 0, gamma: 1, sharpen: 0 };
  var inputs = {};
  var gammaFuncs = [];
  var kernel = null;

  function svgFilter() {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", "0");
    svg.setAttribute("height", "0");
    svg.setAttribute("aria-hidden", "true");
    svg.classList.add("adjust-defs");
    var filter = document.createElementNS(SVG, "filter");
    filter.id = "aw-adjust";
    filter.setAttribute("color-interpolation-filters", "sRGB");  // gamma on the values as shown
    var transfer = document.createElementNS(SVG, "feComponentTransfer");
    ["feFuncR", "feFuncG", "feFuncB"].forEach(function (name) {
      var f = document.createElementNS(SVG, name);
      f.setAttribute("type", "gamma");
      f.setAttribute("amplitude", "1");
      f.setAttribute("offset", "0");
      f.setAttribute("exponent", "1");
      transfer.appendChild(f);
      gammaFuncs.push(f);
    });
    kernel = document.createElementNS(SVG, "feConvolveMatrix");
    kernel.setAttribute("order", "3");
    kernel.setAttribute("preserveAlpha", "true");
    kernel.setAttribute("edgeMode", "duplicate");
    filter.appendChild(transfer);
    filter.appendChild(kernel);
    svg.appendChild(filter);
    document.body.appendChild(svg);
  }

  // The setting, read from the sliders and kept inside the bounds the sliders have.
  function current() {
    var value = {};
    Object.keys(NEUTRAL).forEach(function (name) {
      var input = inputs[name];
      var number = Number(input.value);
      if (!isFinite(number)) number = NEUTRAL[name];
      value[name] = Math.min(Number(input.max), Math.max(Number(input.min), number));
    });
    return value;
  }

  // The CSS filter for a setting ("" when it is as captured).
  AW.adjustFilter = function (v) {
    var parts = [];
    if (v.brightness) parts.push("brightness(" + (1 + v.brightness / 100).toFixed(2) + ")");
    if (v.contrast) parts.push("contrast(" + (1 + v.contrast / 100).toFixed(2) + ")");
    if (v.gamma !== 1 || v.sharpen) parts.push("url(#aw-adjust)");
    return parts.join(" ");
  };

  function describe(v) {
    var t = window.Annotator.t, words = [];
    function signed(n) { return AW.ltr((n > 0 ? "+" : "") + n); }
    if (v.brightness) words.push(t("brightness %(value)s", { value: signed(v.brightness) }));
    if (v.contrast) words.push(t("contrast %(value)s", { value: signed(v.contrast) }));
    if (v.gamma !== 1) words.push(t("gamma %(value)s", { value: window.Annotator.figures.number(v.gamma, 1) }));
    if (v.sharpen) words.push(t("sharpen %(value)s", { value: v.sharpen }));
    return words.length ? words.join(t(", ")) : t("as captured");
  }

  function apply() {
    var v = current();
    var exponent = String(1 / v.gamma);  // gamma > 1 lifts the mid-tones
    gammaFuncs.forEach(function (f) { f.setAttribute("exponent", exponent); });
    var s = v.sharpen / 4, c = 1 + 4 * s;
    kernel.setAttribute("kernelMatrix", [0, -s, 0, -s, c, -s, 0, -s, 0].join(" "));
    var container = AW.imageLayer && AW.imageLayer.getContainer();
    var css = AW.adjustFilter(v);
    if (container) container.style.filter = css;
    Object.keys(inputs).forEach(function (name) {
      var output = inputs[name].parentNode.querySelector("output");
      if (output) output.textContent = name === "gamma" ? window.Annotator.figures.number(v.gamma, 1) : window.Annotator.figures.digits(String(v[name]));
    });
    document.getElementById("adjust-state").textContent = describe(v);
    document.body.dataset.adjust = css;
  }

  AW.resetAdjust = function () {
    Object.keys(NEUTRAL).forEach(function (name) { inputs[name].value = String(NEUTRAL[name]); });
    apply();
  };

  svgFilter();
  Object.keys(NEUTRAL).forEach(function (name) {
    inputs[name] = document.getElementById("adjust-" + name);
    inputs[name].addEventListener("input", apply);
  });
  document.getElementById("adjust-reset").addEventListener("click", AW.resetAdjust);
  apply();
})();
