// The control-point editor (templates/georeference.html): pairs of a picture pixel and its
// ground position, made by a click on the picture then one on the reference (either order),
// numbered, draggable on both sides, deletable (a button per row, or Delete on the selected
// pair) and renumbered; Escape cancels a half pair, Ctrl+Z undoes. After each change (a
// quarter second later) the server fits them (POST /api/v1/georeference/residuals, GDAL's
// transformer of the method) and warps a preview over the reference. Text only: every
// value shown is set with textContent.
import { fromPixel, numbered, pictureMap, previewLayer, referenceMap, showReference, toPixel } from "./maps.js";
import { listVersions, save, send } from "./save.js";
import { refusalText, t } from "../i18n.js";

const { figures } = window.Annotator; // figures.js: the page's digits

const data = JSON.parse(document.getElementById("georef-data").textContent);
const csrf = document.getElementById("georef-csrf").value;
const $ = (id) => document.getElementById(id);
const NEEDS = { affine: 3, polynomial: 6, tps: 10 };
const WAIT_MS = 250;

const state = {
  pairs: data.gcps.map(([px, py, lon, lat]) => ({ px, py, lon, lat })),
  pending: null, // {px, py} or {lon, lat}: half a pair
  selected: null,
  fit: null, // the server's last answer for these pairs
  undo: [],
};

const picture = pictureMap($("georef-picture"), { url: data.picture, width: data.width, height: data.height });
const reference = referenceMap($("georef-reference-map"));
const preview = previewLayer(reference);
const markers = [];
let asked = 0;
let timer = null;
let dropReference = () => {};

function say(text) {
  $("georef-state").textContent = text;
}

const request = (url, init) => send(url, csrf, init);

function remember() {
  state.undo.push(JSON.stringify(state.pairs));
  if (state.undo.length > 100) state.undo.shift();
}

function changed() {
  state.fit = null;
  draw();
  clearTimeout(timer);
  timer = setTimeout(refit, WAIT_MS);
}

function pick(index) {
  state.selected = index;
  draw();
}

function inside(px, py) {
  return px >= 0 && py >= 0 && px <= data.width && py <= data.height;
}

picture.on("click", (event) => {
  const { px, py } = toPixel(event.latlng);
  if (!inside(px, py)) return;
  if (state.pending && "lon" in state.pending) {
    remember();
    state.pairs.push({ px, py, lon: state.pending.lon, lat: state.pending.lat });
    state.pending = null;
    state.selected = state.pairs.length - 1;
    changed();
  } else {
    state.pending = { px, py };
    draw();
  }
});

reference.on("click", (event) => {
  const { lat, lng } = event.latlng.wrap();
  if (state.pending && "px" in state.pending) {
    remember();
    state.pairs.push({ px: state.pending.px, py: state.pending.py, lon: lng, lat });
    state.pending = null;
    state.selected = state.pairs.length - 1;
    changed();
  } else {
    state.pending = { lon: lng, lat };
    draw();
  }
});

function removePair(index) {
  remember();
  state.pairs.splice(index, 1);
  state.selected = null;
  changed();
}

function moved(index, values) {
  remember();
  Object.assign(state.pairs[index], values);
  changed();
}

function drawMarkers() {
  markers.splice(0).forEach((marker) => marker.remove());
  const worst = state.fit ? state.fit.worst : null;
  state.pairs.forEach((pair, index) => {
    const options = { selected: index === state.selected, worst: index === worst, onPick: () => pick(index) };
    markers.push(numbered(fromPixel(pair.px, pair.py), index + 1, {
      ...options,
      onMove: (latlng) => {
        const { px, py } = toPixel(latlng);
        if (inside(px, py)) moved(index, { px, py });
        else draw();
      },
    }).addTo(picture));
    markers.push(numbered([pair.lat, pair.lon], index + 1, {
      ...options,
      onMove: (latlng) => { const w = latlng.wrap(); moved(index, { lon: w.lng, lat: w.lat }); },
    }).addTo(reference));
  });
  const half = state.pending;
  if (half) {
    const where = "px" in half ? [picture, fromPixel(half.px, half.py)] : [reference, [half.lat, half.lon]];
    markers.push(numbered(where[1], 0, { pending: true, onMove() {}, onPick() {} }).addTo(where[0]));
  }
}

function cell(text, className, dir) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  if (dir) td.dir = dir;
  return td;
}

function drawList() {
  const body = $("georef-points");
  body.replaceChildren();
  const fit = state.fit;
  state.pairs.forEach((pair, index) => {
    const row = document.createElement("tr");
    row.dataset.index = String(index);
    if (index === state.selected) row.classList.add("selected");
    if (fit && index === fit.worst) row.classList.add("worst");
    const metres = t("m");
    const residual = fit ? `${figures.number(fit.residuals_m[index], 2)} ${metres}` : "…";
    row.append(
      cell(String(index + 1)),
      cell(`${pair.px.toFixed(1)}, ${pair.py.toFixed(1)}`, null, "ltr"),
      cell(`${pair.lon.toFixed(6)}, ${pair.lat.toFixed(6)}`, null, "ltr"),
      cell(residual, "residual"),
    );
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "georef-delete";
    remove.textContent = t("Delete");
    remove.setAttribute("aria-label", t("delete point %(num)s", { num: index + 1 }));
    remove.addEventListener("click", (event) => { event.stopPropagation(); removePair(index); });
    const last = document.createElement("td");
    last.append(remove);
    row.append(last);
    row.addEventListener("click", () => pick(index));
    body.append(row);
  });
}

function drawMethods() {
  const count = state.pairs.length;
  const select = $("georef-method");
  for (const option of select.options) option.disabled = count < NEEDS[option.value];
  if (select.selectedOptions[0].disabled) select.value = "affine";
  const rmse = $("georef-rmse");
  const needed = NEEDS[select.value] - count;
  if (needed > 0) {
    rmse.textContent = needed === 1 ? t("RMSE: 1 more pair needed") : t("RMSE: %(num)s more pairs needed", { num: needed });
    delete rmse.dataset.rmse;
  } else if (state.fit) {
    const exact = state.fit.method === "tps";
    rmse.textContent = exact ? t("RMSE: exact at each point (thin plate spline)")
      : t("RMSE %(rmse)s m · worst #%(num)s", { rmse: figures.number(state.fit.rmse_m, 2), num: state.fit.worst + 1 });
    rmse.dataset.rmse = String(state.fit.rmse_m);
  } else {
    rmse.textContent = t("RMSE: fitting…");
    delete rmse.dataset.rmse;
  }
  $("georef-save").disabled = !state.fit;
}

// the fit's warning (imagery/press/fit.py) in the page's language; another as the server wrote it
function warning(text) {
  const found = /^RMSE ([\d.]+) m is over (\d+) of the picture's pixels \(([\d.]+) m each\): check the control points$/.exec(text);
  return found ? t("RMSE %(rmse)s m is over %(num)s of the picture's pixels (%(size)s m each): check the control points",
    { rmse: found[1], num: found[2], size: found[3] }) : text;
}

function drawWarnings(messages) {
  const list = $("georef-warnings");
  list.replaceChildren();
  for (const text of messages) {
    const item = document.createElement("li");
    item.textContent = warning(text);
    list.append(item);
  }
}

function draw() {
  drawMarkers();
  drawList();
  drawMethods();
  if (state.pending) {
    say("px" in state.pending ? t("Now click the same point on the reference (Esc cancels).")
      : t("Now click the same point on the picture (Esc cancels)."));
  } else {
    say(state.pairs.length === 1 ? t("1 pair.") : t("%(num)s pairs.", { num: state.pairs.length }));
  }
}

function gcps() {
  return state.pairs.map((p) => [p.px, p.py, p.lon, p.lat]);
}

// Fit the pairs now (residuals, then the preview); a later change makes the answer stale.
async function refit() {
  const method = $("georef-method").value;
  if (state.pairs.length < NEEDS[method]) {
    preview.clear();
    drawWarnings([]);
    return;
  }
  const ask = ++asked;
  const body = { gcps: gcps(), method, width: data.width, height: data.height };
  const response = await request(data.residuals, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (ask !== asked) return;
  if (!response.ok) {
    drawWarnings([answer.message ? refusalText(answer, response.status) : t("The points were refused (%(status)s).", { status: response.status })]);
    preview.clear();
    return;
  }
  state.fit = answer;
  draw();
  drawWarnings(answer.warnings || []);
  const shown = { gcps: body.gcps, method };
  if (data.upload) shown.upload = data.upload;
  const warped = await request(data.preview, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(shown),
  });
  const image = await warped.json();
  if (ask !== asked || !warped.ok) return;
  preview.show(image.image || image.png, image.bounds, Number($("georef-opacity").value));
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest && event.target.closest("input, select, textarea")) return;
  if (event.key === "Escape" && state.pending) {
    state.pending = null;
    draw();
  } else if ((event.key === "Delete" || event.key === "Backspace") && state.selected !== null) {
    event.preventDefault();
    removePair(state.selected);
  } else if (event.key.toLowerCase() === "z" && (event.ctrlKey || event.metaKey) && state.undo.length) {
    event.preventDefault();
    state.pairs = JSON.parse(state.undo.pop()).map((p) => ({ ...p }));
    state.selected = null;
    changed();
  }
});

$("georef-method").addEventListener("change", changed);
$("georef-opacity").addEventListener("input", (event) => preview.opacity(Number(event.target.value)));

// The site and its captures: the reference is a capture's tiles, or the outline alone.
function fillSites() {
  const sites = $("georef-site");
  const chosen = (data.facts.sites || [])[0]
    || (data.sites.find((s) => s.captures.length) || data.sites[0] || {}).slug;
  for (const site of data.sites) {
    const option = document.createElement("option");
    option.value = site.slug;
    option.textContent = site.name;
    option.selected = site.slug === chosen;
    sites.append(option);
  }
  sites.addEventListener("change", () => fillCaptures(null));
  fillCaptures(data.reference || null);
}

function fillCaptures(wanted) {
  const site = data.sites.find((s) => s.slug === $("georef-site").value);
  const select = $("georef-reference");
  select.replaceChildren();
  const none = document.createElement("option");
  none.value = "";
  none.textContent = t("the site's outline");
  select.append(none);
  for (const capture of site ? site.captures : []) {
    const option = document.createElement("option");
    option.value = capture.id;
    const when = capture.captured ? capture.captured.slice(0, 10) : t("undated");
    option.textContent = `${when} · ${capture.name}`;
    select.append(option);
  }
  const ids = site ? site.captures.map((c) => c.id) : [];
  select.value = wanted && ids.includes(wanted) ? wanted : ids[ids.length - 1] || "";
  showChosen();
}

async function showChosen() {
  dropReference();
  dropReference = () => {};
  const site = data.sites.find((s) => s.slug === $("georef-site").value);
  if (!site) {
    say(t("There is no site yet: make one first, to have a reference."));
    return;
  }
  const capture = site.captures.find((c) => c.id === $("georef-reference").value);
  dropReference = await showReference(reference, site, capture ? capture.tilejson : null);
  document.body.dataset.georefReference = capture ? capture.id : "outline";
}

$("georef-reference").addEventListener("change", showChosen);
$("georef-save").addEventListener("click", () => save(data, csrf, {
  gcps: gcps(), method: $("georef-method").value,
  site: $("georef-site").value, reference: $("georef-reference").value,
}));

fillSites();
draw();
if (state.pairs.length) refit();
if (data.history) listVersions(data, csrf);
window.georefMaps = { picture, reference }; // as the workspace's window.annotatorMap
document.body.dataset.georefReady = "yes";
