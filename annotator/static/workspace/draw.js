// Drawing and editing. Point, box, polygon and line are Geoman's draw modes; the rotated box
// is three clicks (one side's two ends, then the far side), so an aircraft at any heading
// gets a tight box. Editing (vertices, move, rotate) puts a Geoman copy of the one selected
// shape on the map and saves each finished change.
(function () {
  "use strict";
  var AW = window.AW, map = AW.map;
  var GEOMAN = { point: "CircleMarker", box: "Rectangle", polygon: "Polygon", line: "Line" };
  var NAMES = { point: "point", box: "box", "rotated-box": "rotated box", polygon: "polygon", line: "line" };
  var DRAW_OPTIONS = {
    snappable: false, continueDrawing: false, allowSelfIntersection: false, editable: false,
    templineStyle: { color: "#ffd400" }, hintlineStyle: { color: "#ffd400", dashArray: "5 5" },
    pathOptions: { color: "#ffd400", weight: 2 }
  };
  var editRenderer = L.svg({ padding: 0.2 });
  var tool = null, working = null, rotated = null, editing = null;
  AW.drawing = false;

  function say(text) { AW.emit("mode", text); }

  function markTools() {
    document.querySelectorAll("[data-tool]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.tool === tool ? "true" : "false");
    });
    document.querySelectorAll("[data-edit]").forEach(function (b) {
      b.setAttribute("aria-pressed", editing && editing.mode === b.dataset.edit ? "true" : "false");
    });
    document.body.dataset.tool = tool || "";
  }

  AW.startTool = function (name) {
    if (!AW.data.can_edit) return;
    AW.cancel();
    tool = name;
    AW.drawing = true;
    if (name === "rotated-box") {
      rotated = { points: [], preview: null };
      say("Rotated box: click one end of a side, then its other end, then the far side.");
    } else {
      map.pm.enableDraw(GEOMAN[name], DRAW_OPTIONS);
      say("Drawing a " + NAMES[name] + ". " + (name === "polygon" || name === "line"
        ? "Click each vertex; Enter finishes, Esc cancels." : "Esc cancels.") +
        " By keyboard: arrows pan, Space puts a vertex at the crosshair.");
    }
    map.getContainer().focus();
    markTools();
  };

  function finishDrawing() {
    tool = null;
    working = null;
    AW.drawing = false;
    markTools();
  }

  AW.cancel = function () {
    if (tool && tool !== "rotated-box") map.pm.disableDraw();
    if (typed && typed.preview) map.removeLayer(typed.preview);
    typed = null;
    if (rotated && rotated.preview) map.removeLayer(rotated.preview);
    rotated = null;
    if (tool) say("Drawing cancelled.");
    finishDrawing();
  };

  // Enter: close the polygon or line being drawn.
  AW.finishShape = function () {
    if (typed) { finishTyped(); return true; }
    if (tool === "polygon" || tool === "line") {
      var handler = map.pm.Draw[GEOMAN[tool]];
      if (handler && handler._finishShape) handler._finishShape();
      return true;
    }
    return Boolean(tool);
  };

  function created(geometry, shape) {
    var item = AW.addUnsaved(geometry, shape);
    finishDrawing();
    AW.select(item.id, false);
    AW.emit("changed", item);
    say("Pick a label (type to search), then Save (Enter).");
    document.getElementById("label-search").focus();
  }

  map.on("pm:drawstart", function (event) { working = event.workingLayer; });
  map.on("pm:create", function (event) {
    var geometry = event.layer.toGeoJSON().geometry;
    map.removeLayer(event.layer);
    created(geometry, tool || (event.shape === "Rectangle" ? "box" : "polygon"));
  });
  map.on("pm:drawend", function () { if (tool && tool !== "rotated-box" && !typed) finishDrawing(); });

  // --- live measurement of the shape being drawn ---
  function ring(latlngs) {
    var coords = latlngs.map(function (ll) { return [ll.lng, ll.lat]; });
    coords.push(coords[0]);
    return coords;
  }

  function workingGeometry(cursor) {
    if (tool === "rotated-box" && rotated) {
      var pts = rotated.points.concat([cursor]);
      if (pts.length === 2) return { type: "LineString", coordinates: pts.map(function (ll) { return [ll.lng, ll.lat]; }) };
      if (pts.length === 3) return { type: "Polygon", coordinates: [ring(rotatedCorners(pts))] };
      return null;
    }
    if (!working || !working._map) return null;
    var latlngs = working.getLatLngs();
    if (tool === "box") {
      latlngs = latlngs[0] || latlngs;
      return latlngs.length >= 4 ? { type: "Polygon", coordinates: [ring(latlngs)] } : null;
    }
    latlngs = latlngs.concat([cursor]);
    if (tool === "polygon" && latlngs.length >= 3) return { type: "Polygon", coordinates: [ring(latlngs)] };
    if (latlngs.length >= 2) return { type: "LineString", coordinates: latlngs.map(function (ll) { return [ll.lng, ll.lat]; }) };
    return null;
  }

  map.on("mousemove", function (event) {
    if (!AW.drawing) return;
    if (rotated) preview(event.latlng);
    var geometry = workingGeometry(event.latlng);
    if (geometry) AW.measure(geometry);
  });

  // --- the rotated box: three clicks, corners computed in Web Mercator (conformal) ---
  function rotatedCorners(latlngs) {
    var zoom = map.getMaxZoom();
    var a = map.project(latlngs[0], zoom), b = map.project(latlngs[1], zoom), c = map.project(latlngs[2], zoom);
    var dx = b.x - a.x, dy = b.y - a.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
    var nx = -dy / len, ny = dx / len;
    var h = (c.x - a.x) * nx + (c.y - a.y) * ny;
    return [a, b, L.point(b.x + nx * h, b.y + ny * h), L.point(a.x + nx * h, a.y + ny * h)].map(function (p) {
      return map.unproject(p, zoom);
    });
  }

  function preview(cursor) {
    var pts = rotated.points.concat([cursor]);
    var shape = pts.length === 3 ? rotatedCorners(pts) : pts;
    if (!rotated.preview) {
      rotated.preview = L.polygon(shape, { color: "#ffd400", weight: 2, fillOpacity: 0.1, pmIgnore: true,
                                           interactive: false, renderer: editRenderer }).addTo(map);
    } else {
      rotated.preview.setLatLngs(shape);
    }
  }

  function rotatedClick(latlng) {
    rotated.points.push(latlng);
    if (rotated.points.length < 3) { preview(latlng); return; }
    var corners = rotatedCorners(rotated.points);
    map.removeLayer(rotated.preview);
    rotated = null;
    created({ type: "Polygon", coordinates: [ring(corners)] }, "rotated-box");
  }

  map.on("click", function (event) {
    if (rotated) rotatedClick(event.latlng);
  });

  // --- drawing by keyboard: pan with the arrows, Space puts a vertex under the crosshair ---
  var typed = null;  // {points, preview} once Space has been used for a Geoman tool

  function typedShape(points) {
    if (tool === "box" && points.length === 2) {
      var b = L.latLngBounds(points);
      return [b.getNorthWest(), b.getNorthEast(), b.getSouthEast(), b.getSouthWest()];
    }
    return points;
  }

  AW.placeAtCentre = function () {
    if (!tool) return false;
    var centre = map.getCenter();
    if (tool === "rotated-box") { rotatedClick(centre); return true; }
    if (tool === "point") {
      map.pm.disableDraw();
      created({ type: "Point", coordinates: [centre.lng, centre.lat] }, "point");
      return true;
    }
    if (!typed) {
      typed = { points: [], preview: null };
      map.pm.disableDraw();  // the mouse's half-drawn shape, if any, gives way to the keys
    }
    typed.points.push(centre);
    var shape = typedShape(typed.points);
    var Kind = tool === "line" || shape.length < 3 ? L.polyline : L.polygon;
    if (typed.preview) map.removeLayer(typed.preview);
    typed.preview = Kind(shape, { color: "#ffd400", weight: 2, pmIgnore: true, interactive: false,
                                  renderer: editRenderer }).addTo(map);
    if (tool === "box" && typed.points.length === 2) finishTyped();
    else say(typed.points.length + " vertices; Space adds one at the crosshair, Enter finishes.");
    return true;
  };

  function finishTyped() {
    var shape = typedShape(typed.points);
    map.removeLayer(typed.preview);
    typed = null;
    var needed = tool === "line" ? 2 : 3;
    if (shape.length < needed) { say("Too few vertices; the shape was dropped."); finishDrawing(); return; }
    var geometry = tool === "line"
      ? { type: "LineString", coordinates: shape.map(function (ll) { return [ll.lng, ll.lat]; }) }
      : { type: "Polygon", coordinates: [ring(shape)] };
    created(geometry, tool);
  }

  // --- editing the selected shape: vertices, move, rotate ---
  function editLayer(item) {
    var options = { pmIgnore: false, renderer: editRenderer, color: AW.colour(item.feature.properties.label),
                    weight: 3, fillOpacity: 0.15 };
    return L.GeoJSON.geometryToLayer(item.feature, Object.assign({
      pointToLayer: function (f, latlng) { return L.marker(latlng, { pmIgnore: false, draggable: false }); }
    }, options));
  }

  AW.stopEdit = function () {
    if (!editing) return;
    var item = AW.items.get(editing.id);
    editing.layer.pm.disable();
    if (editing.layer.pm.disableLayerDrag) editing.layer.pm.disableLayerDrag();
    if (editing.layer.pm.disableRotate) editing.layer.pm.disableRotate();
    map.removeLayer(editing.layer);
    editing = null;
    if (item) { item.hidden = false; AW.redraw(item); }
    markTools();
  };

  AW.startEdit = function (mode) {
    var item = AW.selected();
    if (!item || !AW.data.can_edit || AW.drawing) return;
    var point = item.feature.geometry.type === "Point";
    if (mode === "rotate" && point) { say("A point has nothing to rotate."); return; }
    AW.stopEdit();
    var layer = editLayer(item).addTo(map);
    editing = { id: item.id, layer: layer, mode: mode };
    item.hidden = true;
    AW.redraw(item);
    if (point || mode === "move") layer.pm.enableLayerDrag();
    else if (mode === "rotate") layer.pm.enableRotate();
    else layer.pm.enable({ snappable: false, allowSelfIntersection: false, draggable: false });
    layer.on("pm:edit pm:dragend", function () {
      var geometry = layer.toGeoJSON().geometry;
      if (JSON.stringify(geometry) === JSON.stringify(item.feature.geometry)) return;
      var shape = item.feature.properties.shape;
      if (mode === "rotate" && shape === "box") shape = "rotated-box";
      AW.change(AW.items.get(editing ? editing.id : item.id) || item, { shape: shape }, geometry);
      AW.measure(geometry);
    });
    say({ vertices: "Drag a vertex; ", move: "Drag the shape; ", rotate: "Drag the rotate handle; " }[mode] +
        "each change is saved. Esc or Enter ends editing.");
    markTools();
  };

  AW.isEditing = function () { return Boolean(editing); };
  AW.on("select", function (item) { if (editing && (!item || item.id !== editing.id)) AW.stopEdit(); });
  AW.on("saved", function (item) { if (editing && AW.selectedId === item.id) editing.id = item.id; });

  document.querySelectorAll("[data-tool]").forEach(function (button) {
    button.addEventListener("click", function () { AW.startTool(button.dataset.tool); });
  });
  document.querySelectorAll("[data-edit]").forEach(function (button) {
    button.addEventListener("click", function () { AW.startEdit(button.dataset.edit); });
  });
})();
