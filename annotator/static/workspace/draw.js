// Drawing and editing. Point, box, polygon and line are Geoman's draw modes; the rotated box
// is three clicks (one side's two ends, then the far side), so an aircraft at any heading
// gets a tight box. Editing (vertices, move, rotate) puts a Geoman copy of the one selected
// shape on the map and saves each finished change.
(function () {
  "use strict";
  var AW = window.AW, map = AW.map, t = window.Annotator.t;
  var GEOMAN = { point: "CircleMarker", box: "Rectangle", polygon: "Polygon", line: "Line" };
  var DRAW_OPTIONS = {
    snappable: false, continueDrawing: false, allowSelfIntersection: false, editable: false,
    templineStyle: { color: "#ffd400" }, hintlineStyle: { color: "#ffd400", dashArray: "5 5" },
    pathOptions: { color: "#ffd400", weight: 2 }
  };
  // Geoman's own words (the tooltip that follows the mouse while drawing) in the page's language
  var language = document.documentElement.lang || "en";
  if (language !== "en" && map.pm.setLang) {
    var place = t("Click to place the point");
    map.pm.setLang(language, {
      tooltips: {
        placeMarker: place, placeCircleMarker: place, placeMarkerTouch: t("Tap the map to place the point"),
        firstVertex: t("Click to place the first vertex"), continueLine: t("Click to continue drawing"),
        finishLine: t("Click any existing vertex to finish"), finishPoly: t("Click the first vertex to finish"),
        finishRect: t("Click to finish")
      },
      actions: { finish: t("Finish"), cancel: t("Cancel"), removeLastVertex: t("Remove the last vertex") }
    }, "en");
  }
  var editRenderer = L.svg({ padding: 0.2 });
  var tool = null, working = null, rotated = null, editing = null, byKeys = false;
  var IDLE = document.getElementById("mode").textContent;  // the page's own hint, shown again on Esc
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
    if (AW.selectedId) AW.select(null);  // the panel and the readout are the new shape's from now on
    AW.clearMeasure();
    tool = name;
    byKeys = false;
    AW.drawing = true;
    if (name === "rotated-box") {
      rotated = { points: [], preview: null };
      say(t("Rotated box: click one end of a side, then its other end, then the far side."));
    } else {
      map.pm.enableDraw(GEOMAN[name], DRAW_OPTIONS);
      say({
        point: t("Drawing a point. Esc cancels."),
        box: t("Drawing a box. Esc cancels."),
        polygon: t("Drawing a polygon. Click each vertex; Enter finishes, Esc cancels."),
        line: t("Drawing a line. Click each vertex; Enter finishes, Esc cancels.")
      }[name] + " " + t("By keyboard: arrows pan, Space puts a vertex at the crosshair."));
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
    if (tool) {
      say(IDLE);
      AW.clearMeasure();
    }
    finishDrawing();
  };

  // Esc with nothing left selected: the mode line says what can be done, not what was.
  AW.on("select", function (item) { if (!item && !AW.drawing) say(IDLE); });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || document.querySelector("dialog[open]")) return;
    if (!AW.drawing && !editing && !AW.selectedId) say(IDLE);  // keys.js has nothing to end
  });

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
    say(t("Pick a label (type to search), then Save (Enter)."));
    document.getElementById("label-search").focus();
  }

  map.on("pm:drawstart", function (event) { working = event.workingLayer; });
  map.on("pm:create", function (event) {
    var geometry = event.layer.toGeoJSON().geometry;
    map.removeLayer(event.layer);
    created(geometry, tool || (event.shape === "Rectangle" ? "box" : "polygon"));
  });
  // Geoman ends a drawing itself too (its own Esc): that is a cancel, and says so
  map.on("pm:drawend", function () {
    if (!tool || tool === "rotated-box" || typed) return;  // created, or the keys took over
    finishDrawing();
    say(IDLE);
    AW.clearMeasure();
  });

  // --- live measurement of the shape being drawn ---
  // The readout is of the shape that a click (or Space) at the cursor (or crosshair) would
  // make, built by the same code that builds the shape saved: Leaflet's toGeoJSON for Geoman's
  // shapes (it rounds to 6 decimals), ring() for the rotated box and keyboard drawing.
  function ring(latlngs) {
    var coords = latlngs.map(function (ll) { return [ll.lng, ll.lat]; });
    coords.push(coords[0]);
    return coords;
  }

  function line(latlngs) {
    return { type: "LineString", coordinates: latlngs.map(function (ll) { return [ll.lng, ll.lat]; }) };
  }

  function rotatedGeometry(points) {
    if (points.length === 2) return line(points);
    if (points.length === 3) return { type: "Polygon", coordinates: [ring(rotatedCorners(points))] };
    return null;
  }

  function geomanGeometry(cursor) {
    if (tool === "point" || !working || !working._map) return null;  // no vertex placed yet
    if (tool === "box") {
      // Geoman makes the box it creates as L.rectangle([start, click]): so does the readout
      var start = map.pm.Draw.Rectangle && map.pm.Draw.Rectangle._startMarker;
      return start ? L.rectangle([start.getLatLng(), cursor]).toGeoJSON().geometry : null;
    }
    var latlngs = working.getLatLngs().concat([cursor]);
    if (tool === "polygon" && latlngs.length >= 3) return L.polygon(latlngs).toGeoJSON().geometry;
    if (latlngs.length >= 2) return L.polyline(latlngs).toGeoJSON().geometry;
    return null;
  }

  function liveGeometry(cursor) {
    if (typed) return typedGeometry(typed.points.concat([cursor]), false);
    if (rotated) return rotatedGeometry(rotated.points.concat([cursor]));
    return geomanGeometry(cursor);
  }

  function measureLive(cursor) {
    if (!AW.drawing) return;
    if (rotated) preview(cursor);
    if (typed) typedPreview(typed.points.concat([cursor]));
    var geometry = liveGeometry(cursor);
    if (geometry) AW.measure(geometry);
    else AW.clearMeasure();
  }

  // Every mouse move of the page, not Leaflet's map "mousemove": over the canvas renderer that
  // one comes at most every 32 ms, so the move onto the final corner could be missed.
  map.getContainer().addEventListener("mousemove", function (event) {
    if (!AW.drawing || typed) return;  // keyboard drawing follows the crosshair, not the mouse
    byKeys = false;
    var latlng = map.mouseEventToLatLng(event);  // as Leaflet places the click that follows
    // after Geoman's own handler of this move (if it had one) has updated its working shape
    window.queueMicrotask(function () { measureLive(latlng); });
  }, true);
  map.on("move", function () {
    if (AW.drawing && (typed || (rotated && byKeys))) measureLive(map.getCenter());
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
    var geometry = rotatedGeometry(rotated.points);
    map.removeLayer(rotated.preview);
    rotated = null;
    created(geometry, "rotated-box");
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

  // The shape the keyboard's vertices make (null: too few yet); `finished` when Enter closes it.
  function typedGeometry(points, finished) {
    var shape = typedShape(points);
    if (tool === "line") return shape.length >= 2 ? line(shape) : null;
    if (tool === "box" && !finished && points.length !== 2) return null;
    return shape.length >= 3 ? { type: "Polygon", coordinates: [ring(shape)] } : null;
  }

  // The keyboard's shape so far, drawn to the crosshair as it moves.
  function typedPreview(points) {
    var shape = typedShape(points);
    var Kind = tool === "line" || shape.length < 3 ? L.polyline : L.polygon;
    if (typed.preview) map.removeLayer(typed.preview);
    typed.preview = Kind(shape, { color: "#ffd400", weight: 2, pmIgnore: true, interactive: false,
                                  renderer: editRenderer }).addTo(map);
  }

  AW.placeAtCentre = function () {
    if (!tool) return false;
    var centre = map.getCenter();
    byKeys = true;
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
    typedPreview(typed.points);
    if (tool === "box" && typed.points.length === 2) finishTyped();
    else say(t("%(num)s vertices; Space adds one at the crosshair, Enter finishes.", { num: typed.points.length }));
    return true;
  };

  function finishTyped() {
    var geometry = typedGeometry(typed.points, true);
    map.removeLayer(typed.preview);
    typed = null;
    if (!geometry) {
      say(t("Too few vertices; the shape was dropped."));
      AW.clearMeasure();
      finishDrawing();
      return;
    }
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
    say(IDLE);
    markTools();
  };

  AW.startEdit = function (mode) {
    var item = AW.selected();
    if (!item || !AW.data.can_edit || AW.drawing) return;
    var point = item.feature.geometry.type === "Point";
    if (mode === "rotate" && point) { say(t("A point has nothing to rotate.")); return; }
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
    say({
      vertices: t("Drag a vertex; each change is saved. Esc or Enter ends editing."),
      move: t("Drag the shape; each change is saved. Esc or Enter ends editing."),
      rotate: t("Drag the rotate handle; each change is saved. Esc or Enter ends editing.")
    }[mode]);
    markTools();
  };

  AW.isEditing = function () { return Boolean(editing); };
  // A shape with at least one vertex placed and not yet finished (the unsaved-changes guard asks).
  AW.drawingStarted = function () {
    return Boolean(AW.drawing && ((typed && typed.points.length) || (rotated && rotated.points.length) ||
                                  (tool !== "point" && working && working._map)));
  };
  AW.on("select", function (item) { if (editing && (!item || item.id !== editing.id)) AW.stopEdit(); });
  AW.on("saved", function (item) { if (editing && AW.selectedId === item.id) editing.id = item.id; });

  document.querySelectorAll("[data-tool]").forEach(function (button) {
    button.addEventListener("click", function () { AW.startTool(button.dataset.tool); });
  });
  document.querySelectorAll("[data-edit]").forEach(function (button) {
    button.addEventListener("click", function () { AW.startEdit(button.dataset.edit); });
  });
})();
