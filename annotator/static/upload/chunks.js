// A resumable upload of one file in Content-Range chunks (POST /api/v1/uploads starts it,
// PUT sends each chunk, GET says how much arrived). The upload's id is kept in localStorage
// under the file's name, size and date, so an interrupted upload -- a dropped connection, a
// pause, a closed tab -- goes on from the last chunk the server has, never sending one twice.

import { refusalText, t } from "../i18n.js";

const KEPT = "annotator.upload:";

export class ResumableUpload {
  constructor(file, { startUrl, csrf, chunkBytes, onProgress = () => {} }) {
    this.file = file;
    this.startUrl = startUrl;
    this.csrf = csrf;
    this.chunkBytes = chunkBytes;
    this.onProgress = onProgress;
    this.id = null;
    this.received = 0;
    this.controller = null;
    this.key = `${KEPT}${file.name}:${file.size}:${file.lastModified}`;
  }

  get complete() {
    return this.id !== null && this.received === this.file.size;
  }

  // Send what is missing; resolves when the server has the whole file. Rejects on a network
  // failure or an abort (pause): call send() again to go on.
  async send() {
    this.controller = new AbortController();
    const signal = this.controller.signal;
    if (this.id === null) await this.find(signal);
    if (this.id === null) await this.begin(signal);
    else await this.ask(signal);
    while (this.received < this.file.size) {
      const first = this.received;
      const last = Math.min(first + this.chunkBytes, this.file.size) - 1;
      const response = await fetch(this.url(), {
        method: "PUT",
        body: this.file.slice(first, last + 1),
        headers: this.headers({
          "Content-Type": "application/octet-stream",
          "Content-Range": `bytes ${first}-${last}/${this.file.size}`,
        }),
        credentials: "same-origin",
        signal,
      });
      const body = await response.json();
      if (!response.ok) {
        if (response.status === 409 && body.details && Number.isInteger(body.details.offset)) {
          this.received = body.details.offset; // someone else's view of the offset wins
          continue;
        }
        throw new Error(body.message ? refusalText(body, response.status) : t("the upload was refused (%(status)s)", { status: response.status }));
      }
      this.received = body.received;
      this.onProgress(this);
    }
    localStorage.removeItem(this.key);
    return this;
  }

  pause() {
    if (this.controller) this.controller.abort();
  }

  // Drop what the server has of it (the Cancel button before an ingest started).
  async drop() {
    this.pause();
    localStorage.removeItem(this.key);
    if (this.id === null) return;
    await fetch(this.url(), { method: "DELETE", headers: this.headers(), credentials: "same-origin" });
  }

  url() {
    return `${this.startUrl}/${this.id}`;
  }

  headers(extra = {}) {
    return { Accept: "application/json", "X-CSRF-Token": this.csrf, ...extra };
  }

  // An upload of this same file started earlier (by this browser) that the server still has.
  async find(signal) {
    const kept = localStorage.getItem(this.key);
    if (!kept || !/^[0-9a-f]{32}$/.test(kept)) return;
    const response = await fetch(`${this.startUrl}/${kept}`, {
      headers: this.headers(), credentials: "same-origin", signal,
    });
    if (response.status === 404) {
      localStorage.removeItem(this.key); // expired or finished meanwhile: start again
      return;
    }
    if (!response.ok) throw new Error(t("the upload could not be found (%(status)s)", { status: response.status }));
    this.id = kept;
    this.received = (await response.json()).received;
    this.onProgress(this);
  }

  async ask(signal) {
    const response = await fetch(this.url(), { headers: this.headers(), credentials: "same-origin", signal });
    if (!response.ok) throw new Error(t("the upload is gone (%(status)s); add the file again", { status: response.status }));
    this.received = (await response.json()).received;
    this.onProgress(this);
  }

  async begin(signal) {
    const response = await fetch(this.startUrl, {
      method: "POST",
      headers: this.headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ name: this.file.name, size: this.file.size }),
      credentials: "same-origin",
      signal,
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message ? refusalText(body, response.status) : t("the upload was refused (%(status)s)", { status: response.status }));
    this.id = body.id;
    this.received = body.received;
    localStorage.setItem(this.key, this.id);
  }
}
