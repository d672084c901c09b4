// A case page: chunked uploads into the case and the live ingest status of each of its videos.
import { renderStatus, renderStoredStatus } from "../lib/cards.js";
import { api, el } from "../lib/dom.js";
import { watchIngest } from "../lib/events.js";
import { startPage } from "../lib/page.js";

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

const form = document.getElementById("upload-form");
if (form) {
  const localNow = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
  form.recorded_at.value = localNow.toISOString().slice(0, 19);
  const chunk = Number(document.getElementById("upload").dataset.chunkBytes);
  const bar = document.getElementById("upload-progress");
  const text = document.getElementById("upload-text");
  const errorBox = document.getElementById("upload-error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    errorBox.hidden = true;
    const file = form.file.files[0];
    if (!file) return;
    const button = form.querySelector("button");
    button.disabled = true;
    bar.parentElement.hidden = false;
    bar.value = 0;
    text.textContent = "starting upload of " + file.name;
    try {
      const recorded = new Date(form.recorded_at.value).toISOString();
      let video = await api("POST", "/api/videos/", JSON.stringify({
        case: Number(document.getElementById("case-page").dataset.case),
        camera: Number(form.camera.value), recorded_at: recorded, filename: file.name, size: file.size,
      }), { "Content-Type": "application/json" });
      addRow(video);
      let offset = video.upload_offset;
      while (offset < file.size) {
        const end = Math.min(offset + chunk, file.size);
        try {
          video = await api("PUT", "/api/videos/" + video.id + "/content/", file.slice(offset, end), {
            "Content-Type": "application/octet-stream",
            "Content-Range": "bytes " + offset + "-" + (end - 1) + "/" + file.size,
          });
        } catch (err) {
          // 409 tells us where the server stands: resume from there.
          if (err.status === 409 && err.data && err.data.offset !== undefined && err.data.offset < file.size) {
            offset = err.data.offset;
            continue;
          }
          if (err.data && err.data.video) {
            const row = rowOf(err.data.video);
            if (row) renderStatus(row.querySelector(".status"), "rejected", { reason: err.message });
          }
          throw err;
        }
        offset = video.upload_offset;
        bar.value = Math.round((100 * offset) / file.size);
        text.textContent = "uploading " + file.name + ": " + bar.value + "%";
      }
      text.textContent = file.name + " uploaded; processing has started";
      events.send({ type: "ingest.subscribe", videos: [video.id] }, { sticky: true });
      const row = rowOf(video.id);
      if (row) renderStatus(row.querySelector(".status"), video.status, { percent: 0, message: "queued" });
      form.reset();
      form.recorded_at.value = localNow.toISOString().slice(0, 19);
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
      text.textContent = "";
      bar.parentElement.hidden = true;
    } finally {
      button.disabled = false;
    }
  });
  // The button stays disabled until the upload can run here: a click before this script loaded
  // would submit the form natively, with no recording time filled in yet.
  const ready = form.querySelector("button[type=submit]");
  ready.disabled = false;
  ready.removeAttribute("title");
}
