// "Import by URL" (templates/_add_by_url.html): admins name a remote file, the server copies
// and imports it; the answer's image is linked. Every text is set with textContent.
const root = document.getElementById("add-by-url");

if (root) {
  const form = document.getElementById("by-url-form");
  const address = document.getElementById("by-url");
  const height = document.getElementById("by-url-height");
  const start = document.getElementById("by-url-start");
  const message = document.getElementById("by-url-message");

  const say = (text, isError = false) => {
    message.replaceChildren(document.createTextNode(text));
    message.classList.toggle("error", isError);
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { url: address.value.trim() };
    if (height.value !== "") body.height = Number(height.value);
    start.disabled = true;
    say("Copying and importing… (a large scene takes a while)");
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
        say(answer.message || `the import failed (HTTP ${response.status})`, true);
        return;
      }
      const link = document.createElement("a");
      link.href = root.dataset.image.replace("IMAGE_ID", encodeURIComponent(answer.id));
      link.textContent = answer.original_filename;
      link.id = "by-url-made";
      const placed = answer.georeferencing ? ` (${answer.georeferencing.text})` : "";
      message.replaceChildren(
        document.createTextNode(answer.created ? "Imported " : "Already in the catalogue: "),
        link,
        document.createTextNode(placed),
      );
      message.classList.remove("error");
    } catch (error) {
      say(`the import failed: ${error}`, true);
    } finally {
      start.disabled = false;
    }
  });
}
