// A job's words in the page's language (issue 16): its status and kind, and the progress
// lines the server writes in English (annotations/jobs, annotator/jobs, annotator/intake,
// annotations/exchange/imports: "ingesting a.tif (1 of 2)", "writing 1,200 annotations" ...).
// A line of a shape not known here (an error's detail) is returned as null: the caller shows
// it as the server's own words, left to right in an English <bdi>. Names a line quotes are
// kept in Unicode isolates (U+2068 ... U+2069) so they keep their own direction.
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

// a name (first strong letter's direction) or a figure (left to right) kept apart from the
// sentence around it; English pages keep the server's text as it is
export const isolate = (text) => (language === "en" ? String(text) : `\u2068${text}\u2069`);
export const leftToRight = (text) => (language === "en" ? String(text) : `\u2066${text}\u2069`);
const name = isolate;

// [the server's line, its words here]; the first that matches the whole line is used
const LINES = [
  [/^waiting for a worker$/, () => t("waiting for a worker")],
  [/^started$/, () => t("started")],
  [/^done$/, () => t("done")],
  [/^failed$/, () => t("failed")],
  [/^cancelled$/, () => t("cancelled")],
  [/^recording in the catalogue$/, () => t("recording in the catalogue")],
  [/^cancelled while running$/, () => t("cancelled while running")],
  [/^cancelled while running; nothing was imported$/, () => t("cancelled while running; nothing was imported")],
  [/^cancelled by (.+) before it started$/, (m) => t("cancelled by %(name)s before it started", { name: name(m[1]) })],
  [/^cancelling \(asked by (.+)\)$/, (m) => t("cancelling (asked by %(name)s)", { name: name(m[1]) })],
  [/^ingesting (.+) \((\d+) of (\d+)\)$/, (m) => t("ingesting %(name)s (%(num)s of %(total)s)", { name: name(m[1]), num: m[2], total: m[3] })],
  [/^copying (.+): ([\d,]+) of ([\d,]+) bytes$/, (m) => t("copying %(name)s: %(done)s of %(total)s bytes", { name: name(m[1]), done: m[2], total: m[3] })],
  [/^copying (.+): ([\d,]+) bytes$/, (m) => t("copying %(name)s: %(done)s bytes", { name: name(m[1]), done: m[2] })],
  [/^copying (.+)$/, (m) => t("copying %(name)s", { name: name(m[1]) })],
  [/^exporting as (.+)$/, (m) => t("exporting as %(format)s", { format: name(m[1]) })],
  [/^importing (.+)$/, (m) => t("importing %(name)s", { name: name(m[1]) })],
  [/^reading (.+)$/, (m) => t("reading %(name)s", { name: name(m[1]) })],
  [/^checking ([\d,]+) features$/, (m) => t("checking %(num)s features", { num: m[1] })],
  [/^checked ([\d,]+) of ([\d,]+) features$/, (m) => t("checked %(done)s of %(total)s features", { done: m[1], total: m[2] })],
  [/^writing ([\d,]+) annotations$/, (m) => t("writing %(num)s annotations", { num: m[1] })],
  [/^wrote ([\d,]+) of ([\d,]+)$/, (m) => t("wrote %(done)s of %(total)s", { done: m[1], total: m[2] })],
  [/^imported (\d+) annotation\(s\) from (.+)$/, (m) => t("imported %(num)s annotation(s) from %(name)s", { num: m[1], name: name(m[2]) })],
  [/^making the (.+)$/, (m) => t("making %(file)s", { file: name(m[1]) })],
  [/^writing the (.+)$/, (m) => t("writing %(file)s", { file: name(m[1]) })],
  [/^placing (.+) by (\d+) control points$/, (m) => t("placing %(name)s by %(num)s control points", { name: name(m[1]), num: m[2] })],
];

// The server's progress line in the page's language, or null when its shape is not known.
export function jobLine(text) {
  const line = String(text || "");
  if (language === "en") return line; // the server's own words
  for (const [pattern, words] of LINES) {
    const found = line.match(pattern);
    if (found) return words(found);
  }
  return null;
}

// A node for a job's line: its words here, or the server's own, left to right in English.
export function lineNode(text) {
  const said = jobLine(text);
  if (said !== null) return document.createTextNode(said);
  const own = document.createElement("bdi");
  own.dir = "ltr";
  own.lang = "en";
  own.textContent = String(text || "");
  return own;
}
