// "Link to report…" in the workspace: the selected (saved) annotation is linked to a report
// found by a search on its title, to one of its claims or to the report as a whole, with a
// stance and a note. The server's refusals are shown in the panel as they come (they name
// things, not ids). User text is only ever set with textContent.
(function () {
  "use strict";
  var AW = window.AW, t = window.Annotator && window.Annotator.t;
  var panel = document.getElementById("link-report-panel");
  if (!AW || !panel) { return; }
  var el = function (id) { return document.getElementById(id); };
  var box = el("link-report-box"), form = el("link-report-form"), search = el("link-report-search");
  var results = el("link-report-results"), chosen = el("link-report-chosen");
  var claim = el("link-report-claim"), stance = el("link-report-stance"), note = el("link-report-note");
  var submit = el("link-report-submit"), message = el("link-report-message");
  var reports = null;      // every report the user may see: {id, title, status}
  var report = null;       // the one chosen
  var annotationId = null; // the selected annotation
  var asked = 0;

  var STATUS = { draft: t("draft"), published: t("published"), withdrawn: t("withdrawn") };
  // on a right-to-left page a title or a quote keeps its own direction inside the sentence
  // (a first strong isolate, as dir="auto")
  var RTL = document.documentElement.dir === "rtl";
  function isolate(text) { return RTL ? "\u2068" + text + "\u2069" : text; }

  function say(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", Boolean(isError));
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) { throw new Error(body.message ? window.Annotator.refusalText(body, response.status) : t("the server answered %(status)s", { status: response.status })); }
          return body;
        });
      });
  }

  function reset() {
    report = null;
    chosen.textContent = t("no report chosen");
    claim.textContent = "";
    var whole = document.createElement("option");
    whole.value = "";
    whole.textContent = t("the report as a whole");
    claim.appendChild(whole);
    claim.disabled = true;
    submit.disabled = true;
  }

  function listReports() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    results.textContent = "";
    var found = (reports || []).filter(function (r) {
      var title = r.title.toLowerCase();
      return words.every(function (w) { return title.indexOf(w) >= 0; });
    }).slice(0, 8);
    found.forEach(function (r) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-report-choice";
      button.dataset.report = String(r.id);
      button.textContent = r.title;
      button.dir = "auto";
      var status = document.createElement("span");
      status.className = "badge status-" + r.status;
      status.textContent = STATUS[r.status] || r.status;
      button.appendChild(document.createTextNode(" "));
      button.appendChild(status);
      li.appendChild(button);
      results.appendChild(li);
    });
    if (reports && found.length === 0) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = reports.length ? t("No report's title has these words.") : t("There are no reports yet.");
      results.appendChild(none);
    }
  }

  function choose(id) {
    var ticket = ++asked;
    report = (reports || []).filter(function (r) { return r.id === id; })[0] || null;
    if (!report) { return; }
    chosen.textContent = t("Report: “%(title)s”", { title: isolate(report.title) });
    results.textContent = "";
    getJSON(panel.dataset.claims.replace("REPORT_ID", String(id))).then(function (body) {
      if (ticket !== asked) { return; }
      body.claims.forEach(function (c) {
        var option = document.createElement("option");
        option.value = String(c.id);
        option.textContent = t("“%(quote)s”", { quote: isolate(c.exact.length > 80 ? c.exact.slice(0, 79) + "\u2026" : c.exact) });
        option.dir = "auto";
        claim.appendChild(option);
      });
      claim.disabled = false;
      submit.disabled = false;
    }, function (error) {
      say(t("The report's claims could not be read: %(reason)s", { reason: error.message }), true);
    });
  }

  box.addEventListener("toggle", function () {
    if (!box.open || reports) { return; }
    getJSON(panel.dataset.reports).then(function (body) {
      reports = body.reports;
      listReports();
    }, function (error) { say(t("The reports could not be read: %(reason)s", { reason: error.message }), true); });
    search.focus();
  });
  search.addEventListener("input", function () { reset(); listReports(); });
  search.addEventListener("keydown", function (event) { event.stopPropagation(); });
  note.addEventListener("keydown", function (event) {
    event.stopPropagation();  // the workspace's keys (S, W, Del…) are not for this field
    if (event.key === "Enter") { event.preventDefault(); form.requestSubmit(); }
  });
  results.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.link-report-choice") : null;
    if (button) { choose(Number(button.dataset.report)); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!report || !annotationId) { say(t("Choose a report first."), true); return; }
    var body = { annotation_id: annotationId, stance: stance.value, note: note.value };
    if (claim.value) { body.claim_id = Number(claim.value); } else { body.report_id = report.id; }
    var target = claim.value ? claim.options[claim.selectedIndex].textContent
                             : t("“%(quote)s”", { quote: isolate(report.title) });
    submit.disabled = true;
    fetch(panel.dataset.links, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": panel.dataset.csrf, "Accept": "application/json",
                 "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        submit.disabled = false;
        if (!response.ok) { say(answer.message ? window.Annotator.refusalText(answer, response.status) : t("The link was not made."), true); return; }
        say(t("Linked: it %(stance)s %(target)s.", { stance: stance.options[stance.selectedIndex].textContent, target: target }));
        note.value = "";
      });
    }, function () {
      submit.disabled = false;
      say(t("The server could not be reached; the link was not made."), true);
    });
  });

  function show(item) {
    var id = item && !item.isNew && item.feature && item.feature.id ? String(item.feature.id) : null;
    if (id !== annotationId) { say(""); }
    annotationId = id;
    panel.hidden = !id;
  }

  AW.on("select", show);
  AW.on("saved", function (item) { if (item && AW.selectedId === item.id) show(item); });
  reset();
  show(AW.selected ? AW.selected() : null);
})();
