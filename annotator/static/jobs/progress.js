// A progress bar for a background job, for any page that starts one: `progressBar()` makes
// the element, `followJob(url, bar)` polls GET /api/v1/jobs/<id> until the job ends and keeps
// the bar in step. Text only (textContent): a job's message may quote a user's file name.
// Its status and progress line are in the page's language (words.js); figures stay LTR.
import { lineNode, statusWord } from "./words.js";

const ENDED = new Set(["done", "failed", "cancelled"]);

export function progressBar() {
  const root = document.createElement("span");
  root.className = "job-progress";
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = 0;
  const label = document.createElement("span");
  label.className = "job-progress-label";
  root.append(bar, label);
  return {
    element: root,
    show(job) {
      const fraction = job.status === "done" ? 1 : Number(job.progress) || 0;
      bar.value = fraction;
      const figure = window.Annotator.figures.percent(fraction); // the page's digits (figures.js)
      bar.setAttribute("aria-valuetext", figure);
      root.dataset.status = job.status;
      const said = job.status === "failed" ? job.error || job.message : job.message;
      const percent = document.createElement("bdi");
      percent.dir = "ltr";
      percent.textContent = figure;
      label.replaceChildren(percent, ` · ${statusWord(job.status)}`);
      if (said && said !== job.status) label.append(" · ", lineNode(said));
    },
  };
}

// Poll `url` every `everyMs` until the job ends; `onUpdate(job)` on each answer. Returns a
// function that stops the polling.
export function followJob(url, bar, { everyMs = 1000, onUpdate = () => {}, onEnd = () => {} } = {}) {
  let stopped = false;
  let timer = null;
  const tick = () => {
    if (stopped) return;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((job) => {
        if (stopped) return;
        if (job) {
          bar.show(job);
          onUpdate(job);
          if (ENDED.has(job.status)) {
            onEnd(job);
            return;
          }
        }
        timer = setTimeout(tick, everyMs);
      })
      .catch(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
