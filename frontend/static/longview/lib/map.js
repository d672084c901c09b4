// The subject's path drawn over the cameras: on a site plan when the cameras sit on one, else as
// a plain latitude/longitude plot, else (no positions set yet) as a schematic row of cameras.
import { api } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, children) {
  const node = document.createElementNS(NS, tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  (children || []).forEach((c) => node.appendChild(c));
  return node;
}

async function layout(detail) {
  const cameras = detail.map.cameras;
  const counts = {};
  cameras.forEach((c) => { if (c.plan !== null && c.plan_x !== null) counts[c.plan] = (counts[c.plan] || 0) + 1; });
  const plan = Object.keys(counts).sort((a, b) => counts[b] - counts[a])[0];
  if (plan !== undefined) {
    const info = await api("GET", "/api/plans/" + plan + "/");
    const width = 800, height = Math.round((800 * info.height_px) / info.width_px);
    const points = {};
    cameras.filter((c) => String(c.plan) === plan && c.plan_x !== null)
      .forEach((c) => { points[c.id] = [c.plan_x * width, c.plan_y * height]; });
    return { mode: "plan", width, height, points, image: "/api/plans/" + plan + "/image", note: "On the site plan \"" + info.name + "\"." };
  }
  const placed = cameras.filter((c) => c.latitude !== null && c.longitude !== null);
  if (placed.length) {
    const lats = placed.map((c) => c.latitude), lons = placed.map((c) => c.longitude);
    const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
    const kx = Math.cos((midLat * Math.PI) / 180);
    const spanX = Math.max((Math.max(...lons) - Math.min(...lons)) * kx, 1e-5), spanY = Math.max(Math.max(...lats) - Math.min(...lats), 1e-5);
    const width = 800, height = placed.length < 2 ? 240 : Math.max(240, Math.min(600, Math.round((800 * spanY) / spanX)));
    const pad = 60, points = {};
    placed.forEach((c) => {
      points[c.id] = [pad + ((c.longitude - Math.min(...lons)) * kx / spanX) * (width - 2 * pad),
        pad + ((Math.max(...lats) - c.latitude) / spanY) * (height - 2 * pad)];
    });
    return { mode: "coordinates", width, height, points, note: "Cameras by latitude and longitude (north up)." };
  }
  const width = 800, height = 200, points = {};
  cameras.forEach((c, i) => { points[c.id] = [80 + (i * (width - 160)) / Math.max(cameras.length - 1, 1), height / 2]; });
  return { mode: "schematic", width, height, points, note: "No camera has a position yet, so this is a schematic: an admin places cameras on the Sites page." };
}

export async function drawMap(box, note, detail) {
  const shape = await layout(detail);
  const root = svg("svg", { viewBox: "0 0 " + shape.width + " " + shape.height, class: "map-" + shape.mode, role: "img",
    "aria-label": "The subject's path between cameras" });
  root.appendChild(svg("defs", {}, [svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" },
    [svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#c0392b" })])]));
  if (shape.image) root.appendChild(svg("image", { href: shape.image, x: "0", y: "0", width: String(shape.width), height: String(shape.height) }));
  const steps = detail.map.path.filter((p, i, all) => i === 0 || p.camera !== all[i - 1].camera);
  for (let i = 1; i < steps.length; i++) {
    const a = shape.points[steps[i - 1].camera], b = shape.points[steps[i].camera];
    if (!a || !b) continue;
    root.appendChild(svg("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: "path-step", "marker-end": "url(#arrow)",
      stroke: "#c0392b", "stroke-width": "3", "stroke-dasharray": shape.mode === "schematic" ? "6 4" : "" }));
  }
  const visited = new Set(detail.map.path.map((p) => p.camera));
  detail.map.cameras.forEach((c) => {
    const p = shape.points[c.id];
    if (!p) return;
    const order = steps.map((s, i) => (s.camera === c.id ? i + 1 : null)).filter(Boolean).join(",");
    root.appendChild(svg("g", { class: "camera" + (visited.has(c.id) ? " visited" : ""), "data-camera": String(c.id) }, [
      svg("circle", { cx: p[0], cy: p[1], r: visited.has(c.id) ? "11" : "7", fill: visited.has(c.id) ? "#c0392b" : "#7f8c8d", stroke: "#fff", "stroke-width": "2" }),
      Object.assign(svg("text", { x: p[0] + 14, y: p[1] + 5, "font-size": "15" }), { textContent: c.name + (order ? " (" + order + ")" : "") }),
    ]));
  });
  box.replaceChildren(root);
  box.dataset.mode = shape.mode;
  const missing = detail.map.cameras.filter((c) => !shape.points[c.id]).map((c) => c.name);
  note.textContent = shape.note + (missing.length ? " No position: " + missing.join(", ") + "." : "");
}

