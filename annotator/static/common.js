// What every page's scripts share (loaded first by base.html): an element with text only
// (never HTML from users) and the one way a time is written for people, as the server's
// `moment` filter writes it: 2024-12-13 08:21 UTC. Annotator.t("...") is a string in the
// page's language for scripts that are not modules (modules import t from i18n.js): base.html
// puts the strings in a JSON block; values fill %(name)s.
(function () {
  "use strict";
  var strings = null;
  window.Annotator = {
    t: function (text, values) {
      if (strings === null) {
        var block = document.getElementById("i18n-strings");
        try { strings = block ? JSON.parse(block.textContent) : {}; } catch (e) { strings = {}; }
      }
      var found = Object.prototype.hasOwnProperty.call(strings, text) ? strings[text] : text;
      if (!values) return found;
      return found.replace(/%\((\w+)\)s/g, function (whole, name) {
        if (!Object.prototype.hasOwnProperty.call(values, name)) return whole;
        var value = values[name];  // a number in the page's digits (figures.js); text as it is
        return typeof value === "number" && window.Annotator.figures ? window.Annotator.figures.digits(String(value)) : String(value);
      });
    },
    el: function (tag, className, text) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined && text !== null) node.textContent = String(text);
      return node;
    },
    moment: function (iso) {
      var when = iso ? new Date(iso) : null;
      if (!when || isNaN(when.getTime())) return window.Annotator.t("date unknown");
      return when.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    }
  };
})();
