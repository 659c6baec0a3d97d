// An image across the antimeridian (180 degrees) in one piece on the map. Its bounds run
// past 180 (179.5..180.5), so on the map everything east of 180 is drawn at longitudes over
// 180; the server keeps every longitude in -180..180 (RFC 7946). Here, the one place the
// workspace meets the server (AW.request) moves geometries between the two: longitudes
// below 0 in what the server sends are drawn 360 degrees east, and a geometry drawn wholly
// past 180 is sent 360 degrees west. A polygon or line drawn across 180 itself is cut there
// into a MultiPolygon or MultiLineString (RFC 7946 section 3.1.9), its part past 180 sent
// 360 degrees west (a box cut in two is saved as a polygon). The image's tiles east of 180
// are asked for as Leaflet wraps them (its bounds check alone would skip them).
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

  function west(lon) { return lon > 180 ? lon - 360 : lon; }
  function minus360(lon) { return lon - 360; }

  // the point where the segment a-b meets 180 degrees
  function at180(a, b) {
    var t = (180 - a[0]) / (b[0] - a[0]);
    return [180, a[1] + t * (b[1] - a[1])];
  }

  // the part of a closed ring on one side of 180 (Sutherland-Hodgman against a half-plane),
  // closed; null when none. Used for holes, which the workspace does not draw.
  function clipRing(ring, east) {
    var inside = function (p) { return east ? p[0] >= 180 : p[0] <= 180; };
    var out = [];
    var push = function (p) {
      var last = out[out.length - 1];
      if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
    };
    for (var i = 0; i < ring.length - 1; i++) {
      var a = ring[i], b = ring[i + 1];
      if (inside(a)) push(a.slice());
      if (inside(a) !== inside(b) && a[0] !== 180 && b[0] !== 180) push(at180(a, b));
    }
    if (out.length < 3) return null;
    out.push(out[0].slice());
    return out;
  }

  // which side of 180 a point is on (a point on the line counts as a hair west of it)
  function eastOf180(p) { return p[0] > 180; }

  // A simple ring split at 180 into its pieces on each side, each a closed ring: the ring
  // is walked into chains, each from one crossing of 180 to the next; along the line, the
  // crossings sorted by latitude bound the polygon's inside in pairs (1st-2nd, 3rd-4th...),
  // so a piece goes on from the end of one chain to its crossing's partner, where the next
  // chain of its side starts. Concave shapes (a U across the line) make several pieces on
  // one side, which clipping the ring against the line (Sutherland-Hodgman) would join by
  // zero-width bridges along 180, an invalid polygon.
  function splitRing(ring) {
    var points = ring.slice(0, -1).map(function (p) {
      return p[0] === 180 ? [180 - 1e-9, p[1]] : p.slice();
    });
    var n = points.length, chains = [], crossings = [], current = [points[0]];
    for (var i = 1; i <= n; i++) {
      var a = points[i - 1], b = points[i % n];
      if (eastOf180(a) !== eastOf180(b)) {
        var meet = at180(a, b);
        crossings.push(meet);
        current.push(meet);
        chains.push({ east: eastOf180(a), points: current });
        current = [meet];
      }
      current.push(b);
    }
    if (!chains.length) return { west: eastOf180(points[0]) ? [] : [ring], east: eastOf180(points[0]) ? [ring] : [] };
    // the last chain runs on through points[0] into the first one
    chains[0].points = current.slice(0, -1).concat(chains[0].points);
    var order = crossings.slice().sort(function (p, q) { return p[1] - q[1]; });
    var partner = new Map();
    for (var k = 0; k + 1 < order.length; k += 2) {
      partner.set(order[k], order[k + 1]);
      partner.set(order[k + 1], order[k]);
    }
    var startingAt = new Map();
    chains.forEach(function (chain) { startingAt.set(chain.points[0], chain); });
    var pieces = { west: [], east: [] }, used = new Set();
    chains.forEach(function (chain) {
      if (used.has(chain)) return;
      var piece = [], next = chain;
      while (next && !used.has(next)) {
        used.add(next);
        piece = piece.concat(next.points);
        next = startingAt.get(partner.get(next.points[next.points.length - 1]));
      }
      if (piece.length < 3) return;
      piece.push(piece[0].slice());
      pieces[chain.east ? "east" : "west"].push(piece);
    });
    return pieces;
  }

  // whether a point is inside a closed ring (even-odd rule)
  function inRing(p, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 2; i < ring.length - 1; j = i++) {
      var a = ring[i], b = ring[j];
      if ((a[1] > p[1]) !== (b[1] > p[1]) &&
          p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]) inside = !inside;
    }
    return inside;
  }

  // a polygon's rings cut at 180: its pieces, each in -180..180, each hole with the piece
  // around it
  function cutPolygon(rings, into) {
    var outer = splitRing(rings[0]);
    [false, true].forEach(function (east) {
      var pieces = outer[east ? "east" : "west"].map(function (ring) { return [ring]; });
      rings.slice(1).forEach(function (hole) {
        var part = clipRing(hole, east);
        var around = part && pieces.find(function (piece) { return inRing(part[0], piece[0]); });
        if (around) around.push(part);
      });
      pieces.forEach(function (piece) {
        into.push(east ? mapCoordinates(piece, minus360) : piece);
      });
    });
    return into;
  }

  // a line cut at 180: its runs, each in -180..180
  function cutLine(points, into) {
    var run = [points[0].slice()];
    for (var i = 1; i < points.length; i++) {
      var a = points[i - 1], b = points[i];
      if ((a[0] < 180 && b[0] > 180) || (a[0] > 180 && b[0] < 180)) {
        var meet = at180(a, b);
        run.push(meet);
        into.push(run);
        run = [meet.slice()];
      }
      run.push(b.slice());
    }
    into.push(run);
    return into.filter(function (part) { return part.length > 1; }).map(function (part) {
      var east = part.some(function (p) { return p[0] > 180; });  // then every lon >= 180
      return east ? mapCoordinates(part, minus360) : part;
    });
  }

  function toServer(geometry) {
    var lons = longitudes(geometry.coordinates, []);
    if (!lons.length || Math.max.apply(null, lons) <= 180) return geometry;
    var shifted = Object.assign({}, geometry), c = geometry.coordinates;
    if (Math.min.apply(null, lons) >= 180) {
      shifted.coordinates = mapCoordinates(c, minus360);
      return shifted;
    }
    var pieces = null, type = geometry.type;  // across 180: cut there
    if (type === "Polygon") pieces = cutPolygon(c, []);
    if (type === "MultiPolygon") pieces = c.reduce(function (all, p) { return cutPolygon(p, all); }, []);
    if (pieces) {
      shifted.type = pieces.length === 1 ? "Polygon" : "MultiPolygon";
      shifted.coordinates = pieces.length === 1 ? pieces[0] : pieces;
      return shifted;
    }
    if (type === "LineString") pieces = cutLine(c, []);
    if (type === "MultiLineString") pieces = c.reduce(function (all, l) { return all.concat(cutLine(l, [])); }, []);
    if (pieces) {
      shifted.type = pieces.length === 1 ? "LineString" : "MultiLineString";
      shifted.coordinates = pieces.length === 1 ? pieces[0] : pieces;
      return shifted;
    }
    shifted.coordinates = mapCoordinates(c, west);  // points: each on its own side
    return shifted;
  }

  // a Feature sent: a box cut in two is two polygons, so it is saved as a polygon
  function featureToServer(value) {
    var sent = walk(value, toServer);
    var p = sent && sent.properties;
    if (p && (p.shape === "box" || p.shape === "rotated-box") && sent.geometry &&
        sent.geometry.type === "MultiPolygon") {
      sent.properties = Object.assign({}, p, { shape: "polygon" });
    }
    return sent;
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
    var sent = body === undefined ? undefined : featureToServer(body);
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
