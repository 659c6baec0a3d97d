// What a job made, for the Jobs page's Result cell, by kind: an ingest links its images; an
// import its images (with how many annotations each) and their sites, and its counts; an
// export (or a report's story output) the download of its file while it is kept (its owner
// only: the file is theirs), or
// says it was removed; a failed job its error in one line; a cancelled one how it ended.
// Links go to this app only (paths starting with one "/"); all text is set with textContent.

const { el } = window.Annotator; // common.js

const local = (path) => typeof path === "string" && path.startsWith("/") && !path.startsWith("//");

function link(href, text) {
  const a = el("a", null, text);
  a.href = href;
  return a;
}

function joined(cell, items) {
  items.forEach((item, index) => {
    if (index) cell.append(document.createTextNode(", "));
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
      return a;
    });
}

function exported(cell, job, me) {
  const result = job.result;
  const kept = Date.parse(result.expires_at) > Date.now();
  if (job.owner === me && kept && local(result.download)) {
    const a = link(result.download, `Download ${result.name}`);
    a.className = "job-download";
    a.download = String(result.name || "");
    const what = typeof result.count === "number" ? `${result.count} annotation(s), ` : "";
    const until = String(result.expires_at).slice(0, 16).replace("T", " ");
    cell.append(a, el("span", "muted", ` · ${what}kept until ${until} UTC`));
  } else if (!kept) {
    cell.append(el("span", "muted job-removed", `${result.name}: removed (kept for a while only); export again`));
  } else {
    cell.append(el("span", "muted", `${result.name} (${job.owner}'s file)`));
  }
}

export function resultCell(job, me) {
  const cell = el("td", "job-result");
  const result = job.result;
  if (job.status === "failed") {
    const text = String(job.error || job.message || "failed").split(/\s+/).join(" ");
    cell.append(el("span", "job-error", text));
    return cell;
  }
  if (job.status === "cancelled") {
    cell.append(el("span", "muted", String(job.message || "cancelled")));
    return cell;
  }
  if (job.status !== "done" || !result) return cell;
  if (job.kind === "export" || job.kind === "story") {
    exported(cell, job, me);
    return cell;
  }
  if (job.kind === "import") {
    cell.append(el("span", "job-counts", `${result.created ?? 0} made, ${result.already_imported ?? 0} already there: `));
    joined(cell, images(result));
    const found = sites(result);
    if (found.length) {
      cell.append(document.createTextNode(" · sites: "));
      joined(cell, found);
    }
    return cell;
  }
  joined(cell, images(result));
  return cell;
}
