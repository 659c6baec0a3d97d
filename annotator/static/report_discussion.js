// On the report page: under each claim a "Discussion" button that opens the claim's comment
// thread (annotator/static/discussion.js), with the number of comments once loaded.
(function () {
  "use strict";
  var config = document.getElementById("claim-discussion");
  if (!config) return;
  var t = window.Annotator.t;  // the page's language (common.js)

  function count(button, comments) {
    var live = comments.filter(function (c) { return !c.withdrawn_at; }).length;
    button.textContent = live ? t("Discussion (%(num)s)", { num: live }) : t("Discussion");
  }

  Array.prototype.forEach.call(document.querySelectorAll("#claims li.claim"), function (claim) {
    var id = claim.dataset.claim;
    var button = window.Discussion.el("button", "small discussion-toggle", t("Discussion"));
    button.type = "button";
    button.setAttribute("aria-expanded", "false");
    var box = window.Discussion.el("div", "claim-thread");
    box.hidden = true;
    var opened = false;
    button.addEventListener("click", function () {
      box.hidden = !box.hidden;
      button.setAttribute("aria-expanded", box.hidden ? "false" : "true");
      if (opened) return;
      opened = true;
      window.Discussion.thread(box, {
        url: config.dataset.comments.replace("CLAIM_ID", encodeURIComponent(id)),
        commentUrl: config.dataset.comment,
        people: config.dataset.people,
        csrf: config.dataset.csrf,
        me: config.dataset.me,
        canWrite: Boolean(config.dataset.canWrite),
        onChange: function (comments) { count(button, comments); }
      });
    });
    var quote = claim.querySelector("blockquote.quote");
    quote.insertAdjacentElement("afterend", box);
    quote.insertAdjacentElement("afterend", button);
    if (window.location.hash === "#claim-" + id) button.click();
  });
})();
