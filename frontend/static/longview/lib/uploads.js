// Chunked uploads, queued: one file after another, each with its own progress bar. An upload cut
// off by the network pauses and resumes from the byte the server has; one cut off by a reload is
// resumed from the case page's list of unfinished uploads, with the same file picked again.
import { api, el } from "./dom.js";

const OCTETS = { "Content-Type": "application/octet-stream" };
const RETRIES = [1000, 2000, 4000];   // waits before each new try of a chunk the network lost
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// No HTTP status: the request never got an answer (offline, connection reset).
const isNetworkError = (err) => err.status === undefined;

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Why ``file`` is not the file upload ``state`` (GET /api/videos/{id}/content/) was started with,
// or null when it is: the same name and size and, where the browser can hash (a secure origin),
// the same first bytes as the server received.
export async function notTheSameFile(file, state) {
  if (state.status !== "uploading") return "this upload is " + state.status + " already";
  if (file.name !== state.name) return "this upload is of " + state.name + ", not " + file.name;
  if (file.size !== state.size) return file.name + " is " + file.size + " bytes; the upload was started with " + state.size;
  if (state.head_bytes && globalThis.crypto && crypto.subtle) {
    const head = await sha256Hex(file.slice(0, state.head_bytes));
    if (head !== state.head_sha256) return file.name + " starts differently from the file this upload was started with";
  }
  return null;
}

// Sends ``file`` to ``video`` from ``offset`` in chunks of ``chunk`` bytes; ``progress(offset)``
// after each. A 409 names where the server stands: sending goes on from there. Returns the video
// as the last chunk left it.
async function sendFrom(video, file, offset, chunk, progress) {
  let tries = 0;
  while (offset < file.size) {
    const end = Math.min(offset + chunk, file.size);
    try {
      video = await api("PUT", "/api/videos/" + video.id + "/content/", file.slice(offset, end),
        Object.assign({ "Content-Range": "bytes " + offset + "-" + (end - 1) + "/" + file.size }, OCTETS));
    } catch (err) {
      if (err.status === 409 && err.data && err.data.offset !== undefined && err.data.offset < file.size) {
        offset = err.data.offset;
        continue;
      }
      // The last chunk arrived but its answer was lost: the upload is complete.
      if (err.status === 409 && err.data && err.data.offset === file.size) return api("GET", "/api/videos/" + video.id + "/");
      if (isNetworkError(err) && tries < RETRIES.length) {
        await sleep(RETRIES[tries++]);
        continue;
      }
      throw err;
    }
    tries = 0;
    offset = video.upload_offset;
    progress(offset);
  }
  return video;
}

// One file in the queue, drawn as a list item with its own progress bar.
class Job {
  constructor(queue, file, start) {
    this.queue = queue;
    this.file = file;
    this.start = start;   // () → the video to send to, created or resumed
    this.video = null;
    this.bar = el("progress", { class: "upload-bar", max: "100" });
    this.bar.value = 0;
    this.text = el("span", { class: "upload-text", text: "waiting" });
    this.item = el("li", { class: "upload-item", "data-name": file.name, "data-state": "queued" },
      [el("strong", { text: file.name }), this.bar, this.text]);
  }

  state(name, text) {
    this.item.dataset.state = name;
    this.text.textContent = text;
  }

  async run() {
    this.state("uploading", "starting");
    if (this.video === null) {
      this.video = await this.start();
      this.queue.hooks.created(this.video);
    } else {
      // Resuming after a pause: the server says where it stands.
      const state = await api("GET", "/api/videos/" + this.video.id + "/content/");
      this.video = Object.assign({}, this.video, { upload_offset: state.offset });
    }
    const shown = (offset) => {
      this.bar.value = Math.round((100 * offset) / this.file.size);
      this.state("uploading", this.bar.value + "%");
    };
    shown(this.video.upload_offset);
    this.video = await sendFrom(this.video, this.file, this.video.upload_offset, this.queue.chunkBytes(), shown);
    this.state("done", "uploaded; processing has started");
    this.queue.hooks.uploaded(this.video);
  }

  // The network failed for good: the server keeps what it has; a click sends the rest.
  pause(err) {
    this.state("paused", "paused at " + this.bar.value + "%: " + err.message + " ");
    const resume = el("button", { type: "button", class: "secondary upload-resume", text: "Resume" });
    resume.addEventListener("click", () => { resume.remove(); this.queue.add(this); });
    this.text.appendChild(resume);
  }
}

// The page's upload queue; ``hooks``: created(video), uploaded(video), failed(err, video).
export class UploadQueue {
  constructor(list, chunkBytes, hooks) {
    this.list = list;
    this.chunkBytes = chunkBytes;
    this.hooks = hooks;
    this.waiting = [];
    this.busy = false;
  }

  // A new upload: ``create()`` opens it on the server when its turn comes.
  enqueue(file, create) { this.add(new Job(this, file, create)); }

  // The rest of an upload the server holds part of (``video`` with ``id`` and ``upload_offset``).
  resume(file, video) {
    const job = new Job(this, file, null);
    job.video = video;
    this.add(job);
  }

  add(job) {
    if (!job.item.isConnected) this.list.appendChild(job.item);
    job.state("queued", "waiting");
    this.waiting.push(job);
    this.next();
  }

  async next() {
    if (this.busy) return;
    const job = this.waiting.shift();
    if (!job) return;
    this.busy = true;
    try {
      await job.run();
    } catch (err) {
      if (isNetworkError(err) && job.video !== null) job.pause(err);
      else {
        job.state("failed", err.message);
        this.hooks.failed(err, job.video);
      }
    } finally {
      this.busy = false;
      this.next();
    }
  }
}
