// The report page: make a claim from selected text, delete one, link evidence, unlink, publish.
// Every write goes to the JSON API with the session's CSRF token; user text is only ever
// set with textContent.
(function () {
  "use strict";
  var root = document.getElementById("report");
  if (!root) { return; }
  var api = root.dataset.api;
  var linksApi = root.dataset.linksApi;
  var csrf = root.dataset.csrfToken;
  var reportId = Number(root.dataset.reportId);
  var CONTEXT = 32;  // characters of prefix and suffix, as the server keeps them
  var t = window.Annotator.t;  // the page's language (common.js)

  // a quote in a script without italics (Arabic, also inside a report in another language) is
  // set upright: app.css's .quote.no-italics, beside its :lang(ar) rule
  Array.prototype.forEach.call(document.querySelectorAll(".quote"), function (quote) {
    if (/[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFC]/.test(quote.textContent)) {
      quote.classList.add("no-italics");
    }
  });

  // a refusal in the page's language (refusal.js), else what was not done
  function refused(result, otherwise) {
    return result.data && result.data.message ? window.Annotator.refusalText(result.data, result.status) : otherwise;
  }

  function send(method, url, body) {
    var options = { method: method, credentials: "same-origin",
                    headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function say(id, text, isError) {
    var element = document.getElementById(id);
    if (!element) { return; }
    element.textContent = text;
    element.classList.toggle("error", Boolean(isError));
  }

  // ---- a claim from the selection: W3C TextQuoteSelector (exact, prefix, suffix)
  var textElement = document.getElementById("report-text");
  var claimButton = document.getElementById("make-claim");

  function offsetIn(container, node, offset) {
    var range = document.createRange();
    range.selectNodeContents(container);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  function selector() {
    var selection = window.getSelection();
    if (!textElement || !selection || selection.rangeCount === 0 || selection.isCollapsed) {
      return null;
    }
    var range = selection.getRangeAt(0);
    if (!textElement.contains(range.startContainer) || !textElement.contains(range.endContainer)) {
      return null;
    }
    var full = textElement.textContent;
    var start = offsetIn(textElement, range.startContainer, range.startOffset);
    var end = offsetIn(textElement, range.endContainer, range.endOffset);
    var exact = full.slice(start, end);
    if (!exact.trim()) { return null; }
    return { type: "TextQuoteSelector", exact: exact,
             prefix: full.slice(Math.max(0, start - CONTEXT), start),
             suffix: full.slice(end, end + CONTEXT) };
  }

  if (claimButton) {
    document.addEventListener("selectionchange", function () {
      claimButton.disabled = selector() === null;
    });
    claimButton.addEventListener("click", function () {
      var quote = selector();
      if (!quote) { say("claim-message", t("Select some text of the report first."), true); return; }
      claimButton.disabled = true;
      send("POST", api + "/claims", { selector: quote }).then(function (result) {
        if (result.ok) { window.location.reload(); return; }
        say("claim-message", refused(result, t("The claim was not saved.")), true);
      });
    });
  }

  // ---- deleting a claim (one with no links: the server refuses the others)
  Array.prototype.forEach.call(document.querySelectorAll("button.delete-claim"), function (button) {
    button.addEventListener("click", function () {
      var quote = button.parentNode.querySelector("blockquote");
      var text = quote ? quote.textContent : "";
      if (!window.confirm(t("Delete the claim \u201c%(quote)s\u201d?", { quote: text.slice(0, 120) }))) { return; }
      button.disabled = true;
      send("DELETE", api + "/claims/" + encodeURIComponent(button.dataset.claim)).then(
        function (result) {
          if (result.ok) { window.location.reload(); return; }
          button.disabled = false;
          say("claim-message", refused(result, t("The claim was not deleted.")), true);
        });
    });
  });

  // ---- links: an annotation or an event supports / contradicts / gives context
  Array.prototype.forEach.call(document.querySelectorAll("form.link-form"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var fields = form.elements;
      var body = { stance: fields.stance.value, note: fields.note.value };
      var target = fields.target.value.trim();
      if (fields.kind.value === "event") { body.event_id = Number(target); }
      else { body.annotation_id = target; }
      if (form.dataset.claim) { body.claim_id = Number(form.dataset.claim); }
      else { body.report_id = reportId; }
      send("POST", linksApi, body).then(function (result) {
        if (result.ok) { window.location.reload(); return; }
        say("link-message", refused(result, t("The link was not saved.")), true);
      });
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("button.unlink"), function (button) {
    button.addEventListener("click", function () {
      send("DELETE", linksApi + "/" + encodeURIComponent(button.dataset.link)).then(
        function (result) {
          if (result.ok) { window.location.reload(); return; }
          say("link-message", refused(result, t("The link was not removed.")), true);
        });
    });
  });

  // ---- publishing
  var PROBLEMS = { draft: t("is a draft: submit and approve it"), in_review: t("is in review: approve it"),
                   rejected: t("was rejected: fix it, then approve it") };

  // a linked annotation that keeps the report from publication, as report.html lists it; its
  // label and site are names, isolated (\u2068 ... \u2069) inside the sentence
  function problemLine(item) {
    if (!item.name) { return item.annotation_id; }
    if ((document.documentElement.lang || "en") === "en") { return item.name + " " + item.words; }
    var named = { label: "\u2068" + item.label_name + "\u2069", date: item.day || t("undated"),
                  site: "\u2068" + item.site + "\u2069" };
    var name = item.site ? t("the %(label)s on the %(date)s %(site)s capture", named)
      : t("the %(label)s on the %(date)s capture", named);
    var problem = item.deleted ? t("was deleted: unlink it") : PROBLEMS[item.status] || item.status;
    return t("%(name)s %(problem)s.", { name: name, problem: problem });
  }

  var publishButton = document.getElementById("publish");
  if (publishButton) {
    publishButton.addEventListener("click", function () {
      publishButton.disabled = true;
      var list = document.getElementById("publish-problems");
      list.textContent = "";
      send("POST", api + "/publish", {}).then(function (result) {
        if (result.ok) { window.location.reload(); return; }
        publishButton.disabled = false;
        say("publish-message", refused(result, t("Not published.")), true);
        var items = (result.data.details && result.data.details.annotations) || [];
        items.forEach(function (item) {
          var li = document.createElement("li");
          li.textContent = problemLine(item);
          li.dataset.annotation = item.annotation_id;
          list.appendChild(li);
        });
      });
    });
  }
})();
