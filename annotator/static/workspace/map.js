// The map: the app's own tiles (and a basemap only when the deployment configured one),
// a scale bar, the cursor's lon/lat, and one canvas renderer for all annotations.
(function () {
  "use strict";
  var AW = window.AW, data = AW.data;
  var west = data.bounds[0], south = data.bounds[1], east = data.bounds[2], north = data.bounds[3];
  var maxZoom = data.maxzoom + 3;
  var map = L.map("map", {
    zoomSnap: 1, attributionControl: true, maxZoom: maxZoom, preferCanvas: true,
    boxZoom: false, doubleClickZoom: false
  });
  map.attributionControl.setPrefix(false);
  if (data.basemap) {
    var credit = document.createElement("span");
    credit.textContent = data.basemap.attribution;  // deployment text, still shown as text
    L.tileLayer(data.basemap.url, { maxZoom: maxZoom, maxNativeZoom: 19, attribution: credit.outerHTML })
      .addTo(map);
  }
  var layer = L.tileLayer(data.tiles, {
    minZoom: 0, maxZoom: maxZoom, maxNativeZoom: data.maxzoom,
    bounds: L.latLngBounds([south, west], [north, east]), tileSize: 256, attribution: ""
  }).addTo(map);
  layer.on("tileload", function () { document.body.dataset.tilesLoaded = "yes"; });
  AW.imageLayer = layer;  // adjust.js filters this layer only
  map.fitBounds([[south, west], [north, east]]);
  L.control.scale({ metric: true, imperial: false, maxWidth: 160 }).addTo(map);
  // the cursor's position, in the notation chosen: goto.js
  AW.map = map;
  AW.renderer = L.canvas({ padding: 0.5, tolerance: 4 });
  window.annotatorMap = map;
})();
