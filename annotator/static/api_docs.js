// The API docs page: Swagger UI (vendored) on the app's own OpenAPI document.
// A static file, not an inline script, so the page keeps the app's Content-Security-Policy.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var csrfToken = root.dataset.csrfToken || "";
  var unsafe = { POST: true, PUT: true, PATCH: true, DELETE: true };

  function hasAuthorization(headers) {
    return Object.keys(headers || {}).some(function (name) {
      return name.toLowerCase() === "authorization";
    });
  }

  // Browser writes must echo the session's CSRF token; bearer-token requests need none.
  function addCsrfToken(request) {
    var url = new URL(request.url, window.location.href);
    var method = String(request.method || "GET").toUpperCase();
    if (url.origin === window.location.origin && unsafe[method] && !hasAuthorization(request.headers)) {
      request.headers = request.headers || {};
      request.headers["X-CSRF-Token"] = csrfToken;
    }
    return request;
  }

  root.textContent = "";
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null, // never ask an outside validator about the document
    tryItOutEnabled: false,
    requestInterceptor: addCsrfToken,
    onComplete: function () {
      document.body.dataset.apiDocs = "ready";
    },
  });
})();
