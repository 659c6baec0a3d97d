// "Import by URL" (templates/_add_by_url.html): admins name a remote file; the server queues
// an ingest job that copies then imports it (202), whose progress bar follows it here
// (jobs/progress.js); the job's image is linked. Every text is set with textContent.
import { followJob, progressBar } from "./jobs/progress.js";
import { placementNode } from "./jobs/words.js";
import { refusal, t } from "./i18n.js";

const root = document.getElementById("add-by-url");

if (root) {
  const form = document.getElementById("by-url-form");
  const address = document.getElementById("by-url");
  const height = document.getElementById("by-url-height");
  const start = document.getElementById("by-url-start");
  const message = document.getElementById("by-url-message");

  const say = (text, isError = false) => {
    message.replaceChildren(text);
    message.classList.toggle("error", isError);
  };

  // the ended job: its image linked with how it was placed, or the job's error
  const showEnd = async (job, bar) => {
    const made = job.status === "done" && job.result && job.result.images[0];
    if (!made) {
      message.classList.add("error");
      return; // the bar says failed or cancelled, with the job's error
    }
    const image = await fetch(made.href, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : {}))
      .catch(() => ({}));
    const link = document.createElement("a");
    link.href = root.dataset.image.replace("IMAGE_ID", encodeURIComponent(made.id));
    link.textContent = made.name;
    link.id = "by-url-made";
    link.dir = "auto";
    message.replaceChildren(
      bar.element,
      document.createElement("br"),
      document.createTextNode(made.created ? t("Imported ") : t("Already in the catalogue: ")),
      link,
    );
    if (image.georeferencing) {
      // how it was placed, in the page's language where imagery's sentence is known here
      message.append(" (", placementNode(image.georeferencing.text), ")");
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { url: address.value.trim() };
    if (height.value !== "") body.height = Number(height.value);
    start.disabled = true;
    say(t("Copying and importing… (a large scene takes a while)"));
    try {
      const response = await fetch(root.dataset.endpoint, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRF-Token": root.dataset.csrf,
        },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        say(answer.message ? refusal(answer, response.status) : t("the import failed (HTTP %(status)s)", { status: response.status }), true);
        return;
      }
      const bar = progressBar();
      bar.show(answer);
      message.replaceChildren(bar.element);
      message.classList.remove("error");
      await new Promise((resolve) => {
        followJob(`${root.dataset.jobs}/${encodeURIComponent(answer.id)}`, bar, { onEnd: resolve });
      }).then((job) => showEnd(job, bar));
    } catch (error) {
      say(t("the import failed: %(why)s", { why: String(error) }), true);
    } finally {
      start.disabled = false;
    }
  });
}
