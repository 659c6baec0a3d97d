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

  var el = window.Annotator.el, moment = window.Annotator.moment, t = window.Annotator.t;  // common.js

  var KINDS = { annotation: t("annotation"), claim: t("claim"), report: t("the report"),
                event: t("event"), link: t("a link"), publication: t("a publication"),
                site: t("the site") };
  // what was done, as a sentence of the page's language: %(actor)s and %(subject)s are nodes
  var SENTENCES = {
    created: t("%(actor)s created %(subject)s"),
    edited: t("%(actor)s edited %(subject)s"),
    deleted: t("%(actor)s deleted %(subject)s"),
    restored: t("%(actor)s restored %(subject)s"),
    submitted: t("%(actor)s submitted %(subject)s"),
    approved: t("%(actor)s approved %(subject)s"),
    rejected: t("%(actor)s rejected %(subject)s"),
    "returned to draft": t("%(actor)s returned to draft %(subject)s"),
    reopened: t("%(actor)s reopened %(subject)s"),
    withdrew: t("%(actor)s withdrew %(subject)s"),
    moved: t("%(actor)s moved %(subject)s"),
    linked: t("%(actor)s linked %(subject)s"),
    unlinked: t("%(actor)s unlinked %(subject)s"),
    added: t("%(actor)s added %(subject)s"),
    removed: t("%(actor)s removed %(subject)s"),
    published: t("%(actor)s published %(subject)s"),
    commented: t("%(actor)s commented %(subject)s")
  };

  // `template` with each %(name)s replaced by the node parts[name], the rest as text
  function sentence(parent, template, parts) {
    template.split(/(%\(\w+\)s)/).forEach(function (piece) {
      var name = /^%\((\w+)\)s$/.exec(piece);
      if (name && parts[name[1]]) parent.appendChild(parts[name[1]]);
      else if (piece) parent.appendChild(document.createTextNode(piece));
    });
  }

  // user text inside a sentence: in its own <bdi>, so its direction does not spill
  function quoted(text) { return el("bdi", null, text); }

  function subject(entry) {
    var s = entry.subject, span = el("span", "subject");
    if (s.type === "annotation" && s.image_id) {
      var a = el("a", null, s.text || t("an annotation"));
      a.dir = "auto";
      a.href = root.dataset.image.replace("IMAGE_ID", encodeURIComponent(s.image_id))
        .replace("ANNOTATION_ID", encodeURIComponent(s.id));
      span.appendChild(a);
      return span;
    }
    if (s.type === "claim" && document.getElementById("claim-" + s.id)) {
      var c = el("a");
      if (s.text) sentence(c, t("claim \u201c%(text)s\u201d"), { text: quoted(s.text) });
      else c.textContent = t("a claim");
      c.href = "#claim-" + s.id;
      span.appendChild(c);
      return span;
    }
    var kind = KINDS[s.type] || s.type;
    if (s.text) {
      sentence(span, t("%(kind)s \u201c%(text)s\u201d"),
               { kind: document.createTextNode(kind), text: quoted(s.text) });
    } else {
      span.textContent = s.type === "annotation" ? t("an annotation") : kind;
    }
    return span;
  }

  function row(entry) {
    var li = el("li", "activity-entry verb-" + entry.verb.replace(/\s+/g, "-"));
    li.dataset.item = entry.item;
    li.appendChild(el("time", "muted", moment(entry.at)));
    li.appendChild(document.createTextNode(" "));
    var template = Object.prototype.hasOwnProperty.call(SENTENCES, entry.verb)
      ? SENTENCES[entry.verb] : "%(actor)s " + entry.verb.replace(/%/g, "") + " %(subject)s";
    var actor = el("strong", "actor");
    actor.appendChild(el("bdi", null, entry.actor));  // a name: its own direction
    sentence(li, template, { actor: actor, subject: subject(entry) });
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
        return response.json().then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
      })
      .then(function (answer) {
        more.disabled = false;
        if (!answer.ok) { message.textContent = t("Could not load the activity: %(reason)s", { reason: window.Annotator.refusalText(answer.data, answer.status) }); return; }
        answer.data.entries.forEach(function (entry) { list.appendChild(row(entry)); });
        next = answer.data.next;
        more.hidden = !next;
        document.getElementById("activity-empty").hidden = list.children.length > 0;
      })
      .catch(function () { more.disabled = false; message.textContent = t("Could not load the activity."); });
  }

  more.addEventListener("click", load);
  load();
})();
