// The report page's evidence picker: annotations shown as chips (the object's image, label,
// capture date, status and site), filtered by site, label, dates and status, and searched
// as one types; or events. Picking one fills the link form that opened the picker, so no one
// types an id. Every user string is set with textContent.
(function () {
  "use strict";
  var dialog = document.getElementById("evidence-picker");
  if (!dialog) { return; }
  var t = window.Annotator.t;  // the page's language (common.js)
  var STATUS_WORDS = { draft: t("draft"), in_review: t("in review"), approved: t("approved"),
                       rejected: t("rejected") };
  var field = function (id) { return document.getElementById(id); };
  var kind = field("picker-kind"), site = field("picker-site"), label = field("picker-label");
  var status = field("picker-status"), from = field("picker-from"), to = field("picker-to");
  var search = field("picker-search"), list = field("picker-chips"), count = field("picker-count");
  var sites = [];          // [{slug, name, image_ids}]
  var siteOfImage = {};    // image id -> site names
  var items = [];          // what the filters found: {id, kind, text, node}
  var form = null;         // the link form the picker fills
  var asked = 0;           // the latest request: older answers are dropped

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      });
  }

  function option(select, value, text) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = text;
    select.appendChild(element);
  }

  function span(className, text) {
    var element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function day(value) { return value ? String(value).slice(0, 10) : t("date unknown"); }

  function interval() {
    if (!from.value && !to.value) { return ""; }
    return (from.value ? from.value + "T00:00:00Z" : "..") + "/" +
           (to.value ? to.value + "T23:59:59Z" : "..");
  }

  function annotationChip(feature) {
    var props = feature.properties;
    var where = (siteOfImage[props.image_id] || []).join(" / ");
    var name = props.label_name || props.label;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "picker-chip";
    button.dataset.id = feature.id;
    button.dataset.kind = "annotation";
    var image = document.createElement("img");
    image.src = dialog.dataset.chipUrl.replace("ANNOTATION", encodeURIComponent(feature.id));
    image.alt = "";
    image.width = 96;
    image.height = 96;
    image.loading = "lazy";
    button.appendChild(image);
    button.appendChild(span("chip-label", name)).dir = "auto";
    button.appendChild(span("chip-date", day(props.observed_at) + (where ? " \u00b7 " + where : "")));
    button.appendChild(span("badge status-" + props.status, STATUS_WORDS[props.status] || props.status));
    var summary = where
      ? t("the %(label)s on the %(date)s %(site)s capture", { label: name, date: day(props.observed_at), site: where })
      : t("the %(label)s on the %(date)s capture", { label: name, date: day(props.observed_at) });
    return { id: feature.id, kind: "annotation", node: button, summary: summary,
             text: [name, props.label, where, day(props.observed_at), props.notes || "",
                    props.created_by, STATUS_WORDS[props.status] || ""].join(" ").toLowerCase() };
  }

  function eventChip(event) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "picker-chip picker-event";
    button.dataset.id = String(event.id);
    button.dataset.kind = "event";
    var where = sites.filter(function (s) { return s.slug === event.site; })
      .map(function (s) { return s.name; }).join("");
    button.appendChild(span("chip-label", event.title)).dir = "auto";  // user text: own direction
    button.appendChild(span("chip-date", t("%(start)s to %(end)s", { start: day(event.start), end: day(event.end) }) +
                                         (where ? " \u00b7 " + where : "")));
    return { id: String(event.id), kind: "event", node: button,
             summary: t("the event \u201c%(title)s\u201d", { title: event.title }),
             text: [event.title, event.description || "", where, day(event.start),
                    day(event.end)].join(" ").toLowerCase() };
  }

  function show() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    list.textContent = "";
    items.forEach(function (item) {
      if (!words.every(function (w) { return item.text.indexOf(w) >= 0; })) { return; }
      var li = document.createElement("li");
      li.appendChild(item.node);
      list.appendChild(li);
      shown += 1;
    });
    count.textContent = shown === 0 ? t("Nothing matches these filters.") :
      words.length ? (shown === 1 ? t("1 match for the search") : t("%(num)s matches for the search", { num: shown }))
        : (shown === 1 ? t("1 match") : t("%(num)s matches", { num: shown }));
  }

  function load() {
    var ticket = ++asked;
    var isEvent = kind.value === "event";
    dialog.classList.toggle("picking-events", isEvent);
    count.textContent = t("Loading\u2026");
    var request;
    if (isEvent) {
      var query = site.value ? "?site=" + encodeURIComponent(site.value) : "";
      request = getJSON(dialog.dataset.eventsApi + query).then(function (body) {
        var after = from.value, before = to.value;
        return body.events.filter(function (e) {
          return (!after || day(e.end) >= after) && (!before || day(e.start) <= before);
        }).map(eventChip);
      });
    } else {
      var params = new URLSearchParams({ status: status.value, limit: "200" });
      if (site.value) { params.set("site", site.value); }
      if (label.value) { params.set("label", label.value); }
      if (interval()) { params.set("datetime", interval()); }
      request = fetch(dialog.dataset.annotationsApi + "?" + params.toString(),
                      { credentials: "same-origin", headers: { "Accept": "application/geo+json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (collection) { return collection.features.map(annotationChip); });
    }
    request.then(function (found) {
      if (ticket !== asked) { return; }
      items = found;
      show();
    }, function () {
      if (ticket !== asked) { return; }
      items = [];
      list.textContent = "";
      count.textContent = t("The evidence could not be loaded; try again.");
    });
  }

  var ready = null;
  function prepare() {
    if (ready) { return ready; }
    ready = Promise.all([getJSON(dialog.dataset.sitesApi), getJSON(dialog.dataset.labelsApi)])
      .then(function (answers) {
        sites = answers[0].sites;
        sites.forEach(function (s) {
          option(site, s.slug, s.name);
          s.image_ids.forEach(function (id) { (siteOfImage[id] = siteOfImage[id] || []).push(s.name); });
        });
        answers[1].labels.forEach(function (l) { option(label, l.id, l.name); });
      });
    return ready;
  }

  list.addEventListener("click", function (event) {
    var chip = event.target.closest ? event.target.closest("button.picker-chip") : null;
    if (!chip || !form) { return; }
    var picked = items.filter(function (item) {
      return item.id === chip.dataset.id && item.kind === chip.dataset.kind;
    })[0];
    form.elements.kind.value = chip.dataset.kind;
    form.elements.target.value = chip.dataset.id;
    var note = form.querySelector(".picked");
    if (note && picked) { note.textContent = t("Picked: %(what)s", { what: picked.summary }); }
    dialog.close();
    form.elements.stance.focus();
  });

  [kind, site, label, status, from, to].forEach(function (select) {
    select.addEventListener("change", load);
  });
  search.addEventListener("input", show);

  Array.prototype.forEach.call(document.querySelectorAll("button.pick-evidence"), function (button) {
    button.addEventListener("click", function () {
      form = button.closest("form");
      dialog.showModal();
      prepare().then(load, function () { count.textContent = t("The filters could not be loaded."); });
      search.focus();
    });
  });
})();
