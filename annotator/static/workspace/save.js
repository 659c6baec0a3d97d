// Saving: a new shape is POSTed when it has a label and the analyst saves; every change to
// a saved annotation is PUT at once with If-Match. A failure leaves the annotation marked
// "unsaved" with the server's words; a 412 opens the conflict dialog.
(function () {
  "use strict";
  var AW = window.AW, t = window.Annotator.t;
  var FIELDS = ["label", "shape", "confidence", "count", "attributes", "notes"];

  function body(item) {
    var properties = { image_id: AW.data.id };
    FIELDS.forEach(function (name) { properties[name] = item.feature.properties[name]; });
    return { type: "Feature", geometry: item.feature.geometry, properties: properties };
  }

  AW.save = function (item) {
    if (!item || !AW.data.can_edit) return Promise.resolve(false);
    if (item.saving) {  // one request at a time per annotation; the latest change follows
      item.again = true;
      return item.saving;
    }
    if (!item.feature.properties.label) {
      AW.setState(item, "unsaved", t("not saved: pick a label first"));
      return Promise.resolve(false);
    }
    var isNew = Boolean(item.isNew);
    var fromVersion = item.feature.properties.version;
    var request = isNew
      ? AW.request("POST", AW.data.api.annotations, body(item))
      : AW.request("PUT", AW.annotationUrl(item.id), body(item), AW.etagOf(item.feature));
    AW.setState(item, "saving", t("saving…"));
    item.saving = request.then(function (answer) {
      item.saving = null;
      if (answer.ok) {
        var oldId = item.id;
        var saved = AW.upsert(answer.data, oldId);
        saved.isNew = false;
        if (isNew) AW.record({ kind: "create", id: saved.id });
        else AW.record({ kind: "edit", id: saved.id, from: fromVersion, to: answer.data.properties.version });
        if (AW.selectedId === oldId) AW.selectedId = saved.id;
        AW.emit("saved", saved);
        AW.emit("changed", saved);
        if (item.again) {
          item.again = false;
          return AW.save(saved);
        }
        return true;
      }
      item.again = false;
      if (answer.status === 412 && answer.data && answer.data.details) {
        AW.setState(item, "conflict", answer.message);
        AW.conflict(item, answer.data.details.current);
      } else {
        AW.setState(item, "unsaved", t("not saved: %(why)s", { why: answer.message }));
      }
      return false;
    });
    return item.saving;
  };

  // Change fields or the geometry of an annotation, then save (a new one waits for Save).
  AW.change = function (item, properties, geometry) {
    Object.keys(properties || {}).forEach(function (name) {
      item.feature.properties[name] = properties[name];
    });
    if (geometry) item.feature.geometry = geometry;
    AW.redraw(item);
    if (item.isNew) {
      AW.setState(item, "unsaved", item.feature.properties.label
        ? t("not saved yet: Save (Enter) to store it") : t("not saved yet: pick a label, then Save (Enter)"));
      return Promise.resolve(false);
    }
    return AW.save(item);
  };

  AW.remove = function (item) {
    if (!item) return;
    if (item.isNew) {  // never reached the server: nothing to record
      AW.forget(item);
      AW.select(null);
      AW.emit("changed", item);
      return;
    }
    AW.setState(item, "saving", t("deleting…"));
    AW.request("DELETE", AW.annotationUrl(item.id), undefined, AW.etagOf(item.feature)).then(function (answer) {
      if (!answer.ok) {
        AW.setState(item, "unsaved", t("not deleted: %(why)s", { why: answer.message }));
        if (answer.status === 412 && answer.data && answer.data.details) {
          AW.conflict(item, answer.data.details.current);
        }
        return;
      }
      AW.upsert(answer.data);
      AW.record({ kind: "delete", id: item.id });
      AW.select(null);
      AW.emit("changed", item);
      AW.emit("mode", t("Deleted (Ctrl+Z brings it back)."));
    });
  };

  // --- the conflict dialog: the other version next to yours; keep yours or take theirs ---
  var dialog = document.getElementById("conflict-dialog");
  var theirsOutline = null;
  var open = null;

  var CONFIDENCE = { confirmed: t("confirmed"), probable: t("probable"), possible: t("possible") };

  function describe(list, feature) {
    var p = feature.properties;
    var rows = [
      [t("label"), AW.labelName(p.label)], [t("confidence"), CONFIDENCE[p.confidence] || p.confidence],
      [t("count"), p.count], [t("notes"), p.notes || "—"], [t("status"), AW.statusWord(p.status)]
    ];
    if (p.updated_by) {
      rows.push([t("changed by"), t("%(name)s at %(when)s", { name: p.updated_by, when: AW.moment(p.updated_at) })]);
    }
    var nodes = [];
    rows.forEach(function (row) {
      nodes.push(AW.el("dt", null, row[0]));
      nodes.push(AW.el("dd", null, row[1]));
    });
    list.replaceChildren.apply(list, nodes);
  }

  function close() {
    if (theirsOutline) AW.map.removeLayer(theirsOutline);
    theirsOutline = null;
    open = null;
    if (dialog.open) dialog.close();
  }

  AW.conflict = function (item, theirs) {
    open = { item: item, theirs: theirs };
    describe(document.getElementById("conflict-mine"), item.feature);
    describe(document.getElementById("conflict-theirs"), theirs);
    document.getElementById("conflict-version").textContent = t("(version %(version)s)", { version: theirs.properties.version });
    document.getElementById("conflict-text").textContent =
      t("You edited version %(mine)s; the server has version %(theirs)s. Keep yours (it replaces theirs, which stays in the history) or take theirs.",
        { mine: item.feature.properties.version, theirs: theirs.properties.version });
    if (theirsOutline) AW.map.removeLayer(theirsOutline);
    theirsOutline = L.geoJSON(theirs, {
      pmIgnore: true, interactive: false,
      style: { color: "#ff2d55", weight: 2, dashArray: "8 6", fill: false },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 9, pmIgnore: true }); }
    }).addTo(AW.map);
    if (!dialog.open) dialog.showModal();
  };

  document.getElementById("conflict-keep").addEventListener("click", function () {
    if (!open) return;
    var item = open.item;
    item.feature.properties.version = open.theirs.properties.version;
    close();
    AW.save(item);
  });
  document.getElementById("conflict-take").addEventListener("click", function () {
    if (!open) return;
    var item = AW.upsert(open.theirs, open.item.id);
    close();
    AW.emit("changed", item);
    AW.emit("select", AW.selected());
  });
  dialog.addEventListener("cancel", function () {
    if (open) {
      AW.setState(open.item, "unsaved", t("not saved: it conflicts with version %(version)s; save again to choose",
                                          { version: open.theirs.properties.version }));
    }
    close();
  });
})();
