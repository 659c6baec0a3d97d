// An image across the antimeridian (180 degrees) in one piece on the map. Its bounds run
// past 180 (179.5..180.5), so on the map everything east of 180 is drawn at longitudes over
// 180; the server keeps every longitude in -180..180 (RFC 7946). Here, the one place the
// workspace meets the server (AW.request) moves geometries between the two: longitudes
// below 0 in what the server sends are drawn 360 degrees east, and a geometry drawn wholly
// past 180 is sent 360 degrees west. A shape drawn across 180 itself is sent as it is, and
// the server refuses it in words the panel shows. The image's tiles east of 180 are asked
// for as Leaflet wraps them (its bounds check alone would skip them).
// Other pages with a map of captures (compare, the site form) load this file too and use
// window.Across180: the same moves and the same tile check, with no workspace around them.
(function () {
  "use strict";

  function mapCoordinates(coordinates, shift) {
    if (typeof coordinates[0] === "number") {
      var moved = coordinates.slice();
      moved[0] = shift(coordinates[0]);
      return moved;
    }
    return coordinates.map(function (c) { return mapCoordinates(c, shift); });
  }

  function longitudes(coordinates, into) {
    if (typeof coordinates[0] === "number") into.push(coordinates[0]);
    else coordinates.forEach(function (c) { longitudes(c, into); });
    return into;
  }

  function isGeometry(value) {
    return value && typeof value.type === "string" && Array.isArray(value.coordinates);
  }

  // A copy of `value` with every GeoJSON geometry in it passed through `change`.
  function walk(value, change) {
    if (Array.isArray(value)) return value.map(function (v) { return walk(v, change); });
    if (!value || typeof value !== "object") return value;
    if (isGeometry(value)) return change(value);
    var copy = {};
    Object.keys(value).forEach(function (key) { copy[key] = walk(value[key], change); });
    return copy;
  }

  function toMap(geometry) {
    var shifted = Object.assign({}, geometry);
    shifted.coordinates = mapCoordinates(geometry.coordinates, function (lon) {
      return lon < 0 ? lon + 360 : lon;
    });
    return shifted;
  }

  function toServer(geometry) {
    var lons = longitudes(geometry.coordinates, []);
    if (!lons.length || Math.min.apply(null, lons) <= 180) return geometry;
    var shifted = Object.assign({}, geometry);
    shifted.coordinates = mapCoordinates(geometry.coordinates, function (lon) { return lon - 360; });
    return shifted;
  }

  // bounds [west, south, east, north] of a tileset drawn past 180 (an image across it)
  function crosses(bounds) { return Boolean(bounds && bounds[2] > 180); }

  // every tile layer of the page (the image's, the minimap's) with bounds past 180: a tile
  // is wanted when it meets them on either side (Leaflet compares wrapped tiles alone)
  var checking = false;
  function tilesOnBothSides() {
    if (checking) return;
    checking = true;
    var grid = L.GridLayer.prototype, valid = grid._isValidTile;
    grid._isValidTile = function (coords) {
      if (valid.call(this, coords)) return true;
      if (!this.options.bounds) return false;
      var b = L.latLngBounds(this.options.bounds);
      var west = L.latLngBounds([[b.getSouth(), b.getWest() - 360], [b.getNorth(), b.getEast() - 360]]);
      return west.overlaps(this._tileCoordsToBounds(coords));
    };
  }

  window.Across180 = {
    crosses: crosses, toMap: toMap, toServer: toServer, walk: walk,
    tilesOnBothSides: tilesOnBothSides
  };

  var AW = window.AW, data = AW && AW.data;
  if (!(data && crosses(data.bounds))) return;
  AW.across180 = { toMap: toMap, toServer: toServer };
  if (isGeometry(data.footprint)) data.footprint = toMap(data.footprint);

  var request = AW.request;
  AW.request = function (method, url, body, etag) {
    var sent = body === undefined ? undefined : walk(body, toServer);
    return request(method, url, sent, etag).then(function (answer) {
      if (answer.data) answer.data = walk(answer.data, toMap);
      return answer;
    });
  };

  tilesOnBothSides();
  var layer = AW.imageLayer;
  layer.redraw();  // the first tiles were chosen before this check was in place
  document.body.dataset.across180 = "yes";
})();
