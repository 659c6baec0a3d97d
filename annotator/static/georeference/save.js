// Saving the editor's placement: a new picture is posted with its upload's id, its points and
// what is stated about it (POST /api/v1/images/georeference); a placed picture's new points
// are a new version (PUT /api/v1/images/<id>/georeference). Either answers 202 with a
// georeference job, whose bar (jobs/progress.js) is followed to the link of the capture it
// made. Text only: messages and names are set with textContent.
import { followJob, progressBar } from "../jobs/progress.js";
import { bdi, leftToRight, lineNode, named, slot } from "../jobs/words.js";
import { refusal, t } from "../i18n.js";

const { figures } = window.Annotator; // figures.js: the page's digits

const $ = (id) => document.getElementById(id);

export function send(url, csrf, init = {}) {
  return fetch(url, {
    credentials: "same-origin",
    ...init,
    headers: { Accept: "application/json", "X-CSRF-Token": csrf, ...(init.headers || {}) },
  });
}

function say(...parts) {
  $("georef-message").replaceChildren(...parts);
}

function value(id) {
  const input = $(id);
  return input && "value" in input ? input.value.trim() : "";
}

function newPicture(data, chosen) {
  const form = new FormData();
  form.append("upload", data.upload);
  form.append("gcps", JSON.stringify(chosen.gcps));
  form.append("method", chosen.method);
  const captured = value("georef-captured");
  if (captured && captured.toLowerCase() !== "unknown") form.append("captured", captured);
  const url = value("georef-source-url");
  if (url) form.append("source_url", url);
  const credit = value("georef-credit");
  if (credit) form.append("attribution", credit);
  if (chosen.site) form.append("site", chosen.site);
  if (chosen.reference) form.append("reference", chosen.reference);
  return { method: "POST", body: form };
}

function again(chosen) {
  const body = { gcps: chosen.gcps, method: chosen.method };
  if (chosen.reference) body.reference = chosen.reference;
  return { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
}

export async function save(data, csrf, chosen) {
  const button = $("georef-save");
  button.disabled = true;
  say(t("Saving…"));
  const response = await send(data.save, csrf, data.upload ? newPicture(data, chosen) : again(chosen));
  const answer = await response.json();
  if (response.status !== 202) {
    say(answer.message ? refusal(answer, response.status) : t("The placement was refused (%(status)s).", { status: response.status }));
    button.disabled = false;
    return;
  }
  const bar = progressBar();
  $("georef-job").replaceChildren(bar.element);
  bar.show(answer);
  say(t("Placing…"));
  followJob(response.headers.get("Location"), bar, { everyMs: 500, onEnd: (job) => ended(data, csrf, job) });
}

function ended(data, csrf, job) {
  const made = $("georef-made");
  made.replaceChildren();
  if (job.status !== "done") {
    say(t("The placement failed: "), lineNode(job.error || job.message));
    $("georef-save").disabled = false;
    return;
  }
  const image = ((job.result && job.result.images) || [])[0];
  const placed = (job.result && job.result.georeference) || {};
  say(typeof placed.rmse_m === "number" && placed.method !== "tps"
    ? t("Placed by %(num)s control points, RMSE %(rmse)s m.", { num: placed.gcps.length, rmse: figures.number(placed.rmse_m, 2) })
    : t("Placed."));
  if (image) {
    const link = document.createElement("a");
    link.id = "georef-capture";
    link.href = image.page;
    link.append(named(t("Open the placed capture (%(name)s)", { name: slot("name") }), { name: image.name }));
    made.append(link);
    if (data.history) listVersions({ ...data, history: `/api/v1/images/${image.id}/georeference` }, csrf);
  }
}

const METHODS = {
  affine: () => t("affine"),
  polynomial: () => t("polynomial"),
  tps: () => t("thin plate spline"),
};

// The placement's versions, oldest first, each linking its capture.
export async function listVersions(data, csrf) {
  const list = $("georef-versions");
  if (!list) return;
  const response = await send(data.history, csrf);
  if (!response.ok) return;
  const history = await response.json();
  list.replaceChildren();
  for (const version of history.versions) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/images/${encodeURIComponent(version.image)}`;
    link.textContent = t("version %(num)s", { num: version.version });
    const rmse = typeof version.rmse_m === "number" ? t(", RMSE %(rmse)s m", { rmse: figures.number(version.rmse_m, 2) }) : "";
    const when = leftToRight((version.placed_at || "").slice(0, 16).replace("T", " "));
    const method = METHODS[version.method] ? METHODS[version.method]() : version.method;
    const points = t("%(num)s points", { num: version.points });
    const comma = t(", ");
    item.append(link, ` · ${method}${comma}${points}${rmse} · `, bdi(version.placed_by || "?"), ` · ${when}`);
    if (version.image === history.image) item.classList.add("current");
    list.append(item);
  }
}
