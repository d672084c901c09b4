// Describe a person: search by garment colours (websocket) or by an uploaded photo (REST, then the
// hits over the websocket).
import { resultCard } from "../lib/cards.js";
import { subjectDecisions } from "../lib/decide.js";
import { api, pageData } from "../lib/dom.js";
import { fillFilterChoices, readFilters } from "../lib/filters.js";
import { startPage } from "../lib/page.js";
import { currentCase, justificationField } from "../lib/purpose.js";
import { recoverOnReopen, recoverSearch, recoveredText } from "../lib/recover.js";

const events = startPage();
const settings = pageData("search-settings");
const section = document.getElementById("describe-page");
const status = document.getElementById("search-status");
const form = document.getElementById("search-filters");
const why = justificationField(form);
const describeButton = form.querySelector("button[name=describe]");
const uploadButton = form.querySelector("button[name=upload]");
const lanes = {
  attributes: { box: document.getElementById("lane-attributes"), grid: document.getElementById("results-attr"), count: document.getElementById("result-count-attr") },
  [settings.lanes.appearance]: { box: document.getElementById("lane-same-outfit"), grid: document.getElementById("results"), count: document.getElementById("result-count") },
  [settings.lanes.identity]: { box: document.getElementById("lane-clothes-change"), grid: document.getElementById("results-cc"), count: document.getElementById("result-count-cc") },
};
let current = null;    // id of the search on show, once known
let waiting = false;   // a search was sent and its id is not known yet
let early = [];        // photo-search events that arrived before the upload's reply
let sentAt = null;
let sentOn = null;     // the connection a description search left on (null for a photo search)
const decisions = subjectDecisions({
  bar: document.getElementById("subject-bar"),
  status,
  makeFrom: { label: "New subject from this search", ready: () => current !== null, body: (search) => ({ search }) },
});
const card = (h, lane, refined) => decisions.decorate(resultCard(h, lane, refined), h);

// Photo searches report to every socket of this user that subscribed; ask once per connection,
// and upload only once subscribed, or the first results could arrive before anyone listens.
uploadButton.disabled = true;
events.on("search.subscribed", () => { if (!waiting) uploadButton.disabled = false; });
events.send({ type: "search.subscribe" }, { sticky: true });

function reset(shown) {
  Object.entries(lanes).forEach(([name, lane]) => {
    lane.grid.replaceChildren();
    lane.count.textContent = "0";
    lane.box.hidden = !shown.includes(name);
  });
  delete section.dataset.done;
  delete section.dataset.recovered;
  delete section.dataset.firstHitsMs;
  describeButton.disabled = uploadButton.disabled = true;
  sentAt = performance.now();
}

function finished(text) {
  status.textContent = text;
  section.dataset.done = "1";
  waiting = false;
  uploadButton.disabled = false;
  describeButton.disabled = !form.querySelector("select[data-attribute]");  // nothing estimated: nothing to describe
}

function show(m) {
  const lane = lanes[m.lane];
  if (m.type === "search.hits" && lane) {
    if (section.dataset.firstHitsMs === undefined) section.dataset.firstHitsMs = (performance.now() - sentAt).toFixed(1);
    m.hits.forEach((h) => lane.grid.appendChild(card(h, m.lane)));
    lane.count.textContent = lane.grid.children.length;
    status.textContent = "Receiving results…";
  } else if (m.type === "search.refined" && lane) {
    lane.grid.replaceChildren(...m.hits.map((h) => card(h, m.lane, true)));
    lane.grid.dataset.refined = "1";
    lane.count.textContent = lane.grid.children.length;
    status.textContent = "Refining the ranking…";
  } else if (m.type === "search.done") {
    finished(m.count ? m.count + " results, best first" + (m.refined ? ", refined" : "") + ", after "
      + Math.round(performance.now() - sentAt) + " ms"
      : "Nobody matches in the footage searched.");
  } else if (m.type === "search.failed") {
    finished("Search failed: " + m.reason);
  }
}

function route(m) {
  if (current !== null && m.search === current) show(m);
  else if (current === null && waiting) early.push(m);
}
["search.hits", "search.refined", "search.done", "search.failed"].forEach((type) => events.on(type, route));
events.on("search.started", (m) => {
  if (waiting && current === null && m.tracklet === null) {
    current = m.search;
    decisions.setSearch(current);
    early.splice(0).filter((e) => e.search === current).forEach(show);
  }
});
events.on("error", (m) => { if (m.request === "search.start" && waiting) finished("Search refused: " + m.detail); });

function begin() {
  current = null;
  early = [];
  waiting = true;
  sentOn = null;
  status.textContent = "Searching…";
}

// The server renders one select per attribute the engine estimates, and no other.
function described() {
  return Array.from(form.querySelectorAll("select[data-attribute]")).filter((s) => s.value).map((s) => ({
    attribute: s.dataset.attribute, value: s.dataset.kind === "binary" ? s.value === "yes" : s.value,
  }));
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const filters = readFilters(form, settings.colour_min_probability);
  // Here the description ranks the results; it is not a filter.
  const attributes = described();
  delete filters.attributes;
  if (!attributes.length) { status.textContent = "Describe at least one attribute first."; return; }
  if (!why.value()) { status.textContent = "Say why you are searching first."; why.focus(); return; }
  why.remember();
  reset(["attributes"]);
  begin();
  const message = { type: "search.start", case: currentCase(), justification: why.value(), attributes: attributes,
                    k: settings.k };
  if (Object.keys(filters).length) message.filters = filters;
  events.send(message, { onSent: () => { sentOn = events.opened; } });
});

uploadButton.addEventListener("click", async () => {
  const file = form.photo.files[0];
  if (!file) { status.textContent = "Choose a photo first."; return; }
  if (!why.value()) { status.textContent = "Say why you are searching first."; why.focus(); return; }
  why.remember();
  const body = new FormData();
  body.append("image", file);
  body.append("case", String(currentCase()));
  body.append("justification", why.value());
  body.append("k", String(settings.k));
  body.append("refine", form.refine && form.refine.checked ? "true" : "false");
  const filters = readFilters(form, settings.colour_min_probability);
  const conditions = described().map((c) => ({ ...c, min_probability: settings.colour_min_probability }));
  if (conditions.length) filters.attributes = conditions; else delete filters.attributes;
  if (Object.keys(filters).length) body.append("filters", JSON.stringify(filters));
  reset([settings.lanes.appearance, settings.lanes.identity]);
  begin();
  status.textContent = "Uploading the photo…";
  const connection = events.opened;
  try {
    const started = await api("POST", "/api/search/image/", body);
    current = started.search;
    decisions.setSearch(current);
    status.textContent = "Finding the person in the photo…";
    early.splice(0).filter((e) => e.search === current).forEach(show);
    // The socket dropped while the photo went up: events pushed meanwhile are lost.
    if (events.opened !== connection) recoverSearch(current, recovery);
  } catch (err) {
    finished("Photo refused: " + err.message);
  }
});

// A drop mid-search loses the rest of its events: the stored record has the final lists.
const recovery = {
  pending: () => {
    if (section.dataset.done === "1" || (!waiting && current === null)) return null;
    if (current !== null) return current;
    return sentOn !== null && sentOn !== events.opened ? "unknown" : null;
  },
  render: (record) => {
    Object.entries(record.lanes).forEach(([name, hits]) => {
      const lane = lanes[name];
      if (!lane) return;
      lane.grid.replaceChildren(...hits.map((h) => card(h, name)));
      lane.count.textContent = lane.grid.children.length;
    });
    section.dataset.recovered = "1";
    finished(recoveredText(record, {
      attributes: "fitting the description", [settings.lanes.appearance]: "in the same outfit",
      [settings.lanes.identity]: "possibly in other clothes",
    }));
  },
  lost: finished,
};
recoverOnReopen(events, recovery);

fillFilterChoices(form).catch((err) => { status.textContent = "Filters unavailable: " + err.message; });
