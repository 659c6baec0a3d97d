// The home page's map of the sites (templates/_site_map.html): each site's area as an outline
// that opens the site. A site west of Greenwich is drawn at its own (negative) longitudes; a
// site across 180 degrees (stored as RFC 7946 says: a MultiPolygon split at 180, its parts at
// 179..180 and -180..-179) is drawn in one piece, its western part moved 360 degrees east by
// workspace/antimeridian.js (window.Across180), so it is not split across the whole world.
// The bounds each site is drawn at are listed in #home-site-map-places (data-west, data-east)
// for tests and assistive tools. Names are set as text.
(function () {
  "use strict";
  var box = document.getElementById("home-site-map");
  if (!box || !window.L) return;
  var data = JSON.parse(document.getElementById("home-site-map-data").textContent);
  var places = document.getElementById("home-site-map-places");

  function longitudes(coordinates, into) {
    if (typeof coordinates[0] === "number") into.push(coordinates[0]);
    else coordinates.forEach(function (c) { longitudes(c, into); });
    return into;
  }

  // parts on both sides of 180: some point at +180 and some at -180
  function across180(area) {
    var lons = longitudes(area.coordinates, []);
    return lons.indexOf(180) >= 0 && lons.indexOf(-180) >= 0;
  }

  var map = L.map(box, { worldCopyJump: false, scrollWheelZoom: false, maxZoom: 19 });
  map.attributionControl.setPrefix(false);
  if (data.basemap) {
    var credit = document.createElement("span");
    credit.textContent = data.basemap.attribution;  // deployment text, still shown as text
    L.tileLayer(data.basemap.url, { maxZoom: 19, attribution: credit.outerHTML }).addTo(map);
  }
  map.setView([20, 0], 1);
  // a graticule every 30 degrees (to 360: a site across 180 is drawn past it), for bearings
  // when the deployment has no basemap
  var grid = { color: "#9aa5ad", weight: 0.6, interactive: false };
  for (var lon = -180; lon <= 360; lon += 30) L.polyline([[-85, lon], [85, lon]], grid).addTo(map);
  for (var lat = -60; lat <= 60; lat += 30) L.polyline([[lat, -180], [lat, 360]], grid).addTo(map);
  var group = L.featureGroup().addTo(map);
  data.sites.forEach(function (site) {
    var area = JSON.parse(site.area);
    var drawn = across180(area) ? window.Across180.toMap(area) : area;
    var layer = L.geoJSON(drawn, {
      style: { color: "#b35900", weight: 2, fillOpacity: 0.15, className: "site-outline" }
    });
    var bounds = layer.getBounds();
    // a marker at its centre, named (the outline alone is a dot at world scale)
    var marker = L.circleMarker(bounds.getCenter(), {
      radius: 6, color: "#b35900", weight: 2, fillOpacity: 0.6, className: "site-marker"
    });
    var tip = document.createElement("span");
    tip.textContent = site.name;
    tip.dir = "auto";  // a user's name in its own direction
    marker.bindTooltip(tip, { permanent: true, direction: "right", className: "site-name" });
    [layer, marker].forEach(function (shown) {
      if (typeof site.href === "string" && site.href.charAt(0) === "/") {
        shown.on("click", function () { window.location.assign(site.href); });
      }
      shown.addTo(group);
    });
    var item = document.createElement("li");
    item.dataset.slug = site.slug;
    item.dataset.west = String(bounds.getWest());
    item.dataset.east = String(bounds.getEast());
    item.dataset.south = String(bounds.getSouth());
    item.dataset.north = String(bounds.getNorth());
    item.textContent = site.name;
    item.dir = "auto";
    places.append(item);
  });
  var all = group.getBounds();
  if (all.isValid()) map.fitBounds(all.pad(0.2), { maxZoom: 12 });
  box.dataset.ready = "true";
})();
