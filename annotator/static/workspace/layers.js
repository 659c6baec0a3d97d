// The annotations of this image: one record per annotation (its Feature, version and save
// state) and one canvas layer each, coloured by its label. Geoman never sees these layers
// (opt-in mode): only the one shape being edited becomes a Geoman layer, so 5,000 shapes
// cost the editor nothing.
(function () {
  "use strict";
  var AW = window.AW, t = window.Annotator.t;
  L.PM.setOptIn(true);
  AW.items = new Map();
  AW.labels = {};
  AW.group = L.featureGroup().addTo(AW.map);
  var nextTemporary = 1;

  AW.etagOf = function (feature) {
    return '"' + feature.id + "-v" + feature.properties.version + '"';
  };

  AW.colour = function (labelId) {
    var label = labelId && AW.labels[labelId];
    return label ? label.colour : "#f59e0b";
  };

  AW.labelName = function (labelId) {
    var label = labelId && AW.labels[labelId];
    return label ? label.name : labelId || t("no label");
  };

  function style(item) {
    var selected = AW.selectedId === item.id;
    var status = item.feature.properties.status;
    return {
      renderer: AW.renderer, pmIgnore: true, color: AW.colour(item.feature.properties.label),
      weight: selected ? 4 : 2, opacity: 1, fillOpacity: selected ? 0.25 : 0.08,
      dashArray: item.state === "saved" ? (status === "draft" ? "6 4" : null) : "2 4"
    };
  }

  function makeLayer(item) {
    var options = style(item);
    var layer = L.GeoJSON.geometryToLayer(item.feature, Object.assign({
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, Object.assign({ radius: 6 }, options));
      }
    }, options));
    layer.on("click", function (event) {
      if (AW.drawing || AW.ruling) return;  // clicks while drawing (or measuring) belong to it
      L.DomEvent.stopPropagation(event);
      AW.select(item.id, false);
    });
    layer.on("mouseover", function () {
      if (!layer.getTooltip()) {
        // built from text nodes: a label or note can never become HTML here
        var tip = AW.el("span", null, tooltipText(item));
        tip.dir = "auto";  // a label or note in Arabic reads right to left
        layer.bindTooltip(tip, { sticky: true });
        layer.openTooltip();
      } else {
        layer.setTooltipContent(AW.el("span", null, tooltipText(item)));
      }
    });
    return layer;
  }

  function tooltipText(item) {
    var p = item.feature.properties;
    var text = AW.labelName(p.label) + " · " + AW.statusWord(item.state === "saved" ? p.status : item.state);
    if (p.notes) text += " · " + p.notes.slice(0, 80);
    return text;
  }

  AW.restyle = function (item) {
    if (item.layer) item.layer.setStyle(style(item));
  };

  // Add or refresh one annotation from a Feature the server sent.
  AW.upsert = function (feature, oldId) {
    var item = AW.items.get(oldId || feature.id);
    if (item && oldId && oldId !== feature.id) AW.items.delete(oldId);
    if (!item) item = { id: feature.id };
    item.id = feature.id;
    item.feature = feature;
    item.state = "saved";
    item.message = "";
    AW.items.set(item.id, item);
    AW.redraw(item);
    return item;
  };

  // A shape drawn here but not yet on the server.
  AW.addUnsaved = function (geometry, shape) {
    var id = "new-" + nextTemporary++;
    var feature = {
      type: "Feature", id: id, geometry: geometry,
      properties: { label: null, shape: shape, confidence: "probable", count: 1,
                    attributes: {}, notes: "", status: "draft", version: 0,
                    created_by: AW.data.user, image_id: AW.data.id }
    };
    var item = { id: id, feature: feature, state: "unsaved", isNew: true,
                 message: t("not saved yet: pick a label, then Save (Enter)") };
    AW.items.set(id, item);
    AW.redraw(item);
    return item;
  };

  AW.redraw = function (item) {
    if (item.layer) AW.group.removeLayer(item.layer);
    item.layer = null;
    if (item.feature.properties.deleted || item.hidden || item.filtered) return;  // filtered: toggles.js
    item.layer = makeLayer(item);
    AW.group.addLayer(item.layer);
  };

  AW.forget = function (item) {
    if (item.layer) AW.group.removeLayer(item.layer);
    AW.items.delete(item.id);
  };

  AW.setState = function (item, state, message) {
    item.state = state;
    item.message = message || "";
    AW.restyle(item);
    AW.emit("state", item);
  };

  AW.select = function (id, zoom) {
    var previous = AW.selectedId && AW.items.get(AW.selectedId);
    AW.selectedId = id;
    if (previous) AW.restyle(previous);
    var item = id && AW.items.get(id);
    if (item) {
      AW.restyle(item);
      if (item.layer && item.layer.bringToFront) item.layer.bringToFront();
      if (zoom && item.layer) {
        var bounds = item.layer.getBounds ? item.layer.getBounds() : L.latLngBounds([item.layer.getLatLng()]);
        AW.map.fitBounds(bounds.pad(1.5), { maxZoom: AW.map.getMaxZoom() - 1, animate: false });
      }
    }
    AW.emit("select", item || null);
  };

  AW.selected = function () {
    return AW.selectedId ? AW.items.get(AW.selectedId) || null : null;
  };

  function start() {
    var shown = 0;
    var url = AW.data.api.annotations + "?image=" + encodeURIComponent(AW.data.id) + "&limit=10000";
    return AW.loadAll(url, function (features) {
      features.forEach(function (feature) {
        var item = { id: feature.id, feature: feature, state: "saved", message: "" };
        AW.items.set(item.id, item);
        item.layer = makeLayer(item);
        AW.group.addLayer(item.layer);
        shown += 1;
      });
    }).then(function () {
      document.body.dataset.annotationsShown = String(shown);
      AW.emit("loaded", shown);
      // the canvas draws on the next animation frame; the frame after that has painted it
      window.requestAnimationFrame(function () {
        window.requestAnimationFrame(function () {
          document.body.dataset.annotationsRendered = String(Math.round(performance.now()));
        });
      });
    }, function (error) {
      AW.emit("mode", "Could not load the annotations: " + error.message);
    });
  }

  AW.ready = AW.request("GET", AW.data.api.labels).then(function (answer) {
    if (answer.ok) {
      answer.data.labels.forEach(function (label) { AW.labels[label.id] = label; });
    }
    return start();
  });
})();
