// What every logged-in page starts with: the clip player and the websocket.
import { Events } from "./events.js";
import { initPlayer } from "./player.js";

export function startPage() {
  initPlayer();
  const events = new Events();
  // Reachable from the browser's console and the browser tests (to drop the connection mid-search).
  window.longviewEvents = events;
  return events;
}
