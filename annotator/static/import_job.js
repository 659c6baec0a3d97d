// "Import in the background" on the import page (templates/_import_job.html): the import job's
// progress bar (jobs/progress.js) with Cancel until it ends, then the report's counts and the
// images it made annotations on, or the job's error. Every text is set with textContent: file names,
// labels and errors may hold anything.
import { followJob, progressBar } from "./jobs/progress.js";
import { bdi, lineNode } from "./jobs/words.js";
import { refusal, t } from "./i18n.js";

const root = document.getElementById("import-job");

const text = (tag, value, className = "") => {
  const element = document.createElement(tag);
  element.textContent = value;
  if (className) element.className = className;
  return element;
};

function showReport(end, report) {
  const rows = [
    [t("made"), report.created, "made"],
    [t("already imported"), report.already_imported, "already"],
    [t("outside every image"), report.outside_every_image, "outside"],
    [t("invalid"), report.invalid, "invalid"],
  ];
  const body = document.createElement("tbody");
  for (const [label, count, className] of rows) {
    const row = document.createElement("tr");
    row.append(text("th", label), text("td", String(count ?? 0), className));
    body.append(row);
  }
  const table = document.createElement("table");
  table.className = "import-counts";
  table.append(body);
  const source = report.source || {};
  const facts = document.createElement("p"); // the file's name and format: data, in <bdi>
  const features = t("%(num)s features", { num: source.features });
  facts.append(bdi(source.name), " · ", bdi(source.format), ` · ${features}`);
  end.replaceChildren(
    text("h2", t("Imported: %(num)s made", { num: report.created })),
    facts,
    table,
  );
  const labels = Object.entries(report.by_label || {});
  if (labels.length) {
    const list = document.createElement("ul");
    list.className = "by-label";
    for (const [label, count] of labels) {
      const item = text("li", `${count} × `);
      item.append(bdi(label));
      list.append(item);
    }
    end.append(text("h3", t("By label")), list);
  }
  const images = Object.keys(report.by_image || {});
  if (images.length) {
    const links = document.createElement("p");
    images.forEach((id, index) => {
      const link = text("a", t("open the image %(id)s…", { id: id.slice(0, 8) }));
      link.href = root.dataset.image.replace("IMAGE_ID", encodeURIComponent(id));
      if (index) links.append(document.createTextNode(" · "));
      links.append(link);
    });
    end.append(links);
  }
}

// Cancel: DELETE the job; a running import stops between two batches and keeps nothing.
function cancelButton(end) {
  const button = root.querySelector(".import-job-cancel");
  button.addEventListener("click", () => {
    button.disabled = true;
    fetch(root.dataset.job, {
      method: "DELETE",
      headers: { Accept: "application/json", "X-CSRF-Token": root.dataset.csrf },
      credentials: "same-origin",
    })
      .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
      .then(({ ok, data }) => {
        if (ok) return;
        button.disabled = false;
        const said = text("p", "", "message");
        said.append(data.message ? refusal(data) : t("the job could not be cancelled"));
        end.replaceChildren(said);
      })
      .catch(() => {
        button.disabled = false;
      });
  });
  return button;
}

if (root) {
  const bar = progressBar();
  const end = root.querySelector(".import-job-end");
  const cancel = cancelButton(end);
  cancel.before(bar.element);
  followJob(root.dataset.job, bar, {
    onUpdate(job) {
      cancel.hidden = !["queued", "running"].includes(job.status) || job.cancelling;
    },
    onEnd(job) {
      cancel.hidden = true;
      if (job.status === "done" && job.result) {
        showReport(end, job.result);
        return;
      }
      root.classList.add("problem");
      root.setAttribute("role", "alert");
      const why = text("p", "", "message");
      why.append(lineNode(job.error || job.message || job.status));
      end.replaceChildren(
        text("h2", job.status === "cancelled" ? t("Cancelled") : t("Not imported")),
        why,
        text("p", t("Nothing was imported."), "muted"),
      );
    },
  });
}
