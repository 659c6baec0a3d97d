// An activity feed (site or report page): GET the page's data-api, newest first, "Older"
// for the next page. Every text from users is set with textContent.
(function () {
  "use strict";
  var root = document.getElementById("activity");
  if (!root) return;
  var list = document.getElementById("activity-list");
  var more = document.getElementById("activity-more");
  var message = document.getElementById("activity-message");
  var next = null;

  var el = window.Annotator.el, moment = window.Annotator.moment;  // common.js

  var KINDS = { annotation: "annotation", claim: "claim", report: "the report", event: "event",
                link: "a link", publication: "a publication", site: "the site" };

  function subject(entry) {
    var s = entry.subject, span = el("span", "subject");
    if (s.type === "annotation" && s.image_id) {
      var a = el("a", null, s.text || "an annotation");
      a.dir = "auto";
      a.href = root.dataset.image.replace("IMAGE_ID", encodeURIComponent(s.image_id))
        .replace("ANNOTATION_ID", encodeURIComponent(s.id));
      span.appendChild(a);
      return span;
    }
    if (s.type === "claim" && document.getElementById("claim-" + s.id)) {
      var c = el("a", null, s.text ? "claim \u201c" + s.text + "\u201d" : "a claim");
      c.href = "#claim-" + s.id;
      span.appendChild(c);
      return span;
    }
    var kind = KINDS[s.type] || s.type;
    span.textContent = s.text ? kind + " \u201c" + s.text + "\u201d" : (s.type === "annotation" ? "an annotation" : kind);
    return span;
  }

  function row(entry) {
    var li = el("li", "activity-entry verb-" + entry.verb.replace(/\s+/g, "-"));
    li.dataset.item = entry.item;
    li.appendChild(el("time", "muted", moment(entry.at)));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("strong", "actor", entry.actor));
    li.appendChild(document.createTextNode(" " + entry.verb + " "));
    li.appendChild(subject(entry));
    if (entry.comment) {
      var said = el("q", "activity-comment", entry.comment);
      said.dir = "auto";
      li.appendChild(said);
    }
    return li;
  }

  function load() {
    more.disabled = true;
    var url = root.dataset.api + (next ? (root.dataset.api.indexOf("?") < 0 ? "?" : "&") + "cursor=" + encodeURIComponent(next) : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (answer) {
        more.disabled = false;
        if (!answer.ok) { message.textContent = "Could not load the activity: " + answer.data.message; return; }
        answer.data.entries.forEach(function (entry) { list.appendChild(row(entry)); });
        next = answer.data.next;
        more.hidden = !next;
        document.getElementById("activity-empty").hidden = list.children.length > 0;
      })
      .catch(function () { more.disabled = false; message.textContent = "Could not load the activity."; });
  }

  more.addEventListener("click", load);
  load();
})();
