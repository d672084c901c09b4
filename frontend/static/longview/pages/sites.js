// The Sites page (admins): upload site plans, place cameras on them by clicking, type their
// latitude/longitude, and keep the walking times between cameras.
import { api, el, pageData } from "../lib/dom.js";

const SVG = "http://www.w3.org/2000/svg";
const data = pageData("sites-data");
const state = {
  plans: data.plans,
  cameras: data.cameras,
  walking: data.walking_times,
  plan: data.plans.length ? data.plans[0].id : null,
};

function call(method, url, body) {
  if (body === undefined) return api(method, url);
  return api(method, url, JSON.stringify(body), { "Content-Type": "application/json" });
}

function report(boxId, err) {
  const box = document.getElementById(boxId);
  if (!err) { box.hidden = true; return; }
  box.textContent = err.message;
  box.hidden = false;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, String(v)));
  if (text !== undefined) node.textContent = text;
  return node;
}

function option(value, text, selected) {
  const node = el("option", { value: String(value), text });
  if (selected) node.selected = true;
  return node;
}

const planById = (id) => state.plans.find((p) => p.id === id) || null;
const cameraById = (id) => state.cameras.find((c) => c.id === id) || null;
const nameOf = (id) => (cameraById(id) || { name: "camera " + id }).name;
const emptyToNull = (v) => (v.trim() === "" ? null : Number(v));

// As the server words durations: "4.5 s", "40 s", "4 min 30 s", "25 min", "1 h 5 min".
function humanSeconds(seconds) {
  const s = Math.max(0, seconds);
  if (s < 9.95) return Math.round(s * 10) / 10 + " s";
  if (s < 59.5) return Math.round(s) + " s";
  if (s < 599.5) {
    const total = Math.round(s), rest = total % 60;
    return Math.floor(total / 60) + " min" + (rest ? " " + rest + " s" : "");
  }
  const total = Math.round(s / 60);
  if (total < 60) return total + " min";
  return Math.floor(total / 60) + " h" + (total % 60 ? " " + (total % 60) + " min" : "");
}

function replaceCamera(updated) {
  state.cameras = state.cameras.map((c) => (c.id === updated.id ? updated : c));
  state.plans.forEach((p) => {
    p.cameras = state.cameras.filter((c) => c.plan === p.id).map((c) => c.id);
  });
}

// ---- plans ----

function renderPlans() {
  const panel = document.getElementById("plan-panel");
  document.getElementById("no-plans").hidden = state.plans.length > 0;
  panel.hidden = state.plans.length === 0;
  if (!planById(state.plan)) state.plan = state.plans.length ? state.plans[0].id : null;
  const select = document.getElementById("plan-select");
  select.replaceChildren(...state.plans.map((p) => option(p.id, p.name, p.id === state.plan)));
  const chosen = document.getElementById("place-camera").value;
  document.getElementById("place-camera").replaceChildren(
    option("", "— choose a camera —"),
    ...state.cameras.map((c) => option(c.id, c.name, String(c.id) === chosen)),
  );
  const plan = planById(state.plan);
  document.getElementById("plan-width").value = plan && plan.width_m !== null ? plan.width_m : "";
  drawPlan(plan);
}

function drawPlan(plan) {
  const view = document.getElementById("plan-view");
  view.replaceChildren();
  if (!plan) return;
  const w = plan.width_px, h = plan.height_px;
  view.setAttribute("viewBox", "0 0 " + w + " " + h);
  view.setAttribute("width", w);
  view.setAttribute("height", h);
  view.append(svg("image", { href: plan.image_url, x: 0, y: 0, width: w, height: h }));
  const r = Math.max(w, h) / 150;
  const chosen = document.getElementById("place-camera").value;
  state.cameras.filter((c) => c.plan === plan.id && c.plan_x !== null).forEach((c) => {
    const cx = c.plan_x * w, cy = c.plan_y * h;
    const cls = "cam-dot" + (String(c.id) === chosen ? " chosen" : "");
    view.append(svg("circle", { cx, cy, r, class: cls }));
    view.append(svg("text", { x: cx + r * 1.6, y: cy + r * 0.6, "font-size": r * 2.6, class: "cam-label" }, c.name));
  });
}

async function placeCamera(ev) {
  const plan = planById(state.plan);
  const cameraId = document.getElementById("place-camera").value;
  if (!plan) return;
  if (!cameraId) { report("plan-error", new Error("choose the camera to place first")); return; }
  const box = ev.currentTarget.getBoundingClientRect();
  const clamp = (v) => Math.min(1, Math.max(0, Math.round(v * 10000) / 10000));
  const body = { plan: plan.id, plan_x: clamp((ev.clientX - box.left) / box.width),
                 plan_y: clamp((ev.clientY - box.top) / box.height) };
  try {
    replaceCamera(await call("PATCH", "/api/cameras/" + cameraId + "/", body));
    report("plan-error", null);
    renderAll();
  } catch (err) { report("plan-error", err); }
}

function initPlans() {
  const form = document.getElementById("plan-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = new FormData();
    body.append("name", form.elements["name"].value);
    if (form.width_m.value.trim()) body.append("width_m", form.width_m.value);
    body.append("image", form.image.files[0]);
    try {
      const plan = await api("POST", "/api/plans/", body);
      state.plans.push(plan);
      state.plans.sort((a, b) => a.name.localeCompare(b.name));
      state.plan = plan.id;
      form.reset();
      report("plan-error", null);
      renderAll();
    } catch (err) { report("plan-error", err); }
  });
  document.getElementById("plan-select").addEventListener("change", (ev) => {
    state.plan = Number(ev.target.value);
    renderAll();
  });
  document.getElementById("place-camera").addEventListener("change", () => drawPlan(planById(state.plan)));
  document.getElementById("plan-view").addEventListener("click", placeCamera);
  document.getElementById("plan-width-save").addEventListener("click", async () => {
    const plan = planById(state.plan);
    if (!plan) return;
    try {
      const width = emptyToNull(document.getElementById("plan-width").value);
      Object.assign(plan, await call("PATCH", "/api/plans/" + plan.id + "/", { width_m: width }));
      report("plan-error", null);
    } catch (err) { report("plan-error", err); }
  });
  document.getElementById("plan-delete").addEventListener("click", async () => {
    const plan = planById(state.plan);
    if (!plan || !window.confirm("Delete the plan " + plan.name + "? Its cameras lose their point on it.")) return;
    try {
      await call("DELETE", "/api/plans/" + plan.id + "/");
      state.plans = state.plans.filter((p) => p.id !== plan.id);
      state.cameras.forEach((c) => {
        if (c.plan === plan.id) Object.assign(c, { plan: null, plan_x: null, plan_y: null });
      });
      report("plan-error", null);
      renderAll();
    } catch (err) { report("plan-error", err); }
  });
}

// ---- cameras ----

function cameraRow(c) {
  const lat = el("input", { type: "number", step: "any", min: "-90", max: "90", "aria-label": "latitude of " + c.name });
  const lon = el("input", { type: "number", step: "any", min: "-180", max: "180", "aria-label": "longitude of " + c.name });
  lat.value = c.latitude === null ? "" : c.latitude;
  lon.value = c.longitude === null ? "" : c.longitude;
  const save = el("button", { type: "button", class: "secondary", text: "Save" });
  save.addEventListener("click", async () => {
    try {
      replaceCamera(await call("PATCH", "/api/cameras/" + c.id + "/",
                               { latitude: emptyToNull(lat.value), longitude: emptyToNull(lon.value) }));
      report("camera-error", null);
      renderAll();
    } catch (err) { report("camera-error", err); }
  });
  const plan = planById(c.plan);
  const where = plan ? plan.name + (c.plan_x !== null ? " (" + c.plan_x.toFixed(3) + ", " + c.plan_y.toFixed(3) + ")" : "") : "—";
  const actions = el("td");
  if (plan) {
    const off = el("button", { type: "button", class: "secondary", text: "Take off plan" });
    off.addEventListener("click", async () => {
      try {
        replaceCamera(await call("PATCH", "/api/cameras/" + c.id + "/", { plan: null }));
        report("camera-error", null);
        renderAll();
      } catch (err) { report("camera-error", err); }
    });
    actions.append(off);
  }
  return el("tr", { "data-camera": String(c.id) }, [
    el("td", { text: c.name }), el("td", {}, [lat]), el("td", {}, [lon]), el("td", {}, [save]),
    el("td", { text: where }), actions,
  ]);
}

function renderCameras() {
  const body = document.querySelector("#camera-table tbody");
  if (!state.cameras.length) {
    body.replaceChildren(el("tr", { class: "empty" }, [el("td", { colspan: "6", text: "No cameras yet." })]));
    return;
  }
  body.replaceChildren(...state.cameras.map(cameraRow));
}

// ---- walking times ----

function walkingRow(w) {
  const seconds = el("input", { type: "number", min: "0", step: "any", "aria-label": "seconds" });
  seconds.value = w.seconds;
  const human = el("span", { class: "hint", text: humanSeconds(w.seconds) });
  const save = el("button", { type: "button", class: "secondary", text: "Save" });
  save.addEventListener("click", async () => {
    try {
      Object.assign(w, await call("PATCH", "/api/walking-times/" + w.id + "/", { seconds: Number(seconds.value) }));
      report("walking-error", null);
      human.textContent = humanSeconds(w.seconds);
    } catch (err) { report("walking-error", err); }
  });
  const remove = el("button", { type: "button", class: "secondary", text: "Delete" });
  remove.addEventListener("click", async () => {
    try {
      await call("DELETE", "/api/walking-times/" + w.id + "/");
      state.walking = state.walking.filter((x) => x.id !== w.id);
      report("walking-error", null);
      renderWalking();
    } catch (err) { report("walking-error", err); }
  });
  return el("tr", { "data-walking": String(w.id) }, [
    el("td", { text: nameOf(w.camera_a) }), el("td", { text: nameOf(w.camera_b) }),
    el("td", {}, [seconds, human]), el("td", {}, [save]), el("td", {}, [remove]),
  ]);
}

function renderWalking() {
  const body = document.querySelector("#walking-table tbody");
  if (!state.walking.length) {
    body.replaceChildren(el("tr", { class: "empty" }, [el("td", { colspan: "5", text: "No walking times entered." })]));
  } else {
    body.replaceChildren(...state.walking.map(walkingRow));
  }
  const form = document.getElementById("walking-form");
  [form.camera_a, form.camera_b].forEach((select) => {
    const keep = select.value;
    select.replaceChildren(...state.cameras.map((c) => option(c.id, c.name, String(c.id) === keep)));
  });
}

function initWalking() {
  document.getElementById("walking-speed").textContent = data.walking_speed_mps;
  const form = document.getElementById("walking-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const row = await call("POST", "/api/walking-times/", {
        camera_a: Number(form.camera_a.value), camera_b: Number(form.camera_b.value), seconds: Number(form.seconds.value),
      });
      state.walking.push(row);
      form.seconds.value = "";
      report("walking-error", null);
      renderWalking();
    } catch (err) { report("walking-error", err); }
  });
}

function renderAll() {
  renderPlans();
  renderCameras();
  renderWalking();
}

initPlans();
initWalking();
renderAll();
