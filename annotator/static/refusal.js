// A server's refusal shown to a person (issue 16). The API answers {"error": code, "message",
// "details"} with its message in English: the message is made from the domain's own words and
// the request's values (names, ids, limits), hundreds of them across imagery/ and annotations/,
// so it is not translated. On a page in another language the refusal starts with a short
// lead-in in that language chosen by the error CODE (a fixed set, in the catalogue), and the
// server's English follows, isolated left-to-right. English pages show the message as before.
//
// Loaded by base.html after common.js; modules import it from i18n.js:
//   Annotator.refusal(body, status)      a <span>: "غير مسموح: <bdi dir=ltr>only the author…</bdi>"
//   Annotator.refusalText(body, status)  the same as text, the English between U+2066 and U+2069
//                                        (for textContent, titles and t("…%(why)s") values)
// `body` is the parsed JSON answer (or null when there was none), `status` the HTTP status.
(function () {
  "use strict";
  var A = window.Annotator, t = window.Annotator.t;
  var english = (document.documentElement.lang || "en") === "en";

  function leadIn(code, status) {
    switch (code) {
      case "unauthorized": return t("Sign in first");
      case "forbidden": return t("Not allowed");
      case "csrf_failed": case "precondition_required":
        return t("The page is out of date: reload it");
      case "not_found": case "tile_outside_image": return t("Not found");
      case "gone": case "withdrawn": return t("No longer available");
      case "precondition_failed": return t("Someone else changed this meanwhile");
      case "conflict": return t("It clashes with what is already there");
      case "too_large": case "image_too_large": case "request_entity_too_large":
      case "too_many_chips": return t("Too large");
      case "unsupported_format": case "unsupported_media_type": case "not_a_geotiff":
      case "unsupported_image": case "not_an_image": return t("Not a supported file");
      case "unsafe_file": return t("Refused as unsafe");
      case "unreadable_file": case "unreadable_image": return t("The file could not be read");
      case "not_georeferenced": return t("Not georeferenced");
      case "imagery_error": return t("The image could not be used");
      case "not_publishable": return t("Not ready to publish");
      case "invalid": case "malformed": case "malformed_json": case "bad_request":
      case "invalid_control_points": case "bad_tile_address": case "bad_host":
      case "method_not_allowed": return t("Not accepted");
      case "insufficient_storage": return t("The server's disk is full");
      case "too_many_requests": case "busy": case "too_many_jobs": case "service_unavailable":
        return t("The server is busy: try again shortly");
    }
    if (code.indexOf("export_") === 0) return t("The export was stopped");  // its budget's reason
    if (status === 0) return t("The server could not be reached");
    return status >= 500 ? t("Something went wrong on the server") : t("Refused");
  }

  function parts(body, status) {
    var code = body && typeof body.error === "string" ? body.error : "";
    var message = body && typeof body.message === "string" ? body.message : "";
    return { lead: leadIn(code, status || 0), message: message };
  }

  A.refusalText = function (body, status) {
    var said = parts(body, status);
    if (english) return said.message || said.lead;
    return said.message ? said.lead + ": \u2066" + said.message + "\u2069" : said.lead;
  };

  A.refusal = function (body, status) {
    var said = parts(body, status);
    var span = A.el("span", "refusal");
    if (english) {
      span.textContent = said.message || said.lead;
      return span;
    }
    span.appendChild(document.createTextNode(said.message ? said.lead + ": " : said.lead));
    if (said.message) {
      var detail = A.el("bdi", null, said.message);
      detail.dir = "ltr";
      detail.lang = "en";
      span.appendChild(detail);
    }
    return span;
  };
})();
