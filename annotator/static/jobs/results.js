// What a job made, for the Jobs page's Result cell, by kind: an ingest links its images; an
// import its images (with how many annotations each) and their sites, and its counts; an
// export (or a report's story output) the download of its file while it is kept (its owner
// only: the file is theirs), or
// says it was removed; a failed job its error in one line; a cancelled one how it ended.
// Links go to this app only (paths starting with one "/"); all text is set with textContent.

import { t } from "../i18n.js";
import { bdi, leftToRight, lineNode, named, slot } from "./words.js";

const { el } = window.Annotator; // common.js

const local = (path) => typeof path === "string" && path.startsWith("/") && !path.startsWith("//");

function link(href, text) {
  const a = el("a", null, text);
  a.href = href;
  return a;
}

function joined(cell, items) {
  items.forEach((item, index) => {
    if (index) cell.append(document.createTextNode(t(", ")));
    cell.append(item);
  });
}

function images(result) {
  const found = Array.isArray(result.images) ? result.images : [];
  return found
    .filter((image) => local(image.page))
    .map((image) => {
      const a = link(image.page, String(image.name || image.id));
      a.className = "job-image";
      a.dir = "auto";
      if (typeof image.count !== "number") return a;
      const span = el("span", "job-made");
      span.append(a, document.createTextNode(` (${image.count})`));
      return span;
    });
}

function sites(result) {
  const found = Array.isArray(result.sites) ? result.sites : [];
  return found
    .filter((site) => local(site.page))
    .map((site) => {
      const a = link(site.page, String(site.name || site.slug));
      a.className = "job-site";
      a.dir = "auto";
      return a;
    });
}

function exported(cell, job, me) {
  const result = job.result;
  const kept = Date.parse(result.expires_at) > Date.now();
  if (job.owner === me && kept && local(result.download)) {
    const a = link(result.download, "");
    a.append(named(t("Download %(name)s", { name: slot("name") }), { name: result.name }));
    a.className = "job-download";
    a.download = String(result.name || "");
    const until = leftToRight(`${String(result.expires_at).slice(0, 16).replace("T", " ")} UTC`);
    const kept = typeof result.count === "number"
      ? t("%(num)s annotation(s), kept until %(when)s", { num: result.count, when: until })
      : t("kept until %(when)s", { when: until });
    cell.append(a, el("span", "muted", ` · ${kept}`));
  } else if (!kept) {
    const removed = el("span", "muted job-removed");
    removed.append(named(t("%(name)s: removed (kept for a while only); export again", { name: slot("name") }), { name: result.name }));
    cell.append(removed);
  } else {
    const theirs = el("span", "muted");
    const said = t("%(name)s (%(owner)s's file)", { name: slot("name"), owner: slot("owner") });
    theirs.append(named(said, { name: result.name, owner: job.owner }));
    cell.append(theirs);
  }
}

export function resultCell(job, me) {
  const cell = el("td", "job-result");
  const result = job.result;
  if (job.status === "failed") {
    const text = String(job.error || job.message || "failed").split(/\s+/).join(" ");
    const error = el("span", "job-error");
    error.append(lineNode(text));
    cell.append(error);
    return cell;
  }
  if (job.status === "cancelled") {
    const ended = el("span", "muted");
    ended.append(lineNode(String(job.message || "cancelled")));
    cell.append(ended);
    return cell;
  }
  if (job.status !== "done" || !result) return cell;
  if (job.kind === "export" || job.kind === "story") {
    exported(cell, job, me);
    return cell;
  }
  if (job.kind === "import") {
    cell.append(el("span", "job-counts", t("%(made)s made, %(already)s already there: ", { made: result.created ?? 0, already: result.already_imported ?? 0 })));
    joined(cell, images(result));
    const found = sites(result);
    if (found.length) {
      cell.append(document.createTextNode(t(" · sites: ")));
      joined(cell, found);
    }
    return cell;
  }
  joined(cell, images(result));
  return cell;
}
