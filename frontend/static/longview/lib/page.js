// What every logged-in page starts with: the clip player and the websocket.
import { Events } from "./events.js";
import { initPlayer } from "./player.js";

export function startPage() {
  initPlayer();
  return new Events();
}
