// The compare view: two captures side by side with pan and zoom in step, or one map
// with a swipe divider. Each side shows its own annotations, read-only; "Still there on
// this date" copies one to the other capture as a new draft. User text goes in as text.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("compare-data").textContent);
  var t = window.Annotator.t;  // the page's language (common.js)
  var STATUS = { draft: "draft", in_review: "in review", approved: "approved", rejected: "rejected" };
  var CONFIDENCE = { confirmed: "confirmed", probable: "probable", possible: "possible" };
  function statusWord(status) { return STATUS[status] ? t(STATUS[status]) : String(status).replace("_", " "); }
  function confidenceWord(value) { return CONFIDENCE[value] ? t(CONFIDENCE[value]) : String(value); }
  // a label's or a user's name as an element of its own: data, in its own direction
  function bdi(text) {
    var own = document.createElement("bdi");
    own.textContent = String(text);
    return own;
  }
  // names for a t() sentence: `slots` go in as its values, `fill` makes the sentence a node
  // with each name in its own <bdi>
  function named(values) {
    var slots = {};
    Object.keys(values).forEach(function (key) { slots[key] = "\u0000" + key + "\u0000"; });
    return { slots: slots, fill: function (said) {
      var fragment = document.createDocumentFragment();
      said.split("\u0000").forEach(function (part, index) {
        if (index % 2 === 0) { if (part) { fragment.appendChild(document.createTextNode(part)); } }
        else { fragment.appendChild(bdi(values[part])); }
      });
      return fragment;
    } };
  }
  var SIDES = ["left", "right"];
  var message = document.getElementById("message");
  var layers = {};  // side -> L.GeoJSON of its annotations
  var mapOf = {};  // side -> the Leaflet map it is drawn on
  var reveal = function () {};  // swipe mode: move the divider so a side shows
  // a capture across 180 degrees in one piece (workspace/antimeridian.js): its tiles east of
  // 180 are asked for, and its annotations stored at -180..0 drawn 360 degrees east
  var across = window.Across180;
  function onMap(side, value) {
    return across.crosses(data[side].bounds) ? across.walk(value, across.toMap) : value;
  }
  if (SIDES.some(function (side) { return across.crosses(data[side].bounds); })) {
    across.tilesOnBothSides();
    document.body.dataset.across180 = "yes";
  }

  function say(text, isError) {  // text, or a node of text with names in <bdi>
    message.textContent = "";
    message.append(text);
    message.classList.toggle("error", Boolean(isError));
  }

  function other(side) { return side === "left" ? "right" : "left"; }

  function boundsOf(side) {
    var b = data[side].bounds;
    return L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
  }

  function dateOf(side) {
    var when = data[side].captured_at;
    return when ? when.slice(0, 10) : t("the other capture");
  }

  function tiles(side, pane) {
    var info = data[side];
    return L.tileLayer(info.tiles, {
      pane: pane, minZoom: 0, maxZoom: info.maxzoom + 3, maxNativeZoom: info.maxzoom,
      bounds: boundsOf(side), tileSize: 256, attribution: ""
    });
  }

  function makeMap(element) {
    // no deeper than the sharper capture can be magnified (its tiles' zoom plus three)
    var maxZoom = Math.max(data.left.maxzoom, data.right.maxzoom) + 3;
    var map = L.map(element, { zoomSnap: 1, maxZoom: maxZoom });
    map.attributionControl.setPrefix(false);
    L.control.scale({ metric: true, imperial: false, maxWidth: 160 }).addTo(map);
    // the view in the DOM, so tests and tools can read it without running script
    map.on("moveend zoomend", function () {
      var c = map.getCenter();
      element.dataset.zoom = String(map.getZoom());
      element.dataset.center = c.lat.toFixed(6) + "," + c.lng.toFixed(6);
    });
    return map;
  }

  function popupFor(side, feature) {
    var p = feature.properties;
    var box = document.createElement("div");
    box.className = "annotation-popup";
    var title = document.createElement("strong");
    title.appendChild(bdi(p.label_name || p.label));
    box.appendChild(title);
    var facts = document.createElement("span");
    var author = named({ name: p.created_by });
    facts.appendChild(document.createTextNode(statusWord(p.status) + " · " + confidenceWord(p.confidence) + " · "));
    facts.appendChild(author.fill(t("by %(name)s", author.slots)));
    if (p.count > 1) { facts.appendChild(document.createTextNode(" · " + t("count %(num)s", { num: p.count }))); }
    box.appendChild(facts);
    if (p.derived_from) {
      var from = document.createElement("div");
      from.className = "muted";
      var source = named({ id: p.derived_from });
      from.appendChild(source.fill(t("copied from annotation %(id)s", source.slots)));
      box.appendChild(from);
    }
    if (p.notes) {
      var notes = document.createElement("div");
      notes.className = "notes";
      notes.textContent = p.notes;
      notes.dir = "auto";
      box.appendChild(notes);
    }
    if (data.canCopy) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-to-other";
      button.textContent = t("Still there on %(date)s", { date: dateOf(other(side)) });
      button.addEventListener("click", function () { copy(side, feature, button); });
      box.appendChild(button);
    }
    return box;
  }

  function annotationLayer(side, map, pane) {
    var renderer = L.svg({ pane: pane, padding: 0.5 });
    var layer = L.geoJSON(null, {
      pane: pane,
      renderer: renderer,
      style: function (feature) {
        var colour = data.colours[feature.properties.label] || "#ff00ff";
        var dashed = feature.properties.status === "draft" || feature.properties.status === "rejected";
        return { color: colour, weight: 2, fillOpacity: 0.12, dashArray: dashed ? "5 4" : null };
      },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 6, renderer: renderer, pane: pane });
      },
      onEachFeature: function (feature, path) {
        var tip = document.createElement("span");
        tip.textContent = feature.properties.label_name || feature.properties.label;
        tip.dir = "auto";
        path.bindTooltip(tip, { sticky: true });
        path.bindPopup(function () { return popupFor(side, feature); });
        path.on("add", function () {
          var element = path.getElement && path.getElement();
          if (element) {
            element.setAttribute("data-annotation-id", feature.id);
            element.setAttribute("data-side", side);
            element.classList.add("annotation", "annotation-" + side);
          }
        });
      }
    });
    layers[side] = layer;
    layer.addTo(map);
    return layer;
  }

  function showCount(side) {
    var count = layers[side].getLayers().length;
    var element = document.getElementById(side + "-count");
    element.textContent = count === 1 ? t("1 annotation") : t("%(num)s annotations", { num: count });
    element.dataset.count = String(count);
    showList(side);
  }

  // the same annotations as a list of buttons, so the keyboard reaches each one
  function showList(side) {
    var list = document.getElementById(side + "-list");
    list.textContent = "";
    layers[side].eachLayer(function (path) {
      var p = path.feature.properties;
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.dataset.annotationId = path.feature.id;
      button.appendChild(bdi(p.label_name || p.label));
      button.appendChild(document.createTextNode(" · " + statusWord(p.status)));
      button.addEventListener("click", function () { focusOn(side, path); });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function focusOn(side, path) {
    var map = mapOf[side];
    reveal(side);
    var where = path.getBounds ? path.getBounds() : L.latLngBounds([path.getLatLng()]);
    map.fitBounds(where, { maxZoom: Math.max(map.getZoom(), 17), animate: false });
    path.openPopup(where.getCenter());
    var button = document.querySelector(".leaflet-popup .copy-to-other");
    if (button) { button.focus(); }
  }

  function load(side, cursorUrl) {
    var url = cursorUrl || data.annotations + "?image=" + encodeURIComponent(data[side].id) +
      "&limit=10000";
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) {
          var failed = { status: response.status };
          throw new Error(side === "left" ? t("the left capture's annotations could not be loaded (HTTP %(status)s)", failed)
            : t("the right capture's annotations could not be loaded (HTTP %(status)s)", failed));
        }
        return response.json();
      })
      .then(function (collection) {
        layers[side].addData(onMap(side, collection));
        var next = (collection.links || []).filter(function (l) { return l.rel === "next"; })[0];
        if (next) { return load(side, next.href); }
        showCount(side);
        document.body.dataset[side + "Annotations"] = "loaded";
      })
      .catch(function (error) { say(error.message, true); });
  }

  // A copy onto a capture that shows the object already: say so, with a link to the workspace
  // on that capture where the copy can be marked the same object (counted once).
  function warnOfDuplicates(target, copied) {
    var found = (copied.warnings || [])[0];
    if (!found) { return; }
    var label = named({ label: found.label_name || found.label });
    var said = copied.warnings.length > 1
      ? t("Possible duplicate: that capture has a %(label)s there already (and %(num)s more).",
        { label: label.slots.label, num: copied.warnings.length - 1 })
      : t("Possible duplicate: that capture has a %(label)s there already.", label.slots);
    message.appendChild(label.fill(" " + said + " "));
    var link = document.createElement("a");
    link.className = "duplicate-link";
    link.href = data.workspace.replace("IMAGE_ID", encodeURIComponent(data[target].id)) +
      "?annotation=" + encodeURIComponent(copied.id) + "&duplicate=" + encodeURIComponent(found.annotation);
    link.textContent = t("Open it to mark the same object");
    message.appendChild(link);
    message.classList.add("warning");
  }

  function copy(side, feature, button) {
    var target = other(side);
    button.disabled = true;
    fetch(data.annotations + "/" + encodeURIComponent(feature.id) + "/copy", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": data.csrf },
      body: JSON.stringify({ image: data[target].id })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, status: response.status, body: body }; });
    }).then(function (result) {
      if (!result.ok) {
        button.disabled = false;
        say(t("Not copied: %(why)s", { why: window.Annotator.refusalText(result.body, result.status) }), true);
        return;
      }
      layers[target].addData(onMap(target, result.body));
      showCount(target);
      var made = named({ id: result.body.id });
      say(made.fill(t("Copied to %(date)s as a new draft (%(id)s), linked to the original.",
        { date: dateOf(target), id: made.slots.id })));
      warnOfDuplicates(target, result.body);
      document.body.dataset.lastCopy = result.body.id;
    }).catch(function (error) {
      button.disabled = false;
      say(t("Not copied: %(why)s", { why: error.message }), true);
    });
  }

  function sideBySide() {
    var maps = {};
    SIDES.forEach(function (side) {
      var element = document.getElementById("map-" + side);
      var map = makeMap(element);
      tiles(side, "tilePane").addTo(map);
      annotationLayer(side, map, "overlayPane");
      maps[side] = map;
      mapOf[side] = map;
    });
    var following = false;
    SIDES.forEach(function (side) {
      var source = maps[side], target = maps[other(side)];
      source.on("move zoomend", function () {
        if (following) { return; }
        following = true;
        target.setView(source.getCenter(), source.getZoom(), { animate: false });
        following = false;
      });
    });
    maps.left.fitBounds(boundsOf("left").extend(boundsOf("right")));
    return maps;
  }

  function swipe() {
    var element = document.getElementById("map-swipe");
    var map = makeMap(element);
    var range = document.getElementById("swipe-range");
    var divider = document.getElementById("swipe-divider");
    var panes = {};
    SIDES.forEach(function (side, index) {
      var imagePane = map.createPane(side + "Image");
      imagePane.style.zIndex = String(200 + index);
      var vectorPane = map.createPane(side + "Vectors");
      vectorPane.style.zIndex = String(400 + index);
      panes[side] = [imagePane, vectorPane];
      tiles(side, side + "Image").addTo(map);
      annotationLayer(side, map, side + "Vectors");
      mapOf[side] = map;
    });
    function clip() {
      var size = map.getSize();
      var nw = map.containerPointToLayerPoint([0, 0]);
      var se = map.containerPointToLayerPoint(size);
      var x = nw.x + size.x * Number(range.value) / 100;
      function rect(x0, x1) {
        return "polygon(" + [[x0, nw.y], [x1, nw.y], [x1, se.y], [x0, se.y]].map(function (p) {
          return p[0] + "px " + p[1] + "px";
        }).join(", ") + ")";
      }
      panes.left.forEach(function (pane) { pane.style.clipPath = rect(nw.x, x); });
      panes.right.forEach(function (pane) { pane.style.clipPath = rect(x, se.x); });
      divider.style.left = range.value + "%";
      element.dataset.swipe = range.value;
    }
    range.addEventListener("input", clip);
    reveal = function (side) {
      range.value = side === "left" ? "100" : "0";
      clip();
    };
    ["mousedown", "touchstart", "pointerdown"].forEach(function (name) {
      range.addEventListener(name, function (event) { event.stopPropagation(); map.dragging.disable(); });
    });
    ["mouseup", "touchend", "pointerup", "change"].forEach(function (name) {
      range.addEventListener(name, function () { map.dragging.enable(); });
    });
    map.on("move zoom zoomend resize viewreset", clip);
    map.fitBounds(boundsOf("left").extend(boundsOf("right")));
    clip();
    return { swipe: map };
  }

  var maps = data.mode === "side" ? sideBySide() : swipe();
  SIDES.forEach(function (side) { load(side); });
  window.annotatorCompare = maps;
})();
