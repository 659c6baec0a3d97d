// The Jobs page: GET /api/v1/jobs drawn as a table, polled while any job is queued or running
// (slower once all have ended), each row with a progress bar (progress.js), its result's links
// and Cancel; the form above starts an ingest job (POST /api/v1/images?async=1) and follows it.
import { followJob, progressBar } from "./progress.js";
import { resultCell } from "./results.js";
import { bdi, kindWord, statusWord } from "./words.js";
import { refusal, t } from "../i18n.js";

const root = document.getElementById("jobs");
const list = document.getElementById("jobs-list");
const empty = document.getElementById("jobs-empty");
const message = document.getElementById("jobs-message");
const withOwner = document.querySelectorAll("#jobs-table thead th").length === 7;
const { el, moment } = window.Annotator; // common.js
const OPEN = new Set(["queued", "running"]);
const rows = new Map();
let timer = null;

function say(text, isError) {
  message.replaceChildren(text);
  message.classList.toggle("error", Boolean(isError));
}

function send(method, url, body) {
  const init = {
    method,
    headers: { Accept: "application/json", "X-CSRF-Token": root.dataset.csrf },
    credentials: "same-origin",
  };
  if (body !== undefined) init.body = body;
  return fetch(url, init)
    .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
    .catch(() => ({ ok: false, data: { message: t("the server could not be reached") } }));
}

function jobUrl(id) {
  return root.dataset.job.replace("JOB_ID", encodeURIComponent(id));
}

function cancel(job, button) {
  button.disabled = true;
  send("DELETE", jobUrl(job.id)).then(({ ok, data }) => {
    if (!ok) {
      say(data.message ? refusal(data) : t("the job could not be cancelled"), true);
      button.disabled = false;
      return;
    }
    say(data.status === "cancelled" ? t("Cancelled.") : t("Asked to stop: it stops at its next step."));
    draw(data);
    refresh();
  });
}

function draw(job) {
  let row = rows.get(job.id);
  if (!row) {
    const bar = progressBar();
    const tr = el("tr", "job");
    tr.dataset.id = job.id;
    row = { tr, bar };
    rows.set(job.id, row);
  }
  const { tr, bar } = row;
  tr.dataset.status = job.status;
  bar.show(job);
  const cells = [el("td", "job-when", moment(job.created_at)), el("td", "job-kind", kindWord(job.kind))];
  cells[1].dataset.kind = job.kind;
  if (withOwner) {
    const owner = el("td", "job-owner");
    owner.append(bdi(job.owner)); // a user's name: data
    owner.style.whiteSpace = "nowrap"; // a Latin name in a narrow column, unbroken
    cells.push(owner);
  }
  const progress = el("td", "job-bar");
  progress.appendChild(bar.element);
  cells.push(progress, el("td", "job-status", statusWord(job.cancelling ? "cancelling" : job.status)));
  cells.push(resultCell(job, root.dataset.me));
  const actions = el("td");
  if (OPEN.has(job.status) && !job.cancelling) {
    const button = el("button", "job-cancel", t("Cancel"));
    button.type = "button";
    button.addEventListener("click", () => cancel(job, button));
    actions.appendChild(button);
  }
  cells.push(actions);
  tr.replaceChildren(...cells);
  return tr;
}

function refresh() {
  clearTimeout(timer);
  fetch(root.dataset.api, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((data) => {
      const jobs = data.jobs || [];
      list.replaceChildren(...jobs.map(draw));
      empty.hidden = jobs.length > 0;
      root.dataset.loaded = "true";
      timer = setTimeout(refresh, jobs.some((job) => OPEN.has(job.status)) ? 1000 : 5000);
    })
    .catch(() => {
      say(t("the jobs could not be loaded; trying again"), true);
      timer = setTimeout(refresh, 5000);
    });
}

document.getElementById("ingest-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("ingest-files");
  if (!input.files.length) return;
  const form = new FormData();
  for (const file of input.files) form.append("file", file);
  say(t("Sending…"));
  send("POST", root.dataset.ingest, form).then(({ ok, data }) => {
    if (!ok) {
      say(data.message ? refusal(data) : t("the files could not be sent"), true);
      return;
    }
    say(t("Received: the ingest runs in the background."));
    input.value = "";
    const bar = progressBar();
    document.getElementById("ingest-progress").replaceChildren(bar.element);
    bar.show(data);
    followJob(jobUrl(data.id), bar, { onEnd: refresh });
    refresh();
  });
});

refresh();
