// Go to a coordinate (J) and the cursor's position in the analyst's notation. What is typed
// is read by the server (GET .../images/coordinates: decimal degrees, DMS in its usual
// spellings, MGRS through the `mgrs` package), so the box, the API and its tests share one
// reader; a bad entry says what is wrong in one line. The cursor shows latitude and longitude
// labelled, in decimal or DMS (written here), or MGRS (asked of the same endpoint, one request
// at a time, the latest position winning); the choice is remembered in this browser.
// Also the keys of the imagery tools: D the ruler, J the Go to box.
(function () {
  "use strict";
  var AW = window.AW, map = AW.map, t = window.Annotator.t;
  var form = document.getElementById("goto-form");
  var input = document.getElementById("goto-input");
  var message = document.getElementById("goto-message");
  var cursor = document.getElementById("cursor");
  var choice = document.getElementById("cursor-format");
  var url = form.dataset.url;
  var KEY = "annotator.cursorFormat";
  var FORMATS = ["decimal", "dms", "mgrs"];
  var marker = null;

  function dmsOf(value, letters) {
    var tenths = Math.round(Math.abs(value) * 36000);
    var degrees = Math.floor(tenths / 36000), rest = tenths % 36000;
    var minutes = Math.floor(rest / 600), seconds = rest % 600;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return degrees + "\u00b0" + pad(minutes) + "'" + pad(Math.floor(seconds / 10)) + "." + (seconds % 10) +
      '"' + (value >= 0 ? letters[0] : letters[1]);
  }
  AW.dms = function (lat, lon) { return dmsOf(lat, "NS") + " " + dmsOf(lon, "EW"); };

  // --- the cursor ---
  var format = "decimal";
  try {
    var stored = window.localStorage.getItem(KEY);
    if (FORMATS.indexOf(stored) >= 0) format = stored;
  } catch (e) { /* storage switched off: decimal, not remembered */ }
  choice.value = format;

  var wanted = null, asking = false;
  function askMgrs() {
    if (asking || !wanted) return;
    var at = wanted;
    wanted = null;
    asking = true;
    cursor.dataset.asking = "yes";
    var query = "?lat=" + at.lat.toFixed(7) + "&lon=" + at.lng.toFixed(7);
    AW.request("GET", url + query).then(function (answer) {
      asking = false;
      cursor.dataset.asking = "";
      if (format === "mgrs") {
        cursor.textContent = answer.ok ? "MGRS " + (answer.data.mgrs || t("none here")) : "MGRS: " + answer.message;
      }
      askMgrs();  // the position the mouse reached meanwhile
    });
  }

  function show(ll) {
    if (format === "mgrs") { wanted = ll; askMgrs(); return; }
    if (format === "dms") {
      cursor.textContent = t("lat %(lat)s  lon %(lon)s", { lat: dmsOf(ll.lat, "NS"), lon: dmsOf(ll.lng, "EW") });
    } else {
      cursor.textContent = t("lat %(lat)s  lon %(lon)s", { lat: ll.lat.toFixed(6) + "\u00b0", lon: ll.lng.toFixed(6) + "\u00b0" });
    }
  }
  var last = null;
  map.on("mousemove", function (event) { last = event.latlng; show(last); });
  choice.addEventListener("change", function () {
    format = FORMATS.indexOf(choice.value) >= 0 ? choice.value : "decimal";
    try { window.localStorage.setItem(KEY, format); } catch (e) { /* not remembered */ }
    if (last) show(last); else cursor.textContent = t("move over the map");
  });

  // --- go to ---
  function inImage(lat, lon) {
    var b = AW.data.bounds;
    return lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3];
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { message.textContent = t("Type a coordinate first."); message.className = "goto-message small-text problem"; return; }
    message.textContent = t("Reading…");
    message.className = "goto-message small-text";
    AW.request("GET", url + "?q=" + encodeURIComponent(text)).then(function (answer) {
      if (!answer.ok) {
        message.textContent = answer.message.charAt(0).toUpperCase() + answer.message.slice(1);
        message.className = "goto-message small-text problem";
        return;
      }
      var p = answer.data;
      if (marker) map.removeLayer(marker);
      marker = L.circleMarker([p.lat, p.lon], {
        radius: 9, color: "#ff2d95", weight: 3, fill: false, interactive: false, pmIgnore: true
      }).addTo(map);
      // reset: centred on the point itself; a pan to a point already in view moves by whole
      // pixels, which leaves the centre up to a pixel off it
      map.setView([p.lat, p.lon], Math.max(map.getZoom(), AW.data.maxzoom - 1), { reset: true });
      message.textContent = (inImage(p.lat, p.lon) ? "" : t("Outside this image.") + " ") + p.dms +
        " \u00b7 " + p.decimal + (p.mgrs ? " \u00b7 " + p.mgrs : "");
      message.className = "goto-message small-text";
      document.body.dataset.wentTo = p.lat + "," + p.lon;
    });
  });

  // Esc in the box leaves it and takes away the Go to mark (keys.js blurs the field)
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && marker) { map.removeLayer(marker); marker = null; }
  });

  // --- keys: D the ruler, J the Go to box (where keys.js's letters act) ---
  function typing(target) {
    var tag = target && target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") return !["button", "checkbox", "radio"].includes(target.type);
    return Boolean(target && target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (document.querySelector("dialog[open]") || typing(event.target)) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
    var key = event.key.toLowerCase();
    if (key === "d") { event.preventDefault(); AW.toggleRuler(); }
    else if (key === "j") { event.preventDefault(); input.focus(); input.select(); }
  });
})();
