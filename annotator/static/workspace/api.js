// The workspace's one way to the server: JSON over fetch, same origin, CSRF header, ETags.
// Every answer comes back as {ok, status, data, etag, message}; `message` says in words what
// went wrong, so the panel can show it and nothing fails silently.
(function () {
  "use strict";
  var AW = (window.AW = window.AW || {});
  var t = window.Annotator.t;
  AW.data = JSON.parse(document.getElementById("image-data").textContent);

  // in the page's language: a lead-in by the error's code, the server's English after it
  function describe(status, data) {
    if (data && typeof data.message === "string") return window.Annotator.refusalText(data, status);
    if (status === 0) return t("the server could not be reached; check the connection and save again");
    return t("the server answered %(status)s", { status: status });
  }

  AW.request = function (method, url, body, etag) {
    var headers = { Accept: "application/json", "X-CSRF-Token": AW.data.csrf };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (etag) headers["If-Match"] = etag;
    return fetch(url, init).then(
      function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          return {
            ok: response.ok, status: response.status, data: data,
            etag: response.headers.get("ETag"),
            message: response.ok ? "" : describe(response.status, data)
          };
        });
      },
      function () {
        return { ok: false, status: 0, data: null, etag: null, message: describe(0, null) };
      }
    );
  };

  AW.annotationUrl = function (id, tail) {
    return AW.data.api.annotations + "/" + encodeURIComponent(id) + (tail || "");
  };

  // Every page of the image's annotations, following the `next` links.
  AW.loadAll = function (url, onPage) {
    return AW.request("GET", url).then(function (answer) {
      if (!answer.ok) throw new Error(answer.message);
      onPage(answer.data.features);
      var next = (answer.data.links || []).filter(function (l) { return l.rel === "next"; })[0];
      return next ? AW.loadAll(next.href, onPage) : null;
    });
  };

  // A tiny event hub, so the files of the workspace need not know each other's insides.
  var handlers = {};
  AW.on = function (name, fn) { (handlers[name] = handlers[name] || []).push(fn); };
  AW.emit = function (name, value) {
    (handlers[name] || []).forEach(function (fn) { fn(value); });
  };

  // Elements with text only, and the one way a time is written: common.js, as every page.
  AW.moment = window.Annotator.moment;
  AW.figure = window.Annotator.figures.number;  // a measure in the page's digits (figures.js)
  AW.el = window.Annotator.el;
})();
