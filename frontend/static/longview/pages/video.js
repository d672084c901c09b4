// One video: its live ingest status, and the people found once it is done.
import { personCard, renderStatus, renderStoredStatus } from "../lib/cards.js";
import { api, el, pageData } from "../lib/dom.js";
import { watchIngest } from "../lib/events.js";
import { startPage } from "../lib/page.js";
import { wireVideoDeletes } from "../lib/video_delete.js";

const events = startPage();
const section = document.getElementById("video-page");
const id = Number(section.dataset.video);
const statusBox = document.getElementById("video-status");
const grid = document.getElementById("people");

function showPeople(people, emptyText) {
  grid.replaceChildren(...people.map((p) => personCard(p)));
  if (!people.length) grid.appendChild(el("p", { class: "empty", text: emptyText }));
  document.getElementById("people-count").textContent = people.length;
}

renderStoredStatus(statusBox, section.dataset);
showPeople(pageData("people-data"), section.dataset.status === "done"
  ? "Nobody was found in this video." : "People appear here when processing finishes.");
if (["queued", "processing"].includes(section.dataset.status)) {
  events.send({ type: "ingest.subscribe", videos: [id] }, { sticky: true });
}
watchIngest(events, async (vid, status, opts) => {
  if (vid !== id) return;
  section.dataset.status = status;
  renderStatus(statusBox, status, opts);
  if (status === "done") showPeople(await api("GET", "/api/videos/" + id + "/tracklets/"), "Nobody was found in this video.");
});
wireVideoDeletes(section, (button) => { location.href = button.dataset.after; });
