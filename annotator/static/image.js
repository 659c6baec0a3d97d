// The image viewer: the app's own tiles on a Leaflet map, a scale bar and the cursor position.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("image-data").textContent);
  var west = data.bounds[0], south = data.bounds[1], east = data.bounds[2], north = data.bounds[3];
  var map = L.map("map", { zoomSnap: 1, attributionControl: true, maxZoom: data.maxzoom + 3 });
  var layer = L.tileLayer(data.tiles, {
    minZoom: 0,
    maxZoom: data.maxzoom + 3,
    maxNativeZoom: data.maxzoom,
    bounds: L.latLngBounds([south, west], [north, east]),
    tileSize: 256,
    attribution: ""
  }).addTo(map);
  layer.on("tileload", function () { document.body.dataset.tilesLoaded = "yes"; });
  map.fitBounds([[south, west], [north, east]]);
  L.control.scale({ metric: true, imperial: false, maxWidth: 160 }).addTo(map);
  map.attributionControl.setPrefix(false);
  var cursor = document.getElementById("cursor");
  map.on("mousemove", function (event) {
    var ll = event.latlng;
    cursor.textContent = ll.lat.toFixed(6) + "\u00b0, " + ll.lng.toFixed(6) + "\u00b0";
  });
  window.annotatorMap = map;
})();
