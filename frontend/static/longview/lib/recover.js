// A search whose socket dropped while it ran: the events pushed to the closed socket are lost, so
// the page reads the search back from its stored record (GET /api/search/{id}/) until it ends.
import { api } from "./dom.js";

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// The record of search ``id`` once it is no longer running; null when ``stillWanted()`` turns false
// first (the page went on to another search).
export async function finishedRecord(id, stillWanted, { interval = 400, limitMs = 10 * 60 * 1000 } = {}) {
  const deadline = performance.now() + limitMs;
  let wait = interval;
  while (stillWanted()) {
    const record = await api("GET", "/api/search/" + id + "/");
    if (record.status !== "running") return record;
    if (performance.now() > deadline) throw new Error("the search is still running after " + limitMs / 60000 + " min");
    await sleep(wait);
    wait = Math.min(wait * 1.5, 3000);
  }
  return null;
}

// Reads search ``id`` back and draws it, unless the page moved on meanwhile (see recoverOnReopen).
export async function recoverSearch(id, { pending, render, lost }) {
  try {
    const record = await finishedRecord(id, () => pending() === id);
    if (record !== null && pending() === id) render(record);
  } catch (err) {
    if (pending() === id) lost("The connection dropped and the search could not be read back: " + err.message);
  }
}

// On every reopen of the socket, recovers the search the page waits for:
//   pending() → the id of a search started and not yet done, "unknown" when one was sent but the
//     socket dropped before its id came back, or null when none is waited for;
//   render(record) draws a finished record (status "done" or "failed");
//   lost(message) tells the user what could not be recovered.
export function recoverOnReopen(events, page) {
  events.onReopen(() => {
    const id = page.pending();
    if (id === "unknown") page.lost("The connection dropped before the search started; press Search again.");
    else if (id !== null) recoverSearch(id, page);
  });
}

// The status line of a search read back from its record: its count per lane (``labels`` by lane name).
export function recoveredText(record, labels) {
  if (record.status === "failed") return "Search failed: " + (record.error || "no reason given");
  if (!record.count) return "Nobody matches in the footage searched.";
  const parts = Object.entries(record.lanes).map(([lane, hits]) => hits.length + " " + (labels[lane] || lane));
  return parts.join(", ") + ", best first (read back after the connection dropped)";
}
