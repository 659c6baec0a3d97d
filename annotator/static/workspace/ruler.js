// The ruler (D): click points on the map; each leg shows its geodesic length on the WGS 84
// ellipsoid (Vincenty's inverse formula, millimetre-exact at these distances) and its initial
// bearing from true north, and the total sums the legs. It stores nothing: no annotation, no
// request, nothing the unsaved-changes guard counts. Esc clears it; D again puts it away; a
// drawing tool or an edit puts it away too.
(function () {
  "use strict";
  var AW = window.AW, map = AW.map, t = window.Annotator.t;
  var button = document.getElementById("ruler-button");
  var readout = document.getElementById("ruler-readout");
  var group = L.layerGroup().addTo(map);
  var points = [], legs = [];
  AW.ruling = false;

  // Geodesic distance (m) and initial bearing (degrees from true north) between two points.
  AW.geodesic = function (from, to) {
    var a = 6378137, f = 1 / 298.257223563, b = a * (1 - f);
    var rad = Math.PI / 180;
    var L1 = (to.lng - from.lng) * rad;
    var U1 = Math.atan((1 - f) * Math.tan(from.lat * rad));
    var U2 = Math.atan((1 - f) * Math.tan(to.lat * rad));
    var sinU1 = Math.sin(U1), cosU1 = Math.cos(U1), sinU2 = Math.sin(U2), cosU2 = Math.cos(U2);
    var lambda = L1, previous, iterations = 0;
    var sinSigma, cosSigma, sigma, cosSqAlpha, cos2SigmaM, sinLambda, cosLambda;
    do {
      sinLambda = Math.sin(lambda);
      cosLambda = Math.cos(lambda);
      sinSigma = Math.sqrt(Math.pow(cosU2 * sinLambda, 2) +
                           Math.pow(cosU1 * sinU2 - sinU1 * cosU2 * cosLambda, 2));
      if (sinSigma === 0) return { metres: 0, bearing: 0 };  // the same point
      cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosLambda;
      sigma = Math.atan2(sinSigma, cosSigma);
      var sinAlpha = cosU1 * cosU2 * sinLambda / sinSigma;
      cosSqAlpha = 1 - sinAlpha * sinAlpha;
      cos2SigmaM = cosSqAlpha ? cosSigma - 2 * sinU1 * sinU2 / cosSqAlpha : 0;
      var C = f / 16 * cosSqAlpha * (4 + f * (4 - 3 * cosSqAlpha));
      previous = lambda;
      lambda = L1 + (1 - C) * f * sinAlpha *
        (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)));
    } while (Math.abs(lambda - previous) > 1e-12 && ++iterations < 200);
    var uSq = cosSqAlpha * (a * a - b * b) / (b * b);
    var A = 1 + uSq / 16384 * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)));
    var B = uSq / 1024 * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)));
    var deltaSigma = B * sinSigma * (cos2SigmaM + B / 4 * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM) -
      B / 6 * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)));
    var metres = b * A * (sigma - deltaSigma);
    var bearing = Math.atan2(cosU2 * sinLambda, cosU1 * sinU2 - sinU1 * cosU2 * cosLambda) / rad;
    return { metres: metres, bearing: (bearing + 360) % 360 };
  };

  AW.distanceText = function (metres) {  // as Measure, the figures left to right (measure.js)
    return metres < 1000 ? AW.ltr(AW.figure(metres, 1)) + " " + AW.unit.m
      : AW.ltr(AW.figure(metres / 1000, 2)) + " " + AW.unit.km;
  };

  function bearingText(degrees) {
    return AW.ltr(window.Annotator.figures.digits(("00" + degrees.toFixed(1)).slice(-5)) + "\u00b0");
  }

  // The newest point on the map (its leg too, from the one before); the readout says the rest.
  // Legs are added, never redrawn: a label taken away fades for a moment in Leaflet.
  function addPoint(latlng) {
    points.push(latlng);
    var i = points.length - 1;
    if (i) {
      var leg = AW.geodesic(points[i - 1], latlng);
      legs.push(leg);
      L.polyline([points[i - 1], latlng], { color: "#fff", weight: 4, opacity: 0.9, interactive: false, pmIgnore: true }).addTo(group);
      L.polyline([points[i - 1], latlng], { color: "#111", weight: 2, dashArray: "6 4", interactive: false, pmIgnore: true })
        .bindTooltip(AW.distanceText(leg.metres) + " \u00b7 " + bearingText(leg.bearing),
                     { permanent: true, direction: "center", className: "ruler-label" })
        .addTo(group);
    }
    L.circleMarker(latlng, { radius: 4, color: "#111", weight: 2, fillColor: "#fff", fillOpacity: 1,
                             interactive: false, pmIgnore: true }).addTo(group);
    say();
  }

  function say() {
    var total = legs.reduce(function (sum, leg) { return sum + leg.metres; }, 0);
    var text;
    if (!points.length) text = t("Ruler: click a point on the map; each further click measures to it. Esc clears.");
    else if (points.length === 1) text = t("Ruler: click the next point.");
    else {
      var last = legs[legs.length - 1];
      var values = { leg: AW.distanceText(last.metres), bearing: bearingText(last.bearing),
                     total: AW.distanceText(total), legs: AW.ltr(legs.length) };
      text = legs.length > 1
        ? t("Last leg %(leg)s, bearing %(bearing)s; total %(total)s over %(legs)s legs. Esc clears.", values)
        : t("Last leg %(leg)s, bearing %(bearing)s. Esc clears.", values);
    }
    readout.textContent = text;
    readout.dataset.totalMetres = String(total);
    readout.dataset.points = JSON.stringify(points.map(function (p) { return [p.lat, p.lng]; }));
  }

  AW.startRuler = function () {
    if (AW.drawing) AW.cancel();
    if (AW.isEditing()) AW.stopEdit();
    AW.ruling = true;
    points = [];
    legs = [];
    group.clearLayers();
    readout.hidden = false;
    button.setAttribute("aria-pressed", "true");
    map.getContainer().classList.add("ruling");
    document.body.dataset.ruler = "on";
    say();
  };

  AW.stopRuler = function () {
    if (!AW.ruling) return;
    AW.ruling = false;
    points = [];
    legs = [];
    group.clearLayers();
    readout.hidden = true;
    readout.textContent = "";
    button.setAttribute("aria-pressed", "false");
    map.getContainer().classList.remove("ruling");
    document.body.dataset.ruler = "";
  };

  AW.toggleRuler = function () { if (AW.ruling) AW.stopRuler(); else AW.startRuler(); };

  map.on("click", function (event) {
    if (!AW.ruling) return;
    addPoint(event.latlng);
  });
  button.addEventListener("click", AW.toggleRuler);

  // A drawing tool puts the ruler away first: its clicks are the drawing's.
  var startTool = AW.startTool, startEdit = AW.startEdit;
  AW.startTool = function (name) {
    AW.stopRuler();
    startTool(name);
  };
  AW.startEdit = function (mode) {  // and so does editing a shape
    AW.stopRuler();
    startEdit(mode);
  };

  // Esc clears the ruler and nothing else (before keys.js, which would drop the selection)
  window.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !AW.ruling || document.querySelector("dialog[open]")) return;
    event.stopPropagation();
    AW.stopRuler();
  }, true);
})();
