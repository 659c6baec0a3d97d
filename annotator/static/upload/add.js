// "Add imagery" (templates/_add_imagery.html): files dropped or picked are grouped by stem
// (sidecars beside their image), sent as resumable uploads with one bar for all the bytes,
// the form is prefilled from the first image's header, and "Add to the catalogue" starts an
// ingest job whose bar follows it (progress.js); Cancel cancels the job (or drops the
// uploads before one started). Text only: every file name and message is set as textContent.
import { ResumableUpload } from "./chunks.js";
import { followJob, progressBar } from "../jobs/progress.js";
import { refusalText, t } from "../i18n.js";

const { figures } = window.Annotator; // figures.js: the page's digits

const root = document.getElementById("add-imagery");
const SIDECAR = /^(\.[A-Za-z0-9]{1,5})?(\.msk|\.aux\.xml|\.tfw|\.tifw|\.tiffw|\.wld|\.prj|\.rpb|\.imd|\.xml|\.til|\.dim)$|^_rpc\.txt$/i;
const FIELDS = ["captured", "provider", "sensor", "licence", "attribution"];
const PICTURE = /\.(jpe?g|png|webp)$/i;

const $ = (id) => document.getElementById(id);
const uploads = [];
let sending = null; // the upload being sent
let paused = false;
let prefilled = false;
let stopFollowing = null;
let jobUrl = null;

function say(text) {
  $("add-message").textContent = text;
}

function stem(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

function fits(name, other) {
  const s = stem(other);
  return other !== name && name.startsWith(s) && SIDECAR.test(name.slice(s.length));
}

// The image a file is a sidecar of (the longest stem that fits), or null; as the server
// groups them (annotations/uploads/sidecars.py): a sidecar is never another's image.
function imageOf(name, names) {
  if (!names.some((other) => fits(name, other))) return null;
  const images = names.filter((other) => !names.some((n) => fits(other, n)));
  let best = null;
  for (const other of images) {
    if (fits(name, other) && (!best || stem(other).length > stem(best).length)) best = other;
  }
  return best || t("(its image is missing)");
}

function showList() {
  const names = uploads.map((u) => u.file.name);
  const list = $("add-list");
  list.replaceChildren();
  for (const upload of uploads) {
    const item = document.createElement("li");
    item.className = "add-file";
    item.dataset.name = upload.file.name;
    const owner = imageOf(upload.file.name, names);
    const name = document.createElement("strong");
    name.textContent = upload.file.name;
    name.dir = "auto";
    const note = document.createElement("span");
    note.className = "add-file-note muted";
    const size = t("%(num)s MB", { num: figures.number(upload.file.size / 1048576, 1) });
    const state = upload.complete ? t("received") : upload === sending ? t("sending") : upload.error || t("waiting");
    const role = owner ? t("sidecar of %(name)s", { name: owner }) : t("image");
    note.textContent = ` · ${role} · ${size} · ${state}`;
    item.dataset.state = upload.complete ? "received" : "open";
    item.append(name, note);
    if (upload.complete && PICTURE.test(upload.file.name) && root.dataset.georeference) {
      // a press picture: placed by control points in the editor (annotator/static/georeference/)
      const place = document.createElement("a");
      place.className = "add-place";
      place.href = root.dataset.georeference.replace("UPLOAD", upload.id);
      place.textContent = t("Place this picture by control points");
      item.append(" ", place);
    }
    list.append(item);
  }
}

function showBytes() {
  const total = uploads.reduce((sum, u) => sum + u.file.size, 0);
  const done = uploads.reduce((sum, u) => sum + u.received, 0);
  const fraction = total ? done / total : 0;
  $("add-upload-bar").value = fraction;
  $("add-upload-label").textContent = figures.percent(Math.floor(fraction * 100) / 100);
  $("add-upload-bar").dataset.state = uploads.length && uploads.every((u) => u.complete) ? "done" : "open";
}

function request(url, init = {}) {
  return fetch(url, {
    credentials: "same-origin",
    ...init,
    headers: { Accept: "application/json", "X-CSRF-Token": root.dataset.csrf, ...(init.headers || {}) },
  });
}

async function prefill(upload) {
  if (prefilled || imageOf(upload.file.name, uploads.map((u) => u.file.name))) return;
  prefilled = true;
  const response = await request(`${upload.url()}/header`);
  if (!response.ok) return;
  const header = await response.json();
  for (const field of FIELDS) {
    const input = $(`add-${field}`);
    if (header[field] && !input.value) {
      input.value = header[field];
      input.dataset.prefilled = "";
    }
  }
}

// Send every file not yet received, one after the other.
async function sendAll() {
  if (sending) return;
  paused = false;
  $("add-pause").hidden = false;
  $("add-pause").textContent = t("Pause");
  $("add-cancel").hidden = false;
  for (const upload of uploads) {
    if (upload.complete) continue;
    sending = upload;
    upload.error = null;
    showList();
    try {
      await upload.send();
    } catch (error) {
      sending = null;
      upload.error = paused ? t("paused") : t("interrupted");
      showList();
      showBytes();
      $("add-pause").textContent = t("Resume");
      say(paused ? t("Paused: Resume goes on from the last piece received.")
        : t("Upload interrupted (%(why)s): Resume goes on from the last piece received.", { why: error.message }));
      return;
    }
    sending = null;
    await prefill(upload).catch(() => {});
    showList();
    showBytes();
  }
  $("add-pause").hidden = true;
  $("add-start").disabled = uploads.length === 0;
  say(t("Received. Check the details, then add to the catalogue."));
}

function addFiles(files) {
  if (jobUrl) return;
  const chunkBytes = Number(root.dataset.chunk) || 8388608;
  if (uploads.length === 0) {
    // a new batch: the last one's job, links and prefilled values go
    $("add-ingest").replaceChildren();
    $("add-made").replaceChildren();
    for (const field of FIELDS) {
      const input = $(`add-${field}`);
      if ("prefilled" in input.dataset) {
        input.value = "";
        delete input.dataset.prefilled;
      }
    }
  }
  for (const file of files) {
    if (uploads.some((u) => u.file.name === file.name)) continue;
    uploads.push(new ResumableUpload(file, {
      startUrl: root.dataset.uploads, csrf: root.dataset.csrf, chunkBytes, onProgress: showBytes,
    }));
  }
  $("add-start").disabled = true;
  showList();
  showBytes();
  say(t("Sending…"));
  sendAll();
}

async function startIngest() {
  $("add-start").disabled = true;
  const body = { uploads: uploads.map((u) => u.id) };
  const site = $("add-site").value;
  if (site) body.sites = [site];
  for (const field of FIELDS) {
    const value = $(`add-${field}`).value.trim();
    if (value) body[field] = value;
  }
  const height = $("add-height").value.trim();
  if (height) body.height = Number(height);
  const response = await request(root.dataset.ingest, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (response.status !== 202) {
    say(answer.message ? refusalText(answer, response.status) : t("The ingest was refused (%(status)s).", { status: response.status }));
    $("add-start").disabled = false;
    return;
  }
  jobUrl = response.headers.get("Location");
  $("add-cancel").hidden = false;
  const bar = progressBar();
  $("add-ingest").replaceChildren(bar.element);
  bar.show(answer);
  say(t("Ingesting…"));
  stopFollowing = followJob(jobUrl, bar, { everyMs: 500, onEnd: ended });
}

function ended(job) {
  $("add-cancel").hidden = true;
  // the next files start a new batch; the bars and the links stay until then
  jobUrl = null;
  uploads.length = 0;
  prefilled = false;
  if (job.status === "done") {
    say(t("Added to the catalogue."));
    const made = $("add-made");
    for (const image of (job.result && job.result.images) || []) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = image.page;
      link.textContent = image.name;
      link.dir = "auto";
      const said = image.created ? t("new") : t("already in the catalogue");
      item.append(link, document.createTextNode(" · " + said));
      made.append(item);
    }
  } else if (job.status === "cancelled") {
    say(t("Cancelled."));
  } else {
    say(t("The ingest failed: %(why)s", { why: job.error || job.message }));
  }
}

async function cancel() {
  if (jobUrl) {
    const response = await request(jobUrl, { method: "DELETE" });
    const job = await response.json();
    if (response.ok) say(job.status === "cancelled" ? t("Cancelled.") : t("Stopping…"));
    return;
  }
  for (const upload of uploads) await upload.drop().catch(() => {});
  uploads.length = 0;
  sending = null;
  showList();
  showBytes();
  $("add-pause").hidden = true;
  $("add-cancel").hidden = true;
  $("add-start").disabled = true;
  say(t("Uploads dropped."));
}

async function loadSites() {
  const response = await request(root.dataset.sites);
  if (!response.ok) return;
  const select = $("add-site");
  for (const site of (await response.json()).sites || []) {
    const option = document.createElement("option");
    option.value = site.slug;
    option.textContent = site.name;
    option.selected = site.slug === root.dataset.site;
    select.append(option);
  }
  root.dataset.ready = "";
}

if (root) {
  $("add-files").addEventListener("change", (event) => {
    addFiles([...event.target.files]);
    event.target.value = "";
  });
  const zone = $("add-drop");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    addFiles([...event.dataTransfer.files]);
  });
  $("add-pause").addEventListener("click", () => {
    if (sending) {
      paused = true;
      sending.pause();
    } else {
      say(t("Resuming…"));
      sendAll();
    }
  });
  $("add-start").addEventListener("click", startIngest);
  $("add-cancel").addEventListener("click", cancel);
  loadSites();
}
