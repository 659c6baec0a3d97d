// Measure and identify: the server measures the shape on the ellipsoid (annotations/measure.py,
// the very function that stores an annotation's measurements) and ranks the taxonomy's aircraft
// by how well their reference size fits (±2 image pixels), so what the panel shows and what is
// stored never disagree. The browser does not measure: it sends the shape it would save.
//
// While drawing, the shape changes with every mouse move. At most one request is in flight,
// requests are at least MIN_GAP ms apart, and only the newest shape waits its turn, so a moving
// mouse costs the server at most ~1000/MIN_GAP requests a second. An answer that comes back
// after the readout was cleared (Esc, a new tool, nothing selected) is thrown away. The panel's
// data-measure says where it stands: "empty", "pending" (a newer shape is on its way),
// "current" (the values are the newest shape's) or "unmeasurable" (the shape so far has no size).
(function () {
  "use strict";
  var AW = window.AW, t = window.Annotator.t;
  var MIN_GAP = 100;
  var panel = document.getElementById("measure-panel");
  var values = document.getElementById("measure-values");
  var candidates = document.getElementById("size-candidates");
  var newest = null, newestKey = null, sentKey = null;
  var inFlight = false, timer = null, lastSent = 0, generation = 0, shownFor = null;

  function mark(state) { panel.dataset.measure = state; }

  // Figures stay left to right inside a right-to-left page: "73.2 × 69.1" isolated (LRI ... PDI,
  // as <bdi dir="ltr">) so its numbers are not reordered, the unit after it in the page's words.
  var RTL = document.documentElement.dir === "rtl";
  AW.ltr = function (text) { return RTL ? "\u2066" + text + "\u2069" : String(text); };
  AW.unit = { m: t("m"), km: t("km"), m2: t("m²"), km2: t("km²") };
  AW.metresText = function (value) {
    if (value === undefined || value === null) return "—";
    return value >= 1000 ? AW.ltr(AW.figure(value / 1000, 2)) + " " + AW.unit.km
      : AW.ltr(AW.figure(value, 1)) + " " + AW.unit.m;
  };
  // The readout's row names, by the English key placement.js also matches on.
  var NAMES = {
    "length × span": t("length × span"), sides: t("sides"), area: t("area"),
    "long axis": t("long axis"), length: t("length"), point: t("point"),
    tolerance: t("tolerance"), placement: t("placement"), shape: t("shape")
  };
  AW.measureName = function (key) { return NAMES[key] || key; };

  function show(result) {
    var m = result.measurements || {};
    var rows = [];
    var ltr = AW.ltr, unit = AW.unit;
    if (m.area_m2) {
      if (result.aircraft) {
        rows.push(["length × span", ltr(AW.figure(result.aircraft.length_m, 1) + " × " + AW.figure(result.aircraft.span_m, 1)) + " " + unit.m]);
      }
      rows.push(["sides", ltr(AW.figure(m.length_m, 1) + " × " + AW.figure(m.width_m, 1)) + " " + unit.m]);
      rows.push(["area", m.area_m2 >= 1e6 ? ltr(AW.figure(m.area_m2 / 1e6, 3)) + " " + unit.km2 : ltr(AW.figure(Math.round(m.area_m2))) + " " + unit.m2]);
      if (m.heading_deg !== undefined) rows.push(["long axis", ltr(AW.figure(m.heading_deg, 0) + "°")]);
    } else if (m.length_m !== undefined) {
      rows.push(["length", AW.metresText(m.length_m)]);
    } else {
      rows.push(["point", t("no size")]);
    }
    rows.push(["tolerance", t("± %(tolerance)s m (2 px at %(gsd)s m)",
                              { tolerance: ltr(AW.figure(result.tolerance_m)), gsd: ltr(AW.figure(result.gsd_m)) })]);
    if (AW.withPlacement) rows = AW.withPlacement(result, rows);  // "± N m" (placement.js)
    var nodes = [];
    rows.forEach(function (row) {
      nodes.push(AW.el("dt", null, AW.measureName(row[0])));
      nodes.push(AW.el("dd", "value", row[1]));
    });
    values.replaceChildren.apply(values, nodes);
    var list = (result.candidates || []).map(function (c) {
      var li = AW.el("li", c.fits ? "fits" : "misses");
      var button = AW.el("button", "candidate");
      button.type = "button";
      button.dataset.label = c.label;
      var swatch = AW.el("span", "swatch");
      swatch.style.background = c.colour;
      button.appendChild(swatch);
      button.appendChild(AW.el("span", "name", c.name));
      button.appendChild(AW.el("span", "ref muted", ltr(c.length_m + " × " + c.span_m) + " " + unit.m));
      button.appendChild(AW.el("span", "score", c.fits ? t("fits")
        : t("off by %(times)s×tol", { times: ltr(AW.figure(c.score, 1)) })));
      button.title = t("use this label");
      button.disabled = !AW.data.can_edit;
      button.addEventListener("click", function () { AW.chooseLabel(c.label); });
      li.appendChild(button);
      return li;
    });
    candidates.replaceChildren.apply(candidates, list);
    document.body.dataset.measured = String(Date.now());
  }

  function empty(note) {
    values.replaceChildren.apply(values, note ? [AW.el("dt", null, NAMES.shape), AW.el("dd", "value", note)] : []);
    candidates.replaceChildren();
  }

  // --- what the server would refuse is never sent (a 400 would be a console error) ---
  function distinct(points) {
    var out = [];
    points.forEach(function (p) {
      var last = out[out.length - 1];
      if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
    });
    return out;
  }

  function turn(a, b, c) {
    var v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    return v > 0 ? 1 : v < 0 ? -1 : 0;
  }

  function within(a, b, p) {  // p, collinear with a-b, lies on the segment a-b
    return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) &&
           Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
  }

  function touch(a, b, c, d) {
    var t1 = turn(a, b, c), t2 = turn(a, b, d), t3 = turn(c, d, a), t4 = turn(c, d, b);
    if (t1 !== t2 && t3 !== t4) return true;
    return (t1 === 0 && within(a, b, c)) || (t2 === 0 && within(a, b, d)) ||
           (t3 === 0 && within(c, d, a)) || (t4 === 0 && within(c, d, b));
  }

  function simpleRing(ring) {
    var pts = distinct(ring);
    if (pts.length && pts[0][0] === pts[pts.length - 1][0] && pts[0][1] === pts[pts.length - 1][1]) pts.pop();
    var n = pts.length;
    if (n < 3) return false;
    var twice = 0;
    for (var k = 0; k < n; k++) {
      var p = pts[k], q = pts[(k + 1) % n], r = pts[(k + 2) % n];
      twice += p[0] * q[1] - q[0] * p[1];
      // an edge that doubles back over the one before it is a spike, not a ring
      if (turn(p, q, r) === 0 && (q[0] - p[0]) * (r[0] - q[0]) + (q[1] - p[1]) * (r[1] - q[1]) < 0) return false;
    }
    if (twice === 0) return false;
    for (var i = 0; i < n; i++) {
      for (var j = i + 2; j < n; j++) {
        if (i === 0 && j === n - 1) continue;  // neighbours through the closing vertex
        if (touch(pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n])) return false;
      }
    }
    return true;
  }

  AW.measurable = function (geometry) {
    if (!geometry) return false;
    if (geometry.type === "Point") return true;
    if (geometry.type === "LineString") return distinct(geometry.coordinates).length >= 2;
    if (geometry.type === "Polygon") return simpleRing(geometry.coordinates[0]);
    return false;
  };

  // --- at most one request in flight, MIN_GAP apart, the newest shape next ---
  function pump() {
    if (inFlight || timer || newestKey === null || newestKey === sentKey) return;
    var wait = lastSent + MIN_GAP - Date.now();
    if (wait > 0) {
      timer = window.setTimeout(function () { timer = null; pump(); }, wait);
      return;
    }
    var key = newestKey, mine = generation;
    inFlight = true;
    lastSent = Date.now();
    sentKey = key;
    AW.request("POST", AW.data.api.measure, { geometry: newest, image_id: AW.data.id }).then(function (answer) {
      inFlight = false;
      if (mine === generation) {  // not cleared meanwhile
        if (answer.ok) show(answer.data);
        else empty(t("not measured: %(reason)s", { reason: answer.message }));
        mark(key === newestKey ? "current" : "pending");
      }
      pump();
    });
  }

  // Show the measurements of `geometry` (a GeoJSON geometry as it would be saved).
  AW.measure = function (geometry) {
    if (!AW.measurable(geometry)) {
      AW.clearMeasure(geometry ? t("no size yet") : null);
      if (geometry) mark("unmeasurable");
      return;
    }
    var key = JSON.stringify(geometry);
    if (key === newestKey) return;
    newest = geometry;
    newestKey = key;
    mark("pending");
    pump();
  };

  // Nothing is drawn or selected: no values, and any answer still on its way is dropped.
  AW.clearMeasure = function (note) {
    generation += 1;
    newest = newestKey = sentKey = shownFor = null;
    if (timer) window.clearTimeout(timer);
    timer = null;
    empty(note);
    mark("empty");
  };

  function measureItem(item) {
    if (!item) { if (!AW.drawing) AW.clearMeasure(); return; }
    shownFor = item.id;
    AW.measure(item.feature.geometry);
  }
  AW.on("select", measureItem);
  AW.on("saved", function (item) { if (item.id === AW.selectedId || shownFor === item.id) measureItem(item); });
  mark("empty");
})();
