// A subject's timeline: one row per camera, each confirmed sighting drawn at its absolute time
// (a play button with its thumbnail), and the gaps between sightings written out.
import { el } from "./dom.js";

export function fmtDuration(seconds) {
  const s = Math.abs(seconds);
  if (s < 90) return Math.round(s) + " s";
  if (s < 5400) return Math.round(s / 60) + " min";
  const h = Math.floor(s / 3600), m = Math.round((s - 3600 * h) / 60);
  return h + " h" + (m ? " " + m + " min" : "");
}

const when = (iso) => iso.replace("T", " ").slice(0, 19);

export function drawTimeline(box, detail) {
  const sightings = detail.sightings;
  if (!sightings.length) {
    box.replaceChildren(el("p", { class: "meta", text: "No confirmed sightings yet." }));
    return;
  }
  const t0 = Date.parse(detail.timeline.start), t1 = Date.parse(detail.timeline.end);
  const span = Math.max(t1 - t0, 1000);
  const pos = (iso) => (100 * (Date.parse(iso) - t0)) / span;
  const flags = detail.flags || {};
  // Sightings that overlap on one camera go into stacked sub-rows, so every one stays clickable.
  const trackPx = Math.max((box.clientWidth || 900) - 180, 200);
  const minPct = (100 * 38) / trackPx;
  const rows = detail.timeline.cameras.map((camera) => {
    const track = el("div", { class: "tl-track" });
    const laneEnds = [];
    sightings.filter((s) => s.camera_id === camera.id).forEach((s) => {
      const left = Math.min(pos(s.start_time), 99), width = Math.max(pos(s.end_time) - left, 0.4);
      let lane = laneEnds.findIndex((end) => end <= left);
      if (lane < 0) { lane = laneEnds.length; laneEnds.push(0); }
      laneEnds[lane] = left + Math.max(width, minPct) + 0.2;
      const flag = flags[s.tracklet];
      const item = el("button", {
        type: "button", class: "play tl-item" + (flag ? " flagged" : ""), "data-tracklet": String(s.tracklet),
        title: camera.name + " · " + when(s.start_time) + "–" + when(s.end_time).slice(11) + (flag ? " · ⚠ " + flag.reason : ""),
      }, [el("img", { src: s.thumbnail_url, alt: "sighting on " + camera.name, loading: "lazy" })]);
      // Positions go through the CSSOM: the content security policy refuses style attributes.
      Object.assign(item.style, { left: left.toFixed(3) + "%", width: width.toFixed(3) + "%", top: (4 + 52 * lane) + "px" });
      track.appendChild(item);
    });
    track.style.height = (8 + 52 * Math.max(laneEnds.length, 1)) + "px";
    return el("div", { class: "tl-row", "data-camera": String(camera.id) }, [el("span", { class: "tl-name", text: camera.name }), track]);
  });
  // A gap's label sits between the two sightings; labels that would overlap the previous one are
  // left out: the sightings' own times, in their titles, still tell those gaps.
  let lastLabel = -Infinity;
  const gaps = el("div", { class: "tl-gaps" }, detail.timeline.gaps.map((g, i) => {
    const before = sightings[i], after = sightings[i + 1];
    const mid = (pos(before.end_time) + pos(after.start_time)) / 2;
    if (mid - lastLabel < (100 * 90) / trackPx) return null;
    lastLabel = mid;
    const text = g.seconds < 0 ? "overlap " + fmtDuration(g.seconds) : "gap " + fmtDuration(g.seconds);
    const label = el("small", { class: "tl-gap" + (g.seconds < 0 ? " overlap" : ""), text });
    label.style.left = mid.toFixed(3) + "%";
    return label;
  }).filter(Boolean));
  const axis = el("div", { class: "tl-axis" }, [
    el("small", { text: when(detail.timeline.start) }),
    el("small", { text: fmtDuration(span / 1000) + " in all" }),
    el("small", { text: when(detail.timeline.end) }),
  ]);
  box.replaceChildren(...rows, gaps, axis);
}
