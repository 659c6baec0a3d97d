// "In the background" beside each Export button (templates/_export.html): the same export as
// an export job (GET /api/v1/exports?...&async=1); a progress bar (jobs/progress.js) follows
// it, then the finished file's download link (only its owner may read it). Text is set with
// textContent: a job's error may quote anything.
import { followJob, progressBar } from "./jobs/progress.js";
import { named, slot } from "./jobs/words.js";
import { refusal, t } from "./i18n.js";

function start(form, button) {
  const place = form.querySelector(".export-job");
  const query = new URLSearchParams(new FormData(form));
  query.set("async", "1");
  button.disabled = true;
  const say = (text) => {
    const message = document.createElement("span");
    message.className = "export-job-error";
    message.append(text);
    place.replaceChildren(message);
  };
  fetch(`${form.action}?${query}`, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((response) => response.json().then((data) => ({ ok: response.status === 202, data })))
    .then(({ ok, data }) => {
      if (!ok) {
        say(data.message ? refusal(data) : t("the export could not be started"));
        button.disabled = false;
        return;
      }
      const bar = progressBar();
      bar.show(data);
      place.replaceChildren(bar.element);
      followJob(`${button.dataset.jobs}/${encodeURIComponent(data.id)}`, bar, {
        onEnd(job) {
          button.disabled = false;
          const download = job.status === "done" && job.result ? String(job.result.download || "") : "";
          if (!download.startsWith("/")) return; // the bar says failed or cancelled, and why
          const link = document.createElement("a");
          link.className = "export-download";
          link.href = download;
          link.download = String(job.result.name || "");
          const said = t("download %(name)s (%(num)s annotations)", { name: slot("name"), num: job.result.count });
          link.append(named(said, { name: job.result.name }));
          place.append(" ", link);
        },
      });
    })
    .catch(() => {
      say(t("the server could not be reached"));
      button.disabled = false;
    });
}

for (const form of document.querySelectorAll("form.export")) {
  const button = form.querySelector("button.export-async");
  if (button && !button.dataset.ready) {
    button.dataset.ready = "1";
    button.addEventListener("click", () => start(form, button));
  }
}
