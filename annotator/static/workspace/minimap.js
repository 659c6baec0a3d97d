// The minimap: a small second Leaflet map of the same tiles, four zoom levels out, in the
// map's lower right corner, with the main view drawn as a rectangle. A click or a drag on it
// moves the main map there; "−" folds it away. Written on the vendored Leaflet (no plugin).
(function () {
  "use strict";
  var AW = window.AW, map = AW.map, data = AW.data, t = window.Annotator.t;
  var OUT = 4;  // zoom levels between the main map and the minimap

  var Minimap = L.Control.extend({
    options: { position: "bottomright" },
    onAdd: function () {
      var box = L.DomUtil.create("div", "minimap leaflet-bar");
      box.id = "minimap";
      var toggle = L.DomUtil.create("button", "minimap-toggle", box);
      toggle.type = "button";
      toggle.textContent = "\u2212";
      toggle.title = t("Fold the overview map");
      toggle.setAttribute("aria-expanded", "true");
      var inner = L.DomUtil.create("div", "minimap-map", box);
      inner.setAttribute("role", "img");
      inner.setAttribute("aria-label", t("Overview map: the rectangle is the main view; click to move there"));
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      L.DomEvent.on(toggle, "click", function () {
        var folded = box.classList.toggle("folded");
        toggle.textContent = folded ? "+" : "\u2212";
        toggle.title = folded ? t("Show the overview map") : t("Fold the overview map");
        toggle.setAttribute("aria-expanded", folded ? "false" : "true");
        if (!folded) { this.mini.invalidateSize(); this.follow(); }
      }, this);
      this.inner = inner;
      return box;
    },
    start: function () {
      var bounds = L.latLngBounds([data.bounds[1], data.bounds[0]], [data.bounds[3], data.bounds[2]]);
      this.mini = L.map(this.inner, {
        attributionControl: false, zoomControl: false, keyboard: false, boxZoom: false,
        doubleClickZoom: false, scrollWheelZoom: false, touchZoom: false, dragging: false,
        zoomSnap: 1, inertia: false
      });
      L.tileLayer(data.tiles, {
        minZoom: 0, maxZoom: map.getMaxZoom(), minNativeZoom: data.minzoom, maxNativeZoom: data.maxzoom,
        bounds: bounds, tileSize: 256
      }).addTo(this.mini);
      this.view = L.rectangle(map.getBounds(), {
        color: "#ff7800", weight: 2, fillOpacity: 0.1, interactive: false, pmIgnore: true
      }).addTo(this.mini);
      this.follow();
      map.on("moveend zoomend resize", this.follow, this);
      // a press or a drag moves the main map; the minimap itself holds still until the release
      var self = this;
      function go(event) { map.panTo(event.latlng, { animate: false }); }
      this.mini.on("mousedown", function (event) { self.dragging = true; go(event); });
      this.mini.on("mousemove", function (event) { if (self.dragging) go(event); });
      L.DomEvent.on(document, "mouseup", function () {
        if (!self.dragging) return;
        self.dragging = false;
        self.follow();
      });
    },
    follow: function () {
      if (!this.mini) return;
      if (this.dragging) { this.view.setBounds(map.getBounds()); return; }
      var zoom = Math.max(0, map.getZoom() - OUT);
      this.mini.setView(map.getCenter(), zoom, { animate: false });
      this.view.setBounds(map.getBounds());
    }
  });

  var control = new Minimap().addTo(map);
  control.start();
  AW.minimap = control;
})();
