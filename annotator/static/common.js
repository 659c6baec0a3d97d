// What every page's scripts share (loaded first by base.html): an element with text only
// (never HTML from users) and the one way a time is written for people, as the server's
// `moment` filter writes it: 2024-12-13 08:21 UTC.
(function () {
  "use strict";
  window.Annotator = {
    el: function (tag, className, text) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined && text !== null) node.textContent = String(text);
      return node;
    },
    moment: function (iso) {
      var when = iso ? new Date(iso) : null;
      if (!when || isNaN(when.getTime())) return "date unknown";
      return when.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    }
  };
})();
