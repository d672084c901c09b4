// One video: its live ingest status, and the people found, added as they are stored mid-ingest and
// shown whole once it is done.
import { personCard, renderStatus, renderStoredStatus } from "../lib/cards.js";
import { api, el, pageData } from "../lib/dom.js";
import { watchIngest } from "../lib/events.js";
import { startPage } from "../lib/page.js";

const events = startPage();
const section = document.getElementById("video-page");
const id = Number(section.dataset.video);
const statusBox = document.getElementById("video-status");
const grid = document.getElementById("people");
const url = "/api/videos/" + id + "/tracklets/";
let final = false;   // the whole list is on show: later partial answers are stale

function counted() {
  document.getElementById("people-count").textContent = grid.querySelectorAll(".person").length;
}

function showPeople(people, emptyText) {
  grid.replaceChildren(...people.map((p) => personCard(p)));
  if (!people.length) grid.appendChild(el("p", { class: "empty", text: emptyText }));
  counted();
}

// Adds the people not on show yet, in the order stored; a person is shown once however many
// ``ingest.people`` answers list them.
function addPeople(people) {
  const fresh = people.filter((p) => !grid.querySelector('.person[data-tracklet="' + p.tracklet + '"]'));
  if (!fresh.length) return;
  const empty = grid.querySelector("p.empty");
  if (empty) empty.remove();
  fresh.forEach((p) => grid.appendChild(personCard(p)));
  counted();
}

renderStoredStatus(statusBox, section.dataset);
final = section.dataset.status === "done";
showPeople(pageData("people-data"), final ? "Nobody was found in this video." : "People appear here as they are found.");
if (["queued", "processing"].includes(section.dataset.status)) {
  events.send({ type: "ingest.subscribe", videos: [id] }, { sticky: true });
}
// People whose tracks have ended are stored (and searchable) before the whole video is done.
events.on("ingest.people", async (m) => {
  if (m.video !== id || final) return;
  const people = await api("GET", url);
  if (!final) addPeople(people);
});
async function showFinal() {
  // The end may re-link or drop people stored mid-ingest: the whole list replaces what is shown.
  final = true;
  showPeople(await api("GET", url), "Nobody was found in this video.");
  section.dataset.peopleFinal = "1";
}

watchIngest(events, (vid, status, opts) => {
  if (vid !== id) return;
  section.dataset.status = status;
  renderStatus(statusBox, status, opts);
  if (status === "done") showFinal();
});
// Events pushed while the socket was down are lost: read the video's state back instead.
events.onReopen(async () => {
  if (final) return;
  const video = await api("GET", "/api/videos/" + id + "/");
  if (video.status === "done") {
    section.dataset.status = "done";
    renderStatus(statusBox, "done", {});
    await showFinal();
  } else if (!final) addPeople(await api("GET", url));
});
