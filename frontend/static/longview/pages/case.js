// A case page: chunked uploads into the case and the live ingest status of each of its videos.
import { renderStatus, renderStoredStatus } from "../lib/cards.js";
import { api, el } from "../lib/dom.js";
import { watchIngest } from "../lib/events.js";
import { startPage } from "../lib/page.js";
import { UploadQueue, notTheSameFile } from "../lib/uploads.js";

const events = startPage();
const table = document.getElementById("videos");
const rowOf = (id) => table.querySelector('tr[data-video="' + id + '"]');

const live = [];
table.querySelectorAll("tr[data-video]").forEach((row) => {
  renderStoredStatus(row.querySelector(".status"), row.dataset);
  if (["queued", "processing"].includes(row.dataset.status)) live.push(Number(row.dataset.video));
});
if (live.length) events.send({ type: "ingest.subscribe", videos: live }, { sticky: true });
watchIngest(events, (id, status, opts) => {
  const row = rowOf(id);
  if (!row) return;
  row.dataset.status = status;
  renderStatus(row.querySelector(".status"), status, opts);
  if (opts.people !== undefined) row.querySelector(".people").textContent = opts.people;
});
// People whose tracks have ended are stored (and searchable) before the whole video is done.
events.on("ingest.people", (m) => {
  const row = rowOf(m.video);
  if (row) row.querySelector(".people").textContent = m.people + " so far";
});

function addRow(video) {
  const empty = table.querySelector("tr.empty");
  if (empty) empty.remove();
  const status = el("td", { class: "status" });
  renderStatus(status, "uploading");
  const row = el("tr", { "data-video": String(video.id), "data-status": video.status }, [
    el("td", {}, [el("a", { href: "/videos/" + video.id + "/", text: video.original_name })]),
    el("td", { text: video.camera_name }),
    el("td", { text: video.recorded_at.replace("T", " ").slice(0, 19) }),
    status,
    el("td", { class: "people", text: "0" }),
  ]);
  table.tBodies[0].prepend(row);
}

// ---- uploads: several files queued at once, and the unfinished ones resumed ----
const form = document.getElementById("upload-form");
if (form) {
  const localNow = () => new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 19);
  form.recorded_at.value = localNow();
  const box = document.getElementById("upload");
  const overall = document.getElementById("upload-progress");
  const text = document.getElementById("upload-text");
  const errorBox = document.getElementById("upload-error");
  let queued = 0, finished = 0;
  const counted = () => {
    overall.parentElement.hidden = false;
    overall.value = queued ? Math.round((100 * finished) / queued) : 0;
    text.textContent = finished + " of " + queued + " files uploaded";
  };
  const queue = new UploadQueue(document.getElementById("upload-queue"), () => Number(box.dataset.chunkBytes), {
    created: addRow,
    uploaded: (video) => {
      finished += 1;
      counted();
      events.send({ type: "ingest.subscribe", videos: [video.id] }, { sticky: true });
      const row = rowOf(video.id);
      if (!row) return;
      row.dataset.status = video.status;
      renderStatus(row.querySelector(".status"), video.status, { percent: 0, message: "queued" });
    },
    failed: (err, video) => {
      finished += 1;
      counted();
      errorBox.textContent = err.message;
      errorBox.hidden = false;
      const row = video ? rowOf(video.id) : (err.data && err.data.video ? rowOf(err.data.video) : null);
      if (row) renderStatus(row.querySelector(".status"), "rejected", { reason: err.message });
    },
  });

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    errorBox.hidden = true;
    const files = Array.from(form.file.files);
    if (!files.length) return;
    const recorded = new Date(form.recorded_at.value).toISOString();
    const camera = Number(form.camera.value);
    const caseId = Number(document.getElementById("case-page").dataset.case);
    files.forEach((file) => {
      queued += 1;
      queue.enqueue(file, () => api("POST", "/api/videos/", JSON.stringify({
        case: caseId, camera, recorded_at: recorded, filename: file.name, size: file.size,
      }), { "Content-Type": "application/json" }));
    });
    counted();
    form.reset();
    form.recorded_at.value = localNow();
  });

  // Uploads of this user that stopped part-way: the same file, picked again, sends the rest.
  document.querySelectorAll("#unfinished-uploads li[data-video]").forEach((item) => {
    const input = item.querySelector("input.resume-file");
    const problem = item.querySelector(".resume-error");
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) return;
      problem.hidden = true;
      try {
        const state = await api("GET", "/api/videos/" + item.dataset.video + "/content/");
        const reason = await notTheSameFile(file, state);
        if (reason) throw new Error(reason);
        item.remove();
        queued += 1;
        counted();
        queue.resume(file, { id: state.video, upload_offset: state.offset });
      } catch (err) {
        problem.textContent = err.message;
        problem.hidden = false;
        input.value = "";
      }
    });
  });
  // The button stays disabled until the upload can run here: a click before this script loaded
  // would submit the form natively, with no recording time filled in yet.
  const ready = form.querySelector("button[type=submit]");
  ready.disabled = false;
  ready.removeAttribute("title");
}
