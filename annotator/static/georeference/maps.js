// The editor's two maps (Leaflet, loaded as a plain script before this module): the press
// picture in L.CRS.Simple, where a picture pixel (px, py) -- origin at the top-left corner
// of the top-left pixel, in the original's pixels -- is the point (lat -py, lng px), and the
// reference: a capture of the site (its own tiles, from its TileJSON) or the site's outline.
// Numbered markers on both, and the warped preview over the reference.

const L = window.L;

export function pictureMap(element, { url, width, height }) {
  const map = L.map(element, {
    crs: L.CRS.Simple, minZoom: -6, maxZoom: 5, zoomSnap: 0.25, attributionControl: false,
    doubleClickZoom: false, boxZoom: false,
  });
  const bounds = L.latLngBounds([[-height, 0], [0, width]]);
  L.imageOverlay(url, bounds).addTo(map);
  map.fitBounds(bounds);
  map.setMaxBounds(bounds.pad(0.5));
  return map;
}

export const toPixel = (latlng) => ({ px: latlng.lng, py: -latlng.lat });
export const fromPixel = (px, py) => L.latLng(-py, px);

export function referenceMap(element) {
  const map = L.map(element, {
    zoomSnap: 0.5, attributionControl: false, doubleClickZoom: false, boxZoom: false, maxZoom: 22,
  });
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  return map;
}

// The reference shown: the outline of `site` and, when `tilejson` is given, the capture's
// tiles; resolves once the map is framed on it. Returns a function that removes both.
export async function showReference(map, site, tilejson) {
  const layers = [];
  const outline = L.geoJSON(site.area, {
    style: { color: "#ffb000", weight: 2, fill: false, interactive: false },
    interactive: false,
  }).addTo(map);
  layers.push(outline);
  let frame = outline.getBounds();
  if (tilejson) {
    const response = await fetch(tilejson, { credentials: "same-origin" });
    if (response.ok) {
      const info = await response.json();
      const [west, south, east, north] = info.bounds;
      frame = L.latLngBounds([[south, west], [north, east]]);
      const tiles = L.tileLayer(info.tiles[0], {
        minZoom: 0, maxZoom: 22, maxNativeZoom: info.maxzoom, bounds: frame, tileSize: 256,
      });
      tiles.on("load", () => { element(map).dataset.tilesLoaded = "yes"; });
      tiles.addTo(map);
      tiles.bringToBack();
      layers.push(tiles);
    }
  }
  if (frame.isValid()) map.fitBounds(frame, { padding: [8, 8] });
  return () => layers.forEach((layer) => map.removeLayer(layer));
}

const element = (map) => map.getContainer();

// A numbered marker that can be dragged; `onMove(latlng)` when dropped, `onPick()` on click.
export function numbered(latlng, number, { selected, worst, pending, onMove, onPick }) {
  const label = document.createElement("span");
  label.textContent = pending ? "?" : String(number);
  const classes = ["georef-marker"];
  if (selected) classes.push("selected");
  if (worst) classes.push("worst");
  if (pending) classes.push("pending");
  const marker = L.marker(latlng, {
    draggable: !pending,
    keyboard: false,
    icon: L.divIcon({ className: classes.join(" "), html: label, iconSize: [24, 24] }),
  });
  marker.on("dragend", () => onMove(marker.getLatLng()));
  marker.on("click", () => onPick());
  return marker;
}

// The warped picture over the reference: replaces the last one.
export function previewLayer(map) {
  let overlay = null;
  return {
    show(url, [west, south, east, north], opacity) {
      if (overlay) map.removeLayer(overlay);
      overlay = L.imageOverlay(url, [[south, west], [north, east]], { opacity, interactive: false });
      overlay.addTo(map);
      map.getContainer().dataset.preview = "shown";
    },
    opacity(value) {
      if (overlay) overlay.setOpacity(value);
    },
    clear() {
      if (overlay) map.removeLayer(overlay);
      overlay = null;
      delete map.getContainer().dataset.preview;
    },
  };
}
