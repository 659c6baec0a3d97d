// A comment thread (on an annotation or on a claim): the comments oldest first, a textarea
// with @name completion from /api/v1/people, Post (or Ctrl+Enter), and Withdraw on one's own.
// Text from users is only ever set with textContent. Used by the workspace
// (workspace/discussion.js) and the report page (report_discussion.js):
//   Discussion.thread(container, {url, people, csrf, me, canWrite, onChange})
(function () {
  "use strict";
  var MAX = 4000;

  var el = window.Annotator.el, moment = window.Annotator.moment, t = window.Annotator.t;  // common.js
  var ROLES = { viewer: t("viewer"), analyst: t("analyst"), editor: t("editor"), admin: t("admin") };

  function request(method, url, csrf, body) {
    var headers = { Accept: "application/json", "X-CSRF-Token": csrf };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        var message = response.ok ? "" :
          (data && data.message ? window.Annotator.refusalText(data, response.status)  // refusal.js: a lead-in, then the English
            : t("the server answered %(status)s", { status: response.status }));
        return { ok: response.ok, status: response.status, data: data, message: message };
      });
    }, function () {
      return { ok: false, status: 0, data: null, message: t("the server could not be reached") };
    });
  }

  // The body as text nodes, with each @name the server recognised as a mention marked.
  function bodyNode(comment) {
    var p = el("p", "comment-body");
    p.dir = "auto";  // a comment in Arabic reads right to left
    var names = {};
    (comment.mentions || []).forEach(function (n) { names[n.toLowerCase()] = true; });
    var pattern = /(^|[^\w@.])@([A-Za-z0-9][A-Za-z0-9._-]*)/g;
    var text = comment.body, last = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      var word = match[2], start = match.index + match[1].length;
      var name = names[word.toLowerCase()] ? word : word.replace(/[._-]+$/, "");
      if (!names[name.toLowerCase()]) continue;
      p.appendChild(document.createTextNode(text.slice(last, start)));
      p.appendChild(el("span", "mention", "@" + name));
      last = start + 1 + name.length;
    }
    p.appendChild(document.createTextNode(text.slice(last)));
    return p;
  }

  function thread(container, options) {
    container.textContent = "";
    container.classList.add("thread");
    var list = el("ol", "comments");
    var empty = el("p", "muted empty", t("No comments yet."));
    var message = el("p", "message");
    message.setAttribute("role", "status");
    container.appendChild(list);
    container.appendChild(empty);
    var textarea = null, choices = null, post = null;

    function say(text, isError) {
      message.textContent = text;
      message.classList.toggle("error", Boolean(isError));
    }

    function render(comments) {
      list.textContent = "";
      comments.forEach(function (comment) {
        var li = el("li", "comment");
        li.dataset.comment = String(comment.id);
        var meta = el("p", "comment-meta");
        var author = el("strong", "author");
        author.appendChild(el("bdi", null, comment.author));  // a name: its own direction
        meta.appendChild(author);
        meta.appendChild(document.createTextNode(" · " + moment(comment.created_at)));
        li.appendChild(meta);
        if (comment.withdrawn_at) {
          li.classList.add("withdrawn");
          li.appendChild(el("p", "muted", t("withdrawn by %(name)s on %(date)s", { name: comment.withdrawn_by, date: moment(comment.withdrawn_at) })));
        } else {
          li.appendChild(bodyNode(comment));
          if (options.canWrite && comment.author === options.me) {
            var withdraw = el("button", "small withdraw-comment", t("Withdraw"));
            withdraw.type = "button";
            withdraw.title = t("Comments are not edited; withdraw this one and write another");
            withdraw.addEventListener("click", function () { take(comment, withdraw); });
            li.appendChild(withdraw);
          }
        }
        list.appendChild(li);
      });
      empty.hidden = comments.length > 0;
    }

    function load() {
      return request("GET", options.url, options.csrf).then(function (answer) {
        if (!answer.ok) { say(t("Could not load the comments: %(reason)s", { reason: answer.message }), true); return; }
        render(answer.data.comments);
        if (options.onChange) options.onChange(answer.data.comments);
      });
    }

    function take(comment, button) {
      if (!window.confirm(t("Withdraw your comment? It stays in the history but is no longer shown."))) return;
      button.disabled = true;
      request("DELETE", options.commentUrl.replace("COMMENT_ID", String(comment.id)), options.csrf).then(function (answer) {
        button.disabled = false;
        if (!answer.ok) { say(t("Not withdrawn: %(reason)s", { reason: answer.message }), true); return; }
        say(t("Comment withdrawn."));
        load();
      });
    }

    if (options.canWrite) {
      var form = el("form", "comment-form");
      var wrap = el("div", "mention-combo");
      textarea = el("textarea", "comment-text");
      textarea.dir = "auto";
      textarea.rows = 3;
      textarea.maxLength = MAX;
      textarea.placeholder = t("Comment; @name to mention someone (Ctrl+Enter posts)");
      textarea.setAttribute("aria-label", t("Comment"));
      textarea.setAttribute("aria-autocomplete", "list");
      choices = el("ul", "mention-choices");
      choices.setAttribute("role", "listbox");
      choices.hidden = true;
      wrap.appendChild(textarea);
      wrap.appendChild(choices);
      post = el("button", "post-comment", t("Post"));
      post.type = "submit";
      form.appendChild(wrap);
      form.appendChild(post);
      container.appendChild(form);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        send();
      });
      completion(textarea, choices, options);
      textarea.addEventListener("keydown", function (event) {
        event.stopPropagation();  // the workspace's shortcuts are not for this field
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); }
      });
    }
    container.appendChild(message);

    function send() {
      var body = textarea.value.trim();
      if (!body) { say(t("Write something first."), true); return; }
      post.disabled = true;
      request("POST", options.url, options.csrf, { body: body }).then(function (answer) {
        post.disabled = false;
        if (!answer.ok) { say(t("Not posted: %(reason)s", { reason: answer.message }), true); return; }
        textarea.value = "";
        var names = answer.data.mentions;
        say(names.length ? t("Posted; %(names)s will see it in their inbox.", { names: names.join(t(", ")) }) : t("Posted."));
        load();
      });
    }

    load();
    return { reload: load };
  }

  // @name completion: after an @ typed at a word's start, the active users whose names begin
  // with what follows; arrows move, Enter or Tab picks, Esc closes.
  function completion(textarea, choices, options) {
    var asked = 0, shown = [], active = -1;

    function close() { choices.hidden = true; choices.textContent = ""; shown = []; active = -1; }

    function wordAtCaret() {
      var before = textarea.value.slice(0, textarea.selectionStart);
      var match = /(^|[^\w@.])@([A-Za-z0-9._-]{0,80})$/.exec(before);
      return match ? { prefix: match[2], start: before.length - match[2].length } : null;
    }

    function pick(index) {
      var word = wordAtCaret();
      if (!word || !shown[index]) return;
      var name = shown[index].name;
      var value = textarea.value;
      var end = textarea.selectionStart;
      textarea.value = value.slice(0, word.start) + name + " " + value.slice(end);
      var caret = word.start + name.length + 1;
      textarea.setSelectionRange(caret, caret);
      close();
      textarea.focus();
    }

    function highlight() {
      Array.prototype.forEach.call(choices.children, function (li, i) {
        li.classList.toggle("active", i === active);
        li.setAttribute("aria-selected", i === active ? "true" : "false");
      });
    }

    textarea.addEventListener("input", function () {
      var word = wordAtCaret();
      if (!word) { close(); return; }
      var mine = ++asked;
      var url = options.people + "?q=" + encodeURIComponent(word.prefix);
      request("GET", url, options.csrf).then(function (answer) {
        if (mine !== asked || !answer.ok) return;  // a later keystroke asked since
        shown = answer.data.people;
        choices.textContent = "";
        shown.forEach(function (person, index) {
          var li = el("li", "mention-choice");
          li.setAttribute("role", "option");
          li.appendChild(el("strong", null, person.name));
          li.appendChild(el("span", "muted", " " + (ROLES[person.role] || person.role)));
          li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(index); });
          choices.appendChild(li);
        });
        active = shown.length ? 0 : -1;
        highlight();
        choices.hidden = shown.length === 0;
      });
    });
    textarea.addEventListener("keydown", function (event) {
      if (choices.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        active = (active + step + shown.length) % shown.length;
        highlight();
      } else if ((event.key === "Enter" && !event.ctrlKey && !event.metaKey) || event.key === "Tab") {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    textarea.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  window.Discussion = { thread: thread, request: request, moment: moment, el: el };
})();
