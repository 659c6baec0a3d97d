// "In the background" for a report's outputs (templates/_story_job.html): each button starts a
// story job (the output's URL with async=1, as the Export buttons' export jobs), a progress
// bar (jobs/progress.js) follows it, then the file's download link (its owner's only, while
// the report is still theirs to see). Text is set with textContent: errors may quote anything.
import { followJob, progressBar } from "./jobs/progress.js";
import { named, slot } from "./jobs/words.js";
import { refusal, t } from "./i18n.js";

const root = document.getElementById("story-jobs");

function start(button, place) {
  button.disabled = true;
  const line = document.createElement("p");
  line.className = "story-job-line";
  const title = document.createElement("span");
  title.textContent = t("%(output)s: ", { output: button.textContent });
  line.append(title);
  place.append(line);
  const say = (text) => {
    const message = document.createElement("span");
    message.className = "story-job-error";
    message.append(text);
    line.append(message);
  };
  const url = `${button.dataset.url}${button.dataset.url.includes("?") ? "&" : "?"}async=1`;
  fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((response) => response.json().then((data) => ({ ok: response.status === 202, data })))
    .then(({ ok, data }) => {
      if (!ok) {
        say(data.message ? refusal(data) : t("the job could not be started"));
        button.disabled = false;
        return;
      }
      const bar = progressBar();
      bar.show(data);
      line.append(bar.element);
      followJob(`${root.dataset.jobs}/${encodeURIComponent(data.id)}`, bar, {
        onEnd(job) {
          button.disabled = false;
          const download = job.status === "done" && job.result ? String(job.result.download || "") : "";
          if (!download.startsWith("/") || download.startsWith("//")) return; // the bar says why
          const link = document.createElement("a");
          link.className = "story-download";
          link.href = download;
          link.download = String(job.result.name || "");
          link.append(named(t("download %(name)s", { name: slot("name") }), { name: job.result.name }));
          line.append(" ", link);
        },
      });
    })
    .catch(() => {
      say(t("the server could not be reached"));
      button.disabled = false;
    });
}

if (root) {
  const place = root.querySelector(".story-job-status");
  for (const button of root.querySelectorAll("button.story-job")) {
    button.addEventListener("click", () => start(button, place));
  }
}
