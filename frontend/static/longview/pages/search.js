// Where else is this person: ranked batches of both lanes arriving over the websocket.
import { resultCard } from "../lib/cards.js";
import { subjectDecisions } from "../lib/decide.js";
import { pageData } from "../lib/dom.js";
import { fillFilterChoices, readFilters } from "../lib/filters.js";
import { startPage } from "../lib/page.js";
import { currentCase, justificationField } from "../lib/purpose.js";
import { recoverOnReopen, recoveredText } from "../lib/recover.js";

const events = startPage();
const settings = pageData("search-settings");
const APPEARANCE = settings.lanes.appearance, IDENTITY = settings.lanes.identity;
const section = document.getElementById("search-page");
const tracklet = Number(section.dataset.tracklet);
const status = document.getElementById("search-status");
const lanes = {
  [APPEARANCE]: { grid: document.getElementById("results"), count: document.getElementById("result-count") },
  // The second lane: people the clothes-invariant model finds beyond the same-outfit matches.
  [IDENTITY]: { grid: document.getElementById("results-cc"), count: document.getElementById("result-count-cc") },
};
const form = document.getElementById("search-filters");
const submit = form.querySelector("button[type=submit]");
let current = null;   // id of the running search, once the server has said it
let floor = 0;        // messages of searches below this id belong to earlier runs
let sentAt = null;
let sentOn = null;    // the connection the running search's query left on

function finished(text) {
  status.textContent = text;
  section.dataset.done = "1";
  submit.disabled = false;
}

function counted() {
  Object.values(lanes).forEach((lane) => { lane.count.textContent = lane.grid.children.length; });
}

const why = justificationField(form);
const decisions = subjectDecisions({
  bar: document.getElementById("subject-bar"),
  status,
  makeFrom: { label: "New subject from this person", ready: () => true, body: () => ({ tracklet }) },
});
const card = (h, lane, refined) => decisions.decorate(resultCard(h, lane, refined), h);

function run() {
  if (!why.value()) {
    status.textContent = "Say why you are searching (it goes into the case's audit ledger), then press Search.";
    why.focus();
    return;
  }
  why.remember();
  const message = { type: "search.start", case: currentCase(), justification: why.value(), tracklet: tracklet,
                    k: settings.k, refine: Boolean(form.refine && form.refine.checked) };
  const filters = readFilters(form, settings.colour_min_probability);
  if (Object.keys(filters).length) message.filters = filters;
  if (current !== null) floor = current + 1;
  current = null;
  Object.values(lanes).forEach((lane) => lane.grid.replaceChildren());
  counted();
  status.textContent = "Searching…";
  delete section.dataset.done;
  delete section.dataset.recovered;
  delete section.dataset.firstHitsMs;
  submit.disabled = true;
  // Timed from the moment the query leaves the browser (once the socket is open).
  sentOn = null;
  events.send(message, { onSent: () => { sentAt = performance.now(); sentOn = events.opened; } });
}

const ours = (m) => m.search >= floor && (current === null || m.search === current);
events.on("search.started", (m) => {
  if (m.tracklet === tracklet && m.search >= floor) { current = m.search; decisions.setSearch(current); }
});
events.on("search.hits", (m) => {
  if (!ours(m) || !lanes[m.lane]) return;
  if (section.dataset.firstHitsMs === undefined) {
    section.dataset.firstHitsMs = (performance.now() - sentAt).toFixed(1);
  }
  m.hits.forEach((h) => lanes[m.lane].grid.appendChild(card(h, m.lane)));
  counted();
  status.textContent = "Receiving results…";
});
// The second pass: the lane's list, re-ranked, replaces the first one.
events.on("search.refined", (m) => {
  if (!ours(m) || !lanes[m.lane]) return;
  const grid = lanes[m.lane].grid;
  grid.replaceChildren(...m.hits.map((h) => card(h, m.lane, true)));
  grid.dataset.refined = "1";
  counted();
  status.textContent = "Refining the ranking…";
});
events.on("search.done", (m) => {
  if (!ours(m)) return;
  const ms = Math.round(performance.now() - sentAt);
  const first = section.dataset.firstHitsMs;
  const found = m.lanes || {};
  finished(m.count
    ? (found[APPEARANCE] || 0) + " in the same outfit, " + (found[IDENTITY] || 0)
      + " possibly in other clothes, best first" + (m.refined ? ", refined" : "")
      + " (first after " + Math.round(Number(first)) + " ms, all after " + ms + " ms)"
    : "Nobody matches in the footage searched.");
});
events.on("search.failed", (m) => { if (ours(m)) finished("Search failed: " + m.reason); });
events.on("error", (m) => { if (m.request === "search.start") finished("Search refused: " + m.detail); });

// A drop mid-search loses the rest of its events: the stored record has the final lists.
recoverOnReopen(events, {
  pending: () => {
    if (section.dataset.done === "1" || sentOn === null) return null;
    if (current !== null) return current;
    return sentOn !== events.opened ? "unknown" : null;
  },
  render: (record) => {
    Object.entries(lanes).forEach(([name, lane]) => {
      lane.grid.replaceChildren(...(record.lanes[name] || []).map((h) => card(h, name)));
    });
    counted();
    section.dataset.recovered = "1";
    finished(recoveredText(record, { [APPEARANCE]: "in the same outfit", [IDENTITY]: "possibly in other clothes" }));
  },
  lost: finished,
});

form.addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
fillFilterChoices(form).catch((err) => { status.textContent = "Filters unavailable: " + err.message; });
run();
