// The site form's map (/sites/new, /sites/<slug>/edit): a click places the circle's centre,
// or Geoman draws the area (a polygon or a rectangle, one at a time, its corners draggable).
// The form's fields hold what is sent; the server checks everything again.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("site-form-data").textContent);
  var form = document.getElementById("site-form");
  var field = function (name) { return form.elements.namedItem(name); };
  var lon = field("lon"), lat = field("lat"), radius = field("radius_m"), area = field("area");
  var summary = document.getElementById("site-summary");
  var t = window.Annotator.t;  // the page's language (common.js)
  // a capture across 180 degrees in one piece (workspace/antimeridian.js): its footprint's
  // half stored at -180..0 drawn 360 degrees east, beside the other, and its tiles asked for
  var across = window.Across180;
  data.captures.forEach(function (capture) {
    if (!across.crosses(capture.bounds)) return;
    capture.footprint = across.toMap(capture.footprint);
    across.tilesOnBothSides();
    document.body.dataset.across180 = "yes";
  });

  var map = L.map("site-map", { maxZoom: 21, worldCopyJump: false, doubleClickZoom: false });
  map.attributionControl.setPrefix(false);
  if (data.basemap) {
    var credit = document.createElement("span");
    credit.textContent = data.basemap.attribution;  // deployment text, still shown as text
    L.tileLayer(data.basemap.url, { maxZoom: 21, maxNativeZoom: 19, attribution: credit.outerHTML })
      .addTo(map);
  }
  L.control.scale({ metric: true, imperial: false, maxWidth: 160 }).addTo(map);
  // Geoman's own words (its two buttons and the tooltip that follows the mouse) in the page's language
  var language = document.documentElement.lang || "en";
  if (language !== "en" && map.pm.setLang) {
    map.pm.setLang(language, {
      tooltips: {
        firstVertex: t("Click to place the first vertex"), continueLine: t("Click to continue drawing"),
        finishPoly: t("Click the first vertex to finish"), finishRect: t("Click to finish")
      },
      actions: { finish: t("Finish"), cancel: t("Cancel"), removeLastVertex: t("Remove the last vertex") },
      buttonTitles: { drawPolyButton: t("Draw a polygon"), drawRectButton: t("Draw a rectangle") }
    }, "en");
  }
  startView();  // layers are added to a map that has its view
  var context = L.featureGroup().addTo(map);
  data.captures.forEach(function (capture) {
    var b = capture.bounds;
    L.tileLayer(capture.tiles, {
      maxZoom: 21, maxNativeZoom: capture.maxzoom, tileSize: 256, attribution: "",
      bounds: L.latLngBounds([b[1], b[0]], [b[3], b[2]])
    }).addTo(map);
    var outline = L.geoJSON(capture.footprint, {
      style: { color: "#444", weight: 1, dashArray: "4 4", fill: false }, interactive: false
    }).addTo(context);
    var tip = document.createElement("span");
    tip.textContent = capture.name + (capture.day ? " · " + capture.day : "");
    outline.bindTooltip(tip, { sticky: true });
  });
  data.sites.forEach(function (site) {
    var shape = L.geoJSON(site.area, {
      style: { color: "#b35900", weight: 1.5, dashArray: "6 4", fillOpacity: 0.05 }, interactive: false
    }).addTo(context);
    var tip = document.createElement("span");
    tip.textContent = site.name;
    shape.bindTooltip(tip, { sticky: true });
  });

  function startView() {  // the site's area or circle, else every capture and site, else the world
    var bounds = null;
    var extend = function (geometry) {
      try {
        var more = L.geoJSON(geometry).getBounds();
        if (more.isValid()) bounds = bounds ? bounds.extend(more) : more;
      } catch (error) { /* a pasted text that is not GeoJSON: the server says so */ }
    };
    var x = parseFloat(lon.value), y = parseFloat(lat.value), r = parseFloat(radius.value);
    var mode = form.querySelector("input[name=shape]:checked").value;
    if (mode === "area" && area.value.trim()) {
      try { extend(JSON.parse(area.value)); } catch (error) { /* as above */ }
    } else if (mode === "circle" && isFinite(x) && isFinite(y) && Math.abs(y) <= 90) {
      bounds = L.latLng(y, x).toBounds(2 * (isFinite(r) && r > 0 ? r : 3000));
    }
    if (bounds) { map.fitBounds(bounds.pad(0.3)); return; }
    data.captures.forEach(function (capture) { extend(capture.footprint); });
    data.sites.forEach(function (site) { extend(site.area); });
    if (bounds) map.fitBounds(bounds.pad(0.1));
    else map.setView([20, 0], 2);
  }

  var STYLE = { color: "#0b5cad", weight: 2, fillOpacity: 0.12 };
  var circle = null, drawn = null;

  function shape() { return form.querySelector("input[name=shape]:checked").value; }
  function number(input) {
    var value = parseFloat(input.value);
    return isFinite(value) ? value : null;
  }

  function showCircle() {
    var x = number(lon), y = number(lat), r = number(radius);
    if (circle) { map.removeLayer(circle); circle = null; }
    if (x === null || y === null || r === null || r <= 0 || Math.abs(y) > 90) return;
    circle = L.circle([y, x], L.extend({ radius: r, interactive: false }, STYLE)).addTo(map);
  }

  function writeArea() {
    area.value = drawn ? JSON.stringify(drawn.toGeoJSON().geometry) : "";
  }

  function keep(layer) {
    if (drawn) map.removeLayer(drawn);
    drawn = layer;
    drawn.setStyle(STYLE);
    editable(drawn);
    writeArea();
  }

  function readArea() {  // the field's GeoJSON (the site's area, or one pasted) onto the map
    if (drawn) { map.removeLayer(drawn); drawn = null; }
    if (!area.value.trim()) return;
    var parsed;
    try { parsed = JSON.parse(area.value); } catch (error) { return; }
    var layers = [];
    try {
      L.geoJSON(parsed).eachLayer(function (layer) { layers.push(layer); });
    } catch (error) { return; }
    if (layers.length !== 1) return;
    drawn = layers[0];
    map.addLayer(drawn);
    drawn.setStyle(STYLE);
    editable(drawn);
  }

  function enableEditing(layer) {  // corner handles need the map's view: once it has one
    map.whenReady(function () {
      if (layer !== drawn || !map.hasLayer(layer)) return;
      layer.pm.enable({ allowSelfIntersection: true, snappable: false });
    });
  }

  function editable(layer) {
    enableEditing(layer);
    layer.on("pm:edit", function () { writeArea(); describe(); });
  }

  function describe() {
    if (shape() === "circle") {
      var x = number(lon), y = number(lat), r = number(radius);
      // the figures stay left to right (\u2066 ... \u2069: an isolate) inside the sentence
      summary.textContent = x === null || y === null
        ? t("Click the map to place the centre.")
        : t("A circle of %(radius)s m around %(where)s (lat, lon).", {
          radius: r === null ? "?" : window.Annotator.figures.number(Math.round(r)),  // figures.js
          where: "\u2066" + y.toFixed(5) + "°, " + x.toFixed(5) + "°\u2069" });
    } else {
      summary.textContent = drawn
        ? t("An area drawn on the map: %(num)s corners.", { num: drawn.getLatLngs().flat(3).length })
        : t("Draw the area with the polygon or rectangle button on the map.");
    }
  }

  function setMode() {
    var mode = shape();
    form.dataset.shape = mode;
    map.pm.disableDraw();
    if (mode === "area") {
      map.pm.addControls({
        position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false,
        drawCircle: false, drawText: false, editMode: false, dragMode: false, cutPolygon: false,
        removalMode: false, rotateMode: false, drawPolygon: true, drawRectangle: true
      });
      if (circle) { map.removeLayer(circle); circle = null; }
      if (drawn) { map.addLayer(drawn); enableEditing(drawn); }
    } else {
      map.pm.removeControls();
      if (drawn) map.removeLayer(drawn);
      showCircle();
    }
    describe();
  }

  map.on("click", function (event) {
    if (shape() !== "circle") return;
    var at = event.latlng.wrap();
    lon.value = at.lng.toFixed(6);
    lat.value = at.lat.toFixed(6);
    showCircle();
    describe();
  });
  map.on("pm:create", function (event) { keep(event.layer); describe(); });
  [lon, lat, radius].forEach(function (input) {
    input.addEventListener("input", function () { showCircle(); describe(); });
  });
  area.addEventListener("change", function () { readArea(); setMode(); });
  form.querySelectorAll("input[name=shape]").forEach(function (radio) {
    radio.addEventListener("change", setMode);
  });

  readArea();
  setMode();
  document.body.dataset.siteMap = "ready";
  window.siteFormMap = map;
})();
