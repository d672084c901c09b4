// A subject: outfits, timeline and map of its confirmed sightings, a search with all of them,
// decisions on the hits, and evidence exports; kept live for every member with the page open.
import { personCard, resultCard } from "../lib/cards.js";
import { markCard, setActiveSubject, subjectDecisions } from "../lib/decide.js";
import { api, el, pageData } from "../lib/dom.js";
import { drawMap } from "../lib/map.js";
import { startPage } from "../lib/page.js";
import { justificationField } from "../lib/purpose.js";
import { recoverOnReopen, recoveredText } from "../lib/recover.js";
import { drawTimeline } from "../lib/timeline.js";

const events = startPage();
const page = pageData("subject-page-data");
const section = document.getElementById("subject-page");
const status = document.getElementById("subject-status");
const url = "/api/subjects/" + page.subject + "/";
const json = { "Content-Type": "application/json" };
setActiveSubject(page.subject);
let detail = null;

const when = (iso) => iso.replace("T", " ").slice(0, 19);

function sightingCard(s, rejected) {
  const card = personCard(s, s.camera + " · " + when(s.start_time));
  card.classList.add("sighting");
  card.dataset.decision = s.decision;
  if (s.outfit !== undefined && s.outfit !== null) card.dataset.outfit = String(s.outfit);
  card.appendChild(el("small", { class: "decided", text: (rejected ? "rejected" : "confirmed") + " by " + (s.decided_by || "?") + " · " + when(s.decided_at) }));
  const flag = (detail.flags || {})[s.tracklet];
  if (flag) { card.dataset.flagged = "1"; card.appendChild(el("small", { class: "flag", text: "⚠ " + flag.reason })); }
  if (page.can_confirm) card.appendChild(el("button", { type: "button", class: "undo secondary", "data-tracklet": String(s.tracklet), text: "Undo" }));
  return card;
}

async function render() {
  detail = await api("GET", url);
  document.getElementById("subject-label").textContent = detail.label;
  document.getElementById("subject-counts").textContent = detail.confirmed + " confirmed, " + detail.rejected + " rejected";
  const outfits = document.getElementById("outfits");
  const byId = Object.fromEntries(detail.sightings.map((s) => [s.tracklet, s]));
  outfits.replaceChildren(...detail.outfits.map((o) => el("figure", { class: "outfit", "data-outfit": String(o.index) }, [
    el("img", { src: byId[o.cover].thumbnail_url, alt: "outfit " + (o.index + 1) }),
    el("figcaption", { text: "Outfit " + (o.index + 1) + " · " + o.sightings.length + " sighting" + (o.sightings.length === 1 ? "" : "s") }),
  ])));
  document.getElementById("outfit-count").textContent = detail.outfits.length;
  const cover = document.getElementById("subject-cover");
  cover.replaceChildren(...detail.outfits.slice(0, 3).map((o) => el("img", { src: byId[o.cover].thumbnail_url, alt: "the subject" })));
  document.getElementById("sightings").replaceChildren(...detail.sightings.map((s) => sightingCard(s, false)));
  document.getElementById("rejected").replaceChildren(...detail.rejected_sightings.map((s) => sightingCard(s, true)));
  document.getElementById("sighting-count").textContent = detail.sightings.length;
  document.getElementById("rejected-count").textContent = detail.rejected_sightings.length;
  drawTimeline(document.getElementById("timeline"), detail);
  await drawMap(document.getElementById("map"), document.getElementById("map-note"), detail);
  renderExports(detail.exports || []);
  section.dataset.loaded = String(Date.now());
}

function refresh() { render().catch((err) => { status.textContent = "Could not load the subject: " + err.message; }); }

document.addEventListener("click", async (ev) => {
  const undo = ev.target.closest("button.undo");
  if (!undo) return;
  try {
    await api("DELETE", url + "sightings/" + undo.dataset.tracklet + "/");
    refresh();
  } catch (err) { status.textContent = "Not undone: " + err.message; }
});

// Another member's decision arrives over the socket: the page redraws, and says who it was.
events.send({ type: "subject.subscribe", subject: page.subject }, { sticky: true });
events.on("subject.sighting", (m) => {
  if (m.subject !== page.subject) return;
  document.querySelectorAll('.person.result[data-tracklet="' + m.tracklet + '"]').forEach((c) => markCard(c, m.decision, m.by));
  status.textContent = m.by + (m.decision ? " " + m.decision + " a sighting" : " withdrew a decision") + ".";
  refresh();
});

// ---- label, notes, deletion ----
const edit = document.getElementById("subject-edit");
if (edit) {
  edit.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("PATCH", url, JSON.stringify({ label: edit.label.value, notes: edit.notes.value }), json);
      status.textContent = "Saved.";
      refresh();
    } catch (err) { status.textContent = "Not saved: " + err.message; }
  });
  const del = document.getElementById("subject-delete");
  if (del) del.addEventListener("click", async () => {
    if (!confirm("Delete this subject, its decisions and its evidence packages? The ledger keeps the record that it existed.")) return;
    try {
      await api("DELETE", url);
      setActiveSubject(null);
      location.href = "/cases/" + page.case + "/";
    } catch (err) { status.textContent = "Not deleted: " + err.message; }
  });
}

// ---- search with the subject ----
const searchForm = document.getElementById("subject-search");
if (searchForm) {
  const searchStatus = document.getElementById("search-status");
  const lanes = {
    [page.lanes.appearance]: { grid: document.getElementById("results"), count: document.getElementById("result-count") },
    [page.lanes.identity]: { grid: document.getElementById("results-cc"), count: document.getElementById("result-count-cc") },
  };
  const why = justificationField(searchForm);
  const decisions = subjectDecisions({ bar: el("div"), status: searchStatus, makeFrom: { label: "", ready: () => false, body: () => ({}) } });
  let current = null, waiting = false, sentOn = null;
  const show = (lane, h) => decisions.decorate(resultCard(h, lane), h);
  searchForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!why.value()) { searchStatus.textContent = "Say why you are searching, then press Search."; why.focus(); return; }
    why.remember();
    Object.values(lanes).forEach((l) => { l.grid.replaceChildren(); l.count.textContent = "0"; });
    current = null; waiting = true; sentOn = null;
    delete searchForm.dataset.done;
    delete searchForm.dataset.recovered;
    searchStatus.textContent = "Searching with " + detail.confirmed + " confirmed sightings in " + detail.outfits.length + " outfit(s)…";
    events.send({ type: "subject.search", subject: page.subject, justification: why.value(), k: page.k },
                { onSent: () => { sentOn = events.opened; } });
  });
  events.on("search.started", (m) => { if (waiting && m.tracklet === null) { current = m.search; waiting = false; decisions.setSearch(current); } });
  events.on("search.hits", (m) => {
    if (m.search !== current || !lanes[m.lane]) return;
    m.hits.forEach((h) => lanes[m.lane].grid.appendChild(show(m.lane, h)));
    lanes[m.lane].count.textContent = lanes[m.lane].grid.children.length;
  });
  events.on("search.done", (m) => {
    if (m.search !== current) return;
    searchForm.dataset.done = "1";
    const found = m.lanes || {};
    searchStatus.textContent = m.count ? (found[page.lanes.appearance] || 0) + " in a confirmed outfit, " + (found[page.lanes.identity] || 0)
      + " possibly in other clothes; people already judged are left out." : "Nobody new matches.";
  });
  events.on("search.failed", (m) => { if (m.search === current) searchStatus.textContent = "Search failed: " + m.reason; });
  events.on("error", (m) => { if (m.request === "subject.search") { waiting = false; searchStatus.textContent = "Search refused: " + m.detail; } });
  // A drop mid-search loses the rest of its events: the stored record (kind "subject") has the
  // final lists, without the travel-time notes the live cards carry.
  const ended = (text) => { waiting = false; searchForm.dataset.done = "1"; searchStatus.textContent = text; };
  recoverOnReopen(events, {
    pending: () => {
      if (searchForm.dataset.done === "1" || sentOn === null) return null;
      if (current !== null) return current;
      return waiting && sentOn !== events.opened ? "unknown" : null;
    },
    render: (record) => {
      Object.entries(lanes).forEach(([name, lane]) => {
        lane.grid.replaceChildren(...(record.lanes[name] || []).map((h) => show(name, h)));
        lane.count.textContent = lane.grid.children.length;
      });
      searchForm.dataset.recovered = "1";
      ended(recoveredText(record, { [page.lanes.appearance]: "in a confirmed outfit", [page.lanes.identity]: "possibly in other clothes" }));
    },
    lost: ended,
  });
}

// ---- evidence ----
const exportForm = document.getElementById("export-form");
function renderExports(list) {
  const box = document.getElementById("exports");
  if (!box) return;
  box.replaceChildren(...list.map((x) => el("li", { "data-export": String(x.id), "data-status": x.status }, [
    el("span", { text: when(x.created_at) + " · " + x.status + (x.redact ? " · redacted" : "") + (x.sha256 ? " · sha256 " + x.sha256.slice(0, 16) + "…" : "") + (x.error ? " · " + x.error : "") + " " }),
    ...(x.status === "done" ? [el("a", { href: "/api/exports/" + x.id + "/download", class: "download", text: "Download" })] : []),
  ])));
}
if (exportForm) {
  const progress = document.getElementById("export-progress");
  const exportStatus = document.getElementById("export-status");
  exportForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const started = await api("POST", url + "exports/", JSON.stringify({ redact: exportForm.redact.checked }), json);
      progress.hidden = false; progress.value = 0;
      exportStatus.textContent = "Export " + started.id + " queued…";
    } catch (err) { exportStatus.textContent = "Export refused: " + err.message; }
  });
  events.on("export.progress", (m) => {
    if (m.subject !== page.subject) return;
    progress.hidden = m.status === "done" || m.status === "failed";
    progress.value = m.percent;
    exportStatus.textContent = m.status === "failed" ? "Export failed: " + m.error
      : m.status === "done" ? "Export ready (sha256 " + m.sha256 + ")." : (m.stage || m.status) + " · " + Math.round(m.percent) + "%";
    if (m.status === "done" || m.status === "failed") refresh();
  });
}

refresh();
