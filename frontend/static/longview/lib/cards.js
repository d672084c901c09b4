// The only place person cards and ingest status are drawn: on the pages as they load and for
// every event that arrives later.
import { el, fmtEta } from "./dom.js";

// One small swatch badge per estimated attribute ("upper: red 84%"), most likely value only.
const ATTRIBUTE_LABELS = { upper_colour: "upper", lower_colour: "lower" };

function attributeBadges(attributes) {
  const box = el("div", { class: "attrs" });
  Object.entries(attributes || {}).forEach(([name, top]) => {
    const label = (ATTRIBUTE_LABELS[name] || name.replace(/_/g, " ")) + ": " + top.value;
    box.appendChild(el("small", {
      class: "attr attr-" + top.value, "data-attribute": name, "data-value": top.value,
      title: label + " (" + Math.round(100 * top.p) + "%)", text: label,
    }));
  });
  return box;
}

export function personCard(p, label) {
  const text = label || ("#" + p.track_id + " · " + p.start_s + "–" + p.end_s + " s");
  return el("div", { class: "person", "data-tracklet": String(p.tracklet) }, [
    el("a", { href: "/search/tracklet/" + p.tracklet + "/", title: "Search all footage for this person" }, [
      el("img", { src: p.thumbnail_url, alt: "person " + p.track_id, loading: "lazy" }),
    ]),
    el("span", { text: text }),
    attributeBadges(p.attributes),
    el("button", { type: "button", class: "play", "data-tracklet": String(p.tracklet), text: "▶ Play" }),
  ]);
}

// A calibrated confidence reads as a chance of a match; a raw score is shown as such.
function matchLabel(h) {
  if (h.confidence !== null && h.confidence !== undefined) return Math.round(100 * h.confidence) + "% match";
  return "score " + h.score.toFixed(2);
}

// One result card of a search, in the lane it was ranked in.
export function resultCard(h, lane, refined) {
  const when = h.start_time.replace("T", " ").slice(0, 19);
  const card = personCard(h, h.camera + " · " + when + " · " + matchLabel(h));
  card.dataset.score = String(h.score);
  card.dataset.camera = String(h.camera_id);
  card.dataset.lane = lane;
  if (refined) card.dataset.refined = "1";
  card.classList.add("result");
  return card;
}

export function renderStatus(container, status, opts) {
  container.replaceChildren();
  container.appendChild(el("span", { class: "badge badge-" + status, text: status }));
  if (opts && opts.percent !== undefined) {
    const p = el("progress", { class: "ingest-progress", max: "100" });
    p.value = opts.percent;
    container.appendChild(p);
    container.appendChild(el("span", { class: "ingest-text", text: [opts.message, fmtEta(opts.eta)].filter(Boolean).join(" · ") }));
  }
  if (opts && opts.reason) container.appendChild(el("span", { class: "error reason", text: opts.reason }));
}

// The status the server rendered into data attributes (data-status, data-percent, data-stage,
// data-reason), drawn like any later update.
export function renderStoredStatus(container, data) {
  const live = data.status === "queued" || data.status === "processing";
  renderStatus(container, data.status, {
    percent: live ? Number(data.percent || 0) : undefined,
    message: data.stage,
    reason: data.reason,
  });
}
