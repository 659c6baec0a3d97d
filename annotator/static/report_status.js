// The report page's status: an editor withdraws a published report with a required reason.
// The reason is sent as JSON and shown back by the server's page (never set as HTML here).
(function () {
  "use strict";
  var root = document.getElementById("report");
  var box = document.getElementById("report-status");
  var form = document.getElementById("withdraw-form");
  if (!root || !box || !form) { return; }
  var message = document.getElementById("withdraw-message");
  var t = window.Annotator.t;  // the page's language (common.js)

  function say(text) {
    message.textContent = text;
    message.classList.add("error");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var reason = form.elements.reason.value.trim();
    if (!reason) { say(t("Say why the report is withdrawn: readers are shown it.")); return; }
    var button = document.getElementById("withdraw-submit");
    button.disabled = true;
    fetch(box.dataset.withdrawApi, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": root.dataset.csrfToken, "Accept": "application/json",
                 "Content-Type": "application/json" },
      body: JSON.stringify({ reason: reason })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) { window.location.reload(); return; }
        button.disabled = false;
        say(data.message ? window.Annotator.refusalText(data, response.status) : t("The report was not withdrawn."));
      });
    }, function () {
      button.disabled = false;
      say(t("The server could not be reached; the report was not withdrawn."));
    });
  });
})();
