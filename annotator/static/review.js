// The review queue: approve or reject one annotation, or the selected ones, through
// POST /api/v1/annotations/review (all or nothing). Only editors get this script. A module:
// its words come through t() in the page's language (i18n.js).
import { refusalText, t } from "./i18n.js";

(function () {
  "use strict";
  var root = document.getElementById("review");
  var message = document.getElementById("review-message");
  var selectAll = document.getElementById("select-all");

  function say(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", Boolean(isError));
  }

  function rows() { return Array.prototype.slice.call(root.querySelectorAll("tr.item")); }

  // "N in review" in the heading, kept true as rows leave the queue (no reload needed). When
  // the page showed only the oldest QUEUE_LIMIT ("500+"), the "+" stays: more are waiting.
  function recount() {
    var heading = document.getElementById("review-count");
    var left = rows().length;
    heading.dataset.count = String(left);
    heading.textContent = t("%(num)s in review", { num: left + (heading.dataset.more ? "+" : "") });
    document.getElementById("review-empty").hidden = left > 0;
    var bar = document.getElementById("review-bulk");
    if (bar) bar.hidden = left === 0;
    var head = root.querySelector("table.queue thead");
    if (head) head.hidden = left === 0;
  }

  function send(chosen, action, comment, buttons) {
    if (!chosen.length) { say(t("Select at least one annotation first."), true); return; }
    if (action === "reject" && !comment.trim()) {
      say(t("Say why: rejecting needs a comment."), true);
      return;
    }
    var versions = {};
    chosen.forEach(function (row) { versions[row.dataset.id] = Number(row.dataset.version); });
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(root.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: JSON.stringify({ ids: Object.keys(versions), action: action, comment: comment || undefined, versions: versions })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, status: response.status, body: body }; });
    }).then(function (result) {
      buttons.forEach(function (b) { b.disabled = false; });
      if (!result.ok) {
        say(t("Nothing changed: %(why)s", { why: refusalText(result.body, result.status) }), true);
        return;
      }
      chosen.forEach(function (row) { row.remove(); });
      recount();
      var count = result.body.annotations.length;
      if (action === "approve") {
        say(count === 1 ? t("Approved 1 annotation.") : t("Approved %(num)s annotations.", { num: count }));
      } else {
        say(count === 1 ? t("Rejected 1 annotation.") : t("Rejected %(num)s annotations.", { num: count }));
      }
      root.dataset.reviewed = String(Number(root.dataset.reviewed || 0) + result.body.annotations.length);
      if (selectAll) { selectAll.checked = false; }
    }).catch(function (error) {
      buttons.forEach(function (b) { b.disabled = false; });
      say(t("Nothing changed: %(why)s", { why: error.message }), true);
    });
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) { return; }
    var action = button.dataset.action;
    var row = button.closest("tr.item");
    if (row) {
      send([row], action, row.querySelector("input.comment").value, [button]);
      return;
    }
    var picked = rows().filter(function (r) { return r.querySelector("input.pick").checked; });
    send(picked, action, document.getElementById("bulk-comment").value, [button]);
  });

  if (selectAll) {
    selectAll.addEventListener("change", function () {
      rows().forEach(function (r) { r.querySelector("input.pick").checked = selectAll.checked; });
    });
  }
})();
