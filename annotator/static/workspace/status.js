// Review in the workspace: submit your own draft (or rejected annotation) for review and
// withdraw it back to draft, by button or key (S, W), through POST .../status; the editor's
// comment on a rejected annotation; why an annotation is read-only (approved, in review,
// someone else's), with no edit handles for it; and ?annotation=<id> in the address selects
// that annotation and zooms to it once the annotations are loaded.
(function () {
  "use strict";
  var AW = window.AW, t = window.Annotator.t;
  var reasonLine = document.getElementById("lock-reason");
  var commentBox = document.getElementById("review-comment");
  var submitButton = document.getElementById("submit-review");
  var withdrawButton = document.getElementById("withdraw-review");
  var busy = false, asked = 0;

  function say(text) { AW.emit("mode", text); }

  function mine(item) {
    return Boolean(item && AW.data.can_edit && item.feature.properties.created_by === AW.data.user);
  }

  // What the signed-in user may do with `item`: {submit, withdraw} (the server's TRANSITIONS:
  // draft or rejected -> in_review, in_review -> draft, for the author's own annotation).
  function moves(item) {
    if (!mine(item) || item.feature.properties.deleted) return { submit: false, withdraw: false };
    var status = item.feature.properties.status;
    return {
      submit: Boolean(item.isNew) || status === "draft" || status === "rejected",
      withdraw: !item.isNew && status === "in_review"
    };
  }

  function showComment(item) {
    var ticket = ++asked;
    commentBox.hidden = true;
    if (!item || item.isNew || item.feature.properties.status !== "rejected") return;
    AW.request("GET", AW.annotationUrl(item.id, "/history")).then(function (answer) {
      if (ticket !== asked || !answer.ok) return;
      var rejections = answer.data.revisions.filter(function (r) {
        return r.action === "status" && r.after && r.after.properties.status === "rejected";
      });
      var last = rejections[rejections.length - 1];
      if (!last) return;
      commentBox.querySelector(".who").textContent = t("Rejected by %(name)s on %(when)s UTC:",
        { name: last.actor, when: last.at.slice(0, 16).replace("T", " ") });
      commentBox.querySelector(".text").textContent = last.comment || t("(no comment)");
      commentBox.hidden = false;
      document.body.dataset.reviewComment = last.comment || "";
    });
  }

  function refresh(item) {
    var reason = AW.lockReason(item);
    reasonLine.textContent = reason;
    reasonLine.hidden = !reason;
    var can = moves(item);
    submitButton.hidden = !can.submit;
    withdrawButton.hidden = !can.withdraw;
    submitButton.disabled = withdrawButton.disabled = busy;
    submitButton.firstChild.textContent = item && item.feature.properties.status === "rejected"
      ? t("Submit again") + " " : t("Submit for review") + " ";
    document.querySelectorAll("[data-edit]").forEach(function (b) {
      b.disabled = Boolean(item && reason);
    });
  }

  function show(item) {
    refresh(item);
    showComment(item);
  }

  // A new or changed annotation is saved first, so what goes to review is what is on screen.
  function saved(item) {
    if (item.state === "conflict") return Promise.resolve(false);
    if (item.isNew || item.state === "unsaved") return AW.save(item);
    return item.saving || Promise.resolve(true);
  }

  AW.setStatus = function (target) {
    var item = AW.selected();
    if (!item || busy) return;
    var can = moves(item);
    var verb = target === "in_review" ? "submit" : "withdraw";
    if (!(target === "in_review" ? can.submit : can.withdraw)) {
      var status = item.feature.properties.status;
      var words = { status: AW.statusWord(status) };
      if (verb === "submit") {
        say(!mine(item) ? t("Only its author can submit this annotation.")
          : t("Nothing to submit: it is %(status)s.", words));
      } else {
        say(!mine(item) ? t("Only its author can withdraw this annotation.")
          : t("Nothing to withdraw: it is %(status)s.", words));
      }
      return;
    }
    if (AW.isEditing()) AW.stopEdit();
    busy = true;
    refresh(item);
    saved(item).then(function (ok) {
      if (!ok || item.state !== "saved") {
        var reason = item.message || t("it is not saved");
        throw new Error(t("save it first (%(reason)s)", { reason: reason }));
      }
      return AW.request("POST", AW.annotationUrl(item.id, "/status"), { status: target },
                        AW.etagOf(item.feature));
    }).then(function (answer) {
      busy = false;
      if (!answer.ok) {
        // someone changed it meanwhile: take their version, so the next try is against it
        var current = answer.data && answer.data.details && answer.data.details.current;
        if (answer.status === 412 && current) {
          AW.emit("saved", AW.upsert(current, item.id));
          AW.emit("changed", item);
        }
        refresh(AW.selected());
        say(verb === "submit" ? t("Not submitted: %(why)s", { why: answer.message })
          : t("Not withdrawn: %(why)s", { why: answer.message }));
        return;
      }
      var updated = AW.upsert(answer.data, item.id);
      AW.emit("saved", updated);
      AW.emit("changed", updated);
      say(target === "in_review"
        ? t("Submitted for review: an editor will approve it or send it back with a comment.")
        : t("Withdrawn to draft: you can change it again, then submit it (S)."));
    }).catch(function (error) {
      busy = false;
      refresh(AW.selected());
      say(verb === "submit" ? t("Not submitted: %(why)s", { why: error.message })
        : t("Not withdrawn: %(why)s", { why: error.message }));
    });
  };

  // Editing handles only for what the user may change (draw.js looks AW.startEdit up per use).
  var startEdit = AW.startEdit;
  AW.startEdit = function (mode) {
    var reason = AW.lockReason(AW.selected());
    if (reason) { say(reason); return; }
    startEdit(mode);
  };

  submitButton.addEventListener("click", function () { AW.setStatus("in_review"); });
  withdrawButton.addEventListener("click", function () { AW.setStatus("draft"); });
  AW.on("select", show);
  AW.on("saved", function (item) { if (item.id === AW.selectedId) show(item); });
  AW.on("state", function (item) { if (item.id === AW.selectedId) refresh(item); });

  // ?annotation=<id>: open the workspace on that annotation (the review queue links here)
  var wanted = new URLSearchParams(window.location.search).get("annotation");
  if (wanted) {
    AW.ready.then(function () {
      if (AW.items.has(wanted) && !AW.items.get(wanted).feature.properties.deleted) {
        AW.select(wanted, true);
        document.body.dataset.opened = wanted;
      } else {
        say(t("Annotation %(id)s is not on this image (deleted, or on another capture).", { id: wanted }));
      }
    });
  }
})();
