// A job's words in the page's language (issue 16): its status and kind, and the progress
// lines the server writes in English (annotations/jobs, annotator/jobs, annotator/intake,
// annotations/exchange/imports: "ingesting a.tif (1 of 2)", "writing 1,200 annotations" ...).
// A line of a shape not known here (an error's detail) is returned as null: the caller shows
// it as the server's own words, left to right in an English <bdi>. Names a line quotes are
// kept in <bdi>, so they keep their own direction.
import { language, t } from "../i18n.js";

const STATUSES = {
  queued: () => t("queued"),
  running: () => t("running"),
  done: () => t("done"),
  failed: () => t("failed"),
  cancelled: () => t("cancelled"),
  cancelling: () => t("cancelling"),
};

const KINDS = {
  ingest: () => t("ingest"),
  import: () => t("import"),
  export: () => t("export"),
  story: () => t("report output"),
  georeference: () => t("placement by control points"),
};

export function statusWord(status) {
  return STATUSES[status] ? STATUSES[status]() : String(status);
}

export function kindWord(kind) {
  return KINDS[kind] ? KINDS[kind]() : String(kind);
}

// A slot for a name in t()'s values; `named` then makes the sentence a node, each slot's
// value in its own <bdi> (a file or user name keeps its own direction, and reads as data).
export const slot = (key) => `\u0000${key}\u0000`;

export function named(said, values) {
  const fragment = document.createDocumentFragment();
  String(said).split("\u0000").forEach((part, index) => {
    if (index % 2 === 0) {
      if (part) fragment.append(part);
      return;
    }
    const own = document.createElement("bdi");
    own.textContent = String(values[part] ?? "");
    fragment.append(own);
  });
  return fragment;
}

// a name alone, in its own <bdi>
export function bdi(text) {
  const own = document.createElement("bdi");
  own.textContent = String(text ?? "");
  return own;
}

// a figure (a time) kept left to right inside the sentence around it
export const leftToRight = (text) => (language === "en" ? String(text) : `\u2066${text}\u2069`);

const N = slot("name");

// [the server's line, its words here]; the first that matches the whole line is used; the
// names a line quotes are m.name, m.format, m.file (put in <bdi> by `named`)
const LINES = [
  [/^waiting for a worker$/, () => t("waiting for a worker")],
  [/^started$/, () => t("started")],
  [/^done$/, () => t("done")],
  [/^failed$/, () => t("failed")],
  [/^cancelled$/, () => t("cancelled")],
  [/^recording in the catalogue$/, () => t("recording in the catalogue")],
  [/^cancelled while running$/, () => t("cancelled while running")],
  [/^cancelled while running; nothing was imported$/, () => t("cancelled while running; nothing was imported")],
  [/^cancelled by (?<name>.+) before it started$/, () => t("cancelled by %(name)s before it started", { name: N })],
  [/^cancelling \(asked by (?<name>.+)\)$/, () => t("cancelling (asked by %(name)s)", { name: N })],
  [/^ingesting (?<name>.+) \((\d+) of (\d+)\)$/, (m) => t("ingesting %(name)s (%(num)s of %(total)s)", { name: N, num: m[2], total: m[3] })],
  [/^copying (?<name>.+): ([\d,]+) of ([\d,]+) bytes$/, (m) => t("copying %(name)s: %(done)s of %(total)s bytes", { name: N, done: m[2], total: m[3] })],
  [/^copying (?<name>.+): ([\d,]+) bytes$/, (m) => t("copying %(name)s: %(done)s bytes", { name: N, done: m[2] })],
  [/^copying (?<name>.+)$/, () => t("copying %(name)s", { name: N })],
  [/^exporting as (?<name>.+)$/, () => t("exporting as %(format)s", { format: N })],
  [/^importing (?<name>.+)$/, () => t("importing %(name)s", { name: N })],
  [/^reading (?<name>.+)$/, () => t("reading %(name)s", { name: N })],
  [/^checking ([\d,]+) features$/, (m) => t("checking %(num)s features", { num: m[1] })],
  [/^checked ([\d,]+) of ([\d,]+) features$/, (m) => t("checked %(done)s of %(total)s features", { done: m[1], total: m[2] })],
  [/^writing ([\d,]+) annotations$/, (m) => t("writing %(num)s annotations", { num: m[1] })],
  [/^wrote ([\d,]+) of ([\d,]+)$/, (m) => t("wrote %(done)s of %(total)s", { done: m[1], total: m[2] })],
  [/^imported (\d+) annotation\(s\) from (?<name>.+)$/, (m) => t("imported %(num)s annotation(s) from %(name)s", { num: m[1], name: N })],
  [/^making the (?<name>.+)$/, () => t("making %(file)s", { file: N })],
  [/^writing the (?<name>.+)$/, () => t("writing %(file)s", { file: N })],
  [/^placing (?<name>.+) by (\d+) control points$/, (m) => t("placing %(name)s by %(num)s control points", { name: N, num: m[2] })],
];

// How an image was placed, imagery's English sentence (annotator/language/gis.py reads the
// same shapes for the pages) in the page's language; another sentence, or any on an English
// page, as the server wrote it.
const PLACEMENTS = [
  [/^(\d+) control points?, a thin plate spline exact at each \(no RMSE\)$/,
    (m) => t("placed by %(num)s control points, a thin plate spline exact at each (no RMSE)", { num: m[1] })],
  [/^(\d+) control points?, RMSE ([\d.]+) m$/,
    (m) => t("placed by %(num)s control points, RMSE %(rmse)s m", { num: m[1], rmse: m[2] })],
  [/^control points, RMSE ([\d.]+) m$/, (m) => t("placed by control points, RMSE %(rmse)s m", { rmse: m[1] })],
  [/^GCP thin plate spline, exact at its (\d+) points \(RMS (\S+) m\)$/,
    (m) => t("placed by the file's %(num)s control points, a thin plate spline exact at each", { num: m[1] })],
  [/^GCP polynomial (\d+), RMS (\S+) m \((\d+) points\)$/,
    (m) => t("placed by the file's %(num)s control points, polynomial of order %(order)s, RMS %(rms)s m", { num: m[3], order: m[1], rms: m[2] })],
  [/^RPC, constant height (\S+) m(?: \((.*)\))?$/,
    (m) => t("placed by RPC, at a constant ground height of %(height)s m", { height: m[1] })],
  [/^rotated geotransform, warped north-up$/, () => t("placed by a rotated geotransform, warped north-up")],
];

// the figures a matched line quotes in the page's digits (figures.js); names (m.groups) as they are
function inDigits(found) {
  const figure = (part, i) => (i > 0 && /^[\d.,]+$/.test(part || "") ? window.Annotator.figures.written(part) : part);
  return Object.assign(Array.from(found, figure), { groups: found.groups });
}

export function placementNode(text) {
  const rest = String(text || "").replace(/^placed by /, "").trim();
  if (language !== "en") {
    for (const [pattern, words] of PLACEMENTS) {
      const found = rest.match(pattern);
      if (found) return document.createTextNode(words(inDigits(found)));
    }
  }
  const own = document.createElement("bdi");
  own.dir = "ltr";
  own.lang = "en";
  own.textContent = String(text || "");
  return own;
}

// A node for a job's line (its status line, or why it ended): its words here, the names in
// it in <bdi>; a line of a shape not known here (an error's detail), or any line on an
// English page, as the server wrote it (not English: in an English <bdi>, left to right).
export function lineNode(text) {
  const line = String(text || "");
  if (language === "en") return document.createTextNode(line);
  for (const [pattern, words] of LINES) {
    const found = line.match(pattern);
    if (found) return named(words(inDigits(found)), { name: found.groups ? found.groups.name : "" });
  }
  const own = document.createElement("bdi");
  own.dir = "ltr";
  own.lang = "en";
  own.textContent = line;
  return own;
}
