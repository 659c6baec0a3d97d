// Measure and identify: the server measures the shape on the ellipsoid (annotations/measure.py)
// and ranks the taxonomy's aircraft by how well their reference size fits (±2 image pixels),
// so the browser and the stored measurements never disagree. While drawing, at most one
// request is in flight and the newest shape is sent next.
(function () {
  "use strict";
  var AW = window.AW;
  var values = document.getElementById("measure-values");
  var candidates = document.getElementById("size-candidates");
  var inFlight = false, waiting = null, shownFor = null;

  function metres(value) {
    if (value === undefined || value === null) return "—";
    return value >= 1000 ? (value / 1000).toFixed(2) + " km" : value.toFixed(1) + " m";
  }

  function show(result) {
    var m = result.measurements || {};
    var rows = [];
    if (m.area_m2) {
      if (result.aircraft) {
        rows.push(["length × span", result.aircraft.length_m.toFixed(1) + " × " + result.aircraft.span_m.toFixed(1) + " m"]);
      }
      rows.push(["sides", m.length_m.toFixed(1) + " × " + m.width_m.toFixed(1) + " m"]);
      rows.push(["area", m.area_m2 >= 1e6 ? (m.area_m2 / 1e6).toFixed(3) + " km²" : Math.round(m.area_m2) + " m²"]);
      if (m.heading_deg !== undefined) rows.push(["long axis", m.heading_deg.toFixed(0) + "°"]);
    } else if (m.length_m !== undefined) {
      rows.push(["length", metres(m.length_m)]);
    } else {
      rows.push(["point", "no size"]);
    }
    rows.push(["tolerance", "± " + result.tolerance_m + " m (2 px at " + result.gsd_m + " m)"]);
    var nodes = [];
    rows.forEach(function (row) {
      nodes.push(AW.el("dt", null, row[0]));
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
      button.appendChild(AW.el("span", "ref muted", c.length_m + " × " + c.span_m + " m"));
      button.appendChild(AW.el("span", "score", c.fits ? "fits" : "off by " + c.score.toFixed(1) + "×tol"));
      button.title = "use this label";
      button.disabled = !AW.data.can_edit;
      button.addEventListener("click", function () { AW.chooseLabel(c.label); });
      li.appendChild(button);
      return li;
    });
    candidates.replaceChildren.apply(candidates, list);
    document.body.dataset.measured = String(Date.now());
  }

  function send(geometry) {
    inFlight = true;
    AW.request("POST", AW.data.api.measure, { geometry: geometry, image_id: AW.data.id }).then(function (answer) {
      inFlight = false;
      if (answer.ok) show(answer.data);
      if (waiting) {
        var next = waiting;
        waiting = null;
        send(next);
      }
    });
  }

  AW.measure = function (geometry) {
    if (!geometry) return;
    if (inFlight) { waiting = geometry; return; }
    send(geometry);
  };

  function measureItem(item) {
    if (!item) return;
    shownFor = item.id;
    AW.measure(item.feature.geometry);
  }
  AW.on("select", measureItem);
  AW.on("saved", function (item) { if (item.id === AW.selectedId || shownFor === item.id) measureItem(item); });
})();
