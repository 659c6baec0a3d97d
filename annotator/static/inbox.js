// The inbox page: /api/v1/inbox newest first ("Older" for more), each item with a link to
// where it happened and "Mark read"; "Mark all read"; the nav's count kept in step.
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  var list = document.getElementById("inbox-list");
  var waitingList = document.getElementById("waiting-list");
  var more = document.getElementById("inbox-more");
  var message = document.getElementById("inbox-message");
  var next = null;

  var el = window.Annotator.el, moment = window.Annotator.moment, t = window.Annotator.t;  // common.js

  function say(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", Boolean(isError));
  }

  function call(method, url, body) {
    var headers = { Accept: "application/json", "X-CSRF-Token": root.dataset.csrf };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
    }).catch(function () { return { ok: false, status: 0, data: null }; });  // refusal.js says it
  }

  function showUnread(count) {
    var shown = count >= 100 ? "99+" : String(count);
    document.getElementById("inbox-count").textContent = count ? t("%(count)s unread", { count: shown }) : t("all read");
    var nav = document.getElementById("nav-inbox");
    var badge = document.getElementById("inbox-unread");
    if (!count) { if (badge) badge.remove(); return; }
    if (!badge) {
      badge = el("span", "badge");
      badge.id = "inbox-unread";
      nav.appendChild(document.createTextNode(" "));
      nav.appendChild(badge);
    }
    badge.textContent = shown;
    badge.setAttribute("aria-label", t("%(count)s unread", { count: count }));
  }

  function where(item) {
    var a = el("a", "open");
    if (item.annotation) {
      a.href = root.dataset.image.replace("IMAGE_ID", encodeURIComponent(item.annotation.image_id))
        .replace("ANNOTATION_ID", encodeURIComponent(item.annotation.id));
      a.textContent = item.annotation.label_name || item.annotation.label;
      a.dir = "auto";
    } else if (item.claim) {
      a.href = root.dataset.report.replace("REPORT_ID", encodeURIComponent(item.claim.report_id)) +
        "#claim-" + item.claim.id;
      a.textContent = t("a claim of report %(num)s", { num: item.claim.report_id });
    }
    return a;
  }

  // what happened, as a sentence of the page's language: %(actor)s and %(what)s are nodes
  var REVIEWED = {
    approved: t("%(actor)s approved your %(what)s"),
    rejected: t("%(actor)s rejected your %(what)s"),
    reopened: t("%(actor)s reopened your %(what)s"),
    withdrew: t("%(actor)s withdrew your %(what)s"),
    submitted: t("%(actor)s submitted your %(what)s"),
    "returned to draft": t("%(actor)s returned to draft your %(what)s"),
    moved: t("%(actor)s moved your %(what)s")
  };
  var SAYS = {
    reviewed: function (item) {
      return Object.prototype.hasOwnProperty.call(REVIEWED, item.verb) ? REVIEWED[item.verb]
        : "%(actor)s " + item.verb.replace(/%/g, "") + " your %(what)s";
    },
    mention: function () { return t("%(actor)s mentioned you on %(what)s"); },
    "on your annotation": function () { return t("%(actor)s commented on your %(what)s"); },
    waiting: function (item) {
      return item.annotation.created_by === item.actor ? t("%(actor)s submitted %(what)s")
        : t("%(actor)s submitted (%(owner)s's) %(what)s", { owner: item.annotation.created_by });
    }
  };

  // `template` with each %(name)s replaced by the node parts[name], the rest as text
  function sentence(parent, template, parts) {
    template.split(/(%\(\w+\)s)/).forEach(function (piece) {
      var name = /^%\((\w+)\)s$/.exec(piece);
      if (name && parts[name[1]]) parent.appendChild(parts[name[1]]);
      else if (piece) parent.appendChild(document.createTextNode(piece));
    });
  }

  function row(item) {
    var li = el("li", "inbox-item kind-" + item.kind.replace(/\s+/g, "-"));
    li.dataset.item = item.item;
    li.classList.toggle("unread", item.unread);
    var line = el("p", "inbox-line");
    line.appendChild(el("time", "muted", moment(item.at)));
    line.appendChild(document.createTextNode(" "));
    var actor = el("strong", "actor");
    actor.appendChild(el("bdi", null, item.actor));  // a name: its own direction
    sentence(line, SAYS[item.kind](item), { actor: actor, what: where(item) });
    li.appendChild(line);
    if (item.comment) {
      var said = el("blockquote", "inbox-comment", item.comment);
      said.dir = "auto";
      li.appendChild(said);
    }
    if (item.unread) {
      var read = el("button", "small mark-read", t("Mark read"));
      read.type = "button";
      read.addEventListener("click", function () { mark([item.item], read); });
      li.insertBefore(read, li.firstChild);
    }
    return li;
  }

  function mark(items, button) {
    if (button) button.disabled = true;
    var body = items ? { items: items } : { all: true };
    call("POST", root.dataset.read, body).then(function (answer) {
      if (button) button.disabled = false;
      if (!answer.ok) { say(t("Not marked: %(reason)s", { reason: window.Annotator.refusalText(answer.data, answer.status) }), true); return; }
      showUnread(answer.data.unread);
      var rows = root.querySelectorAll("li.inbox-item.unread");
      Array.prototype.forEach.call(rows, function (li) {
        if (items && items.indexOf(li.dataset.item) < 0) return;
        li.classList.remove("unread");
        var b = li.querySelector("button.mark-read");
        if (b) b.remove();
      });
      say(items ? t("Marked read.") : t("All marked read."));
    });
  }

  function load() {
    more.disabled = true;
    var url = root.dataset.api + (next ? "&cursor=" + encodeURIComponent(next) : "");
    call("GET", url).then(function (answer) {
      more.disabled = false;
      if (!answer.ok) { say(t("Could not load the inbox: %(reason)s", { reason: window.Annotator.refusalText(answer.data, answer.status) }), true); return; }
      var data = answer.data;
      data.items.forEach(function (item) { list.appendChild(row(item)); });
      if (!next && waitingList) {
        document.getElementById("waiting-count").textContent = String(data.waiting.count);
        data.waiting.items.forEach(function (item) { waitingList.appendChild(row(item)); });
      }
      next = data.next;
      more.hidden = !next;
      document.getElementById("inbox-empty").hidden = list.children.length > 0;
      showUnread(data.unread);
    });
  }

  document.getElementById("mark-all").addEventListener("click", function (event) { mark(null, event.target); });
  more.addEventListener("click", load);
  load();
})();
