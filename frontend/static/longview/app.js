// Longview's pages: chunked uploads, live ingest progress and streamed search results.
"use strict";

(function () {
  function cookie(name) {
    const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    });
    (children || []).forEach((c) => node.appendChild(c));
    return node;
  }

  function fmtEta(s) {
    if (s === null || s === undefined) return "";
    if (s < 60) return Math.round(s) + " s left";
    return Math.round(s / 60) + " min left";
  }

  async function api(method, url, body, headers) {
    const opts = { method, headers: Object.assign({ "X-CSRFToken": cookie("csrftoken") }, headers || {}), credentials: "same-origin" };
    if (body !== undefined) opts.body = body;
    const resp = await fetch(url, opts);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      const err = new Error((data && data.detail) || ("request failed with HTTP " + resp.status));
      err.status = resp.status;
      err.data = data;
      throw err;
    }
    return data;
  }

  // One websocket per page; reconnects with backoff and re-sends subscriptions.
  class Events {
    constructor() {
      this.handlers = {};
      this.pending = [];
      this.sticky = [];
      this.delay = 500;
      this.connect();
    }
    connect() {
      const proto = location.protocol === "https:" ? "wss://" : "ws://";
      this.ws = new WebSocket(proto + location.host + "/ws/events/");
      this.ws.onopen = () => {
        this.delay = 500;
        this.sticky.forEach((m) => this.ws.send(JSON.stringify(m)));
        this.pending.splice(0).forEach((m) => this.ws.send(JSON.stringify(m)));
        document.body.dataset.ws = "open";
      };
      this.ws.onmessage = (ev) => {
        const msg = JSON.parse(ev.data);
        (this.handlers[msg.type] || []).forEach((fn) => fn(msg));
      };
      this.ws.onclose = () => {
        document.body.dataset.ws = "closed";
        setTimeout(() => this.connect(), this.delay);
        this.delay = Math.min(this.delay * 2, 10000);
      };
    }
    on(type, fn) { (this.handlers[type] = this.handlers[type] || []).push(fn); }
    send(msg, sticky) {
      if (sticky) this.sticky.push(msg);
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
      else if (!sticky) this.pending.push(msg);
    }
  }

  function renderStatus(container, status, opts) {
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

  function watchIngest(events, onUpdate) {
    events.on("ingest.progress", (m) => onUpdate(m.video, "processing", { percent: m.percent, eta: m.eta_s, message: m.message }));
    events.on("ingest.done", (m) => onUpdate(m.video, "done", { people: m.people, warnings: m.warnings }));
    events.on("ingest.failed", (m) => onUpdate(m.video, "failed", { reason: m.reason }));
  }

  // ---- dashboard: upload + footage table ----
  // The case the page works in: uploads go into it and searches rank only its footage.
  function currentCase() {
    return document.body.dataset.case ? Number(document.body.dataset.case) : null;
  }

  // Every search states why it is run; the last reason given in a case is offered again.
  function justificationField(form) {
    const key = "longview-justification-" + currentCase();
    if (form.justification && !form.justification.value) form.justification.value = sessionStorage.getItem(key) || "";
    return {
      value: () => (form.justification ? form.justification.value.trim() : ""),
      remember: () => { if (form.justification) sessionStorage.setItem(key, form.justification.value.trim()); },
    };
  }

  function initDashboard(events) {
    const table = document.getElementById("videos");
    const live = [];
    table.querySelectorAll("tr[data-video]").forEach((row) => {
      if (["queued", "processing"].includes(row.dataset.status)) live.push(Number(row.dataset.video));
    });
    if (live.length) events.send({ type: "ingest.subscribe", videos: live }, true);
    watchIngest(events, (id, status, opts) => {
      const row = table.querySelector('tr[data-video="' + id + '"]');
      if (!row) return;
      row.dataset.status = status;
      renderStatus(row.querySelector(".status"), status, opts);
      if (opts.people !== undefined) row.querySelector(".people").textContent = opts.people;
    });
    // People whose tracks have ended are stored (and searchable) before the whole video is done.
    events.on("ingest.people", (m) => {
      const row = table.querySelector('tr[data-video="' + m.video + '"]');
      if (row) row.querySelector(".people").textContent = m.people + " so far";
    });

    const form = document.getElementById("upload-form");
    if (!form) return;
    const localNow = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
    form.recorded_at.value = localNow.toISOString().slice(0, 19);
    const chunk = Number(document.getElementById("upload").dataset.chunkBytes);
    const bar = document.getElementById("upload-progress");
    const text = document.getElementById("upload-text");
    const errorBox = document.getElementById("upload-error");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      errorBox.hidden = true;
      const file = form.file.files[0];
      if (!file) return;
      const button = form.querySelector("button");
      button.disabled = true;
      bar.parentElement.hidden = false;
      bar.value = 0;
      text.textContent = "starting upload of " + file.name;
      try {
        const recorded = new Date(form.recorded_at.value).toISOString();
        let video = await api("POST", "/api/videos/", JSON.stringify({
          case: currentCase(), camera: Number(form.camera.value), recorded_at: recorded, filename: file.name, size: file.size,
        }), { "Content-Type": "application/json" });
        addRow(video);
        let offset = video.upload_offset;
        while (offset < file.size) {
          const end = Math.min(offset + chunk, file.size);
          try {
            video = await api("PUT", "/api/videos/" + video.id + "/content/", file.slice(offset, end), {
              "Content-Type": "application/octet-stream",
              "Content-Range": "bytes " + offset + "-" + (end - 1) + "/" + file.size,
            });
          } catch (err) {
            // 409 tells us where the server stands: resume from there.
            if (err.status === 409 && err.data && err.data.offset !== undefined && err.data.offset < file.size) {
              offset = err.data.offset;
              continue;
            }
            if (err.data && err.data.video) {
              const row = table.querySelector('tr[data-video="' + err.data.video + '"]');
              if (row) renderStatus(row.querySelector(".status"), "rejected", { reason: err.message });
            }
            throw err;
          }
          offset = video.upload_offset;
          bar.value = Math.round((100 * offset) / file.size);
          text.textContent = "uploading " + file.name + ": " + bar.value + "%";
        }
        text.textContent = file.name + " uploaded; processing has started";
        events.send({ type: "ingest.subscribe", videos: [video.id] }, true);
        const row = table.querySelector('tr[data-video="' + video.id + '"]');
        if (row) renderStatus(row.querySelector(".status"), video.status, { percent: 0, message: "queued" });
        form.reset();
        form.recorded_at.value = localNow.toISOString().slice(0, 19);
      } catch (err) {
        errorBox.textContent = err.message;
        errorBox.hidden = false;
        text.textContent = "";
        bar.parentElement.hidden = true;
      } finally {
        button.disabled = false;
      }
    });

    function addRow(video) {
      const empty = table.querySelector("tr.empty");
      if (empty) empty.remove();
      const status = el("td", { class: "status" });
      renderStatus(status, "uploading");
      const row = el("tr", { "data-video": String(video.id), "data-status": video.status }, [
        el("td", {}, [el("a", { href: "/videos/" + video.id + "/", text: video.original_name })]),
        el("td", { text: video.camera_name }),
        el("td", { text: video.recorded_at.replace("T", " ").slice(0, 19) }),
        status,
        el("td", { class: "people", text: "0" }),
      ]);
      table.tBodies[0].prepend(row);
    }
  }

  // ---- person cards and the clip player ----
  function personCard(p, extra) {
    const label = extra || ("#" + p.track_id + " · " + p.start_s + "–" + p.end_s + " s");
    const play = el("button", { type: "button", class: "play", "data-tracklet": String(p.tracklet), text: "▶ Play" });
    return el("div", { class: "person", "data-tracklet": String(p.tracklet) }, [
      el("a", { href: "/search/tracklet/" + p.tracklet + "/", title: "Search all footage for this person" }, [
        el("img", { src: p.thumbnail_url, alt: "person " + p.track_id, loading: "lazy" }),
      ]),
      el("span", { text: label }),
      attributeBadges(p.attributes),
      play,
    ]);
  }

  // A calibrated confidence reads as a chance of a match; a raw score is shown as such.
  function matchLabel(h) {
    if (h.confidence !== null && h.confidence !== undefined) return Math.round(100 * h.confidence) + "% match";
    return "score " + h.score.toFixed(2);
  }

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

  // Plays a person's stretch of the review video with their box drawn over it.
  function initPlayer() {
    const dialog = document.getElementById("player");
    if (!dialog) return;
    const video = dialog.querySelector("video");
    const canvas = dialog.querySelector("canvas");
    const caption = dialog.querySelector(".caption");
    let current = null;

    function boxAt(t) {
      const boxes = current.boxes;
      if (!boxes.length || t < boxes[0][1] - 0.3 || t > boxes[boxes.length - 1][1] + 0.3) return null;
      let i = 0;
      while (i < boxes.length - 1 && boxes[i + 1][1] <= t) i++;
      const a = boxes[i], b = boxes[Math.min(i + 1, boxes.length - 1)];
      const span = b[1] - a[1];
      const w = span > 0 ? Math.min(1, Math.max(0, (t - a[1]) / span)) : 0;
      return [2, 3, 4, 5].map((k) => a[k] + w * (b[k] - a[k]));
    }

    function draw() {
      if (!current) return;
      canvas.width = video.clientWidth;
      canvas.height = video.clientHeight;
      const ctx = canvas.getContext("2d");
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      const box = boxAt(video.currentTime);
      if (box) {
        const sx = canvas.width / current.frame_width, sy = canvas.height / current.frame_height;
        ctx.strokeStyle = "#ffd400";
        ctx.lineWidth = 3;
        ctx.strokeRect(box[0] * sx, box[1] * sy, (box[2] - box[0]) * sx, (box[3] - box[1]) * sy);
        dialog.dataset.boxDrawn = "1";
      }
      if (video.currentTime >= current.end_s + 0.5) video.pause();
      if (!video.paused) requestAnimationFrame(draw);
    }

    video.addEventListener("play", () => requestAnimationFrame(draw));
    video.addEventListener("seeked", draw);
    dialog.addEventListener("close", () => { video.pause(); current = null; });
    document.addEventListener("click", async (ev) => {
      const button = ev.target.closest("button.play");
      if (!button) return;
      ev.preventDefault();
      try {
        current = await api("GET", "/api/tracklets/" + button.dataset.tracklet + "/");
      } catch (err) {
        alert(err.message);
        return;
      }
      delete dialog.dataset.boxDrawn;
      caption.textContent = current.camera + " · " + current.video_name + " · " +
        current.start_time.replace("T", " ").slice(0, 19) + " · " + current.start_s + "–" + current.end_s + " s";
      dialog.showModal();
      video.src = current.clip_url;
      video.addEventListener("loadedmetadata", () => {
        video.currentTime = Math.max(0, current.start_s - 0.5);
        video.play().catch(() => {});
      }, { once: true });
    });
  }

  function initVideo(events, section) {
    const id = Number(section.dataset.video);
    const statusBox = document.getElementById("video-status");
    if (["queued", "processing"].includes(section.dataset.status)) events.send({ type: "ingest.subscribe", videos: [id] }, true);
    watchIngest(events, async (vid, status, opts) => {
      if (vid !== id) return;
      section.dataset.status = status;
      renderStatus(statusBox, status, opts);
      if (status === "done") {
        const people = await api("GET", "/api/videos/" + id + "/tracklets/");
        const grid = document.getElementById("people");
        grid.replaceChildren(...people.map((p) => personCard(p)));
        if (!people.length) grid.appendChild(el("p", { class: "empty", text: "Nobody was found in this video." }));
        document.getElementById("people-count").textContent = people.length;
      }
    });
  }

  // ---- search page: filters, and ranked batches arriving over the websocket ----
  async function fillFilterChoices(form) {
    const [cameras, galleries] = await Promise.all([
      api("GET", "/api/cameras/?limit=1000"), api("GET", "/api/galleries/?limit=1000"),
    ]);
    const galleryName = {};
    galleries.results.forEach((g) => {
      galleryName[g.id] = g.name;
      form.gallery.appendChild(el("option", { value: String(g.id), text: g.name }));
    });
    cameras.results.forEach((c) => {
      const text = c.gallery ? c.name + " (" + galleryName[c.gallery] + ")" : c.name;
      form.cameras.appendChild(el("option", { value: String(c.id), text: text }));
    });
    form.dataset.ready = "1";
  }

  function readFilters(form) {
    const filters = {};
    const cameras = Array.from(form.cameras.selectedOptions).map((o) => Number(o.value));
    if (cameras.length) filters.cameras = cameras;
    if (form.gallery.value) filters.galleries = [Number(form.gallery.value)];
    // datetime-local holds the browser's local time; the server wants an absolute instant.
    if (form.from.value) filters.from = new Date(form.from.value).toISOString();
    if (form.to.value) filters.to = new Date(form.to.value).toISOString();
    const attributes = [];
    ["upper_colour", "lower_colour"].forEach((name) => {
      if (form[name] && form[name].value) attributes.push({ attribute: name, value: form[name].value, min_probability: 0.3 });
    });
    if (attributes.length) filters.attributes = attributes;
    return filters;
  }

  // One result card of a person search, by photo or by a person.
  function resultCard(h, lane, refined) {
    const when = h.start_time.replace("T", " ").slice(0, 19);
    const card = personCard(h, h.camera + " · " + when + " · " + matchLabel(h));
    card.dataset.score = String(h.score);
    card.dataset.camera = String(h.camera_id);
    card.dataset.lane = lane || "same_outfit";
    if (refined) card.dataset.refined = "1";
    card.classList.add("result");
    return card;
  }

  function initSearch(events, section) {
    const tracklet = Number(section.dataset.tracklet);
    const grid = document.getElementById("results");
    const status = document.getElementById("search-status");
    const count = document.getElementById("result-count");
    // The second lane: people the clothes-invariant model finds beyond the same-outfit matches.
    const gridCc = document.getElementById("results-cc");
    const countCc = document.getElementById("result-count-cc");
    const form = document.getElementById("search-filters");
    const submit = form.querySelector("button[type=submit]");
    let current = null;   // id of the running search, once the server has said it
    let floor = 0;        // messages of searches below this id belong to earlier runs
    let sentAt = null;

    function finished(text) {
      status.textContent = text;
      section.dataset.done = "1";
      submit.disabled = false;
    }

    // Sends once the socket is open, timing from the moment the query leaves the browser.
    function sendWhenOpen(message) {
      if (events.ws.readyState !== WebSocket.OPEN) {
        setTimeout(() => sendWhenOpen(message), 20);
        return;
      }
      sentAt = performance.now();
      events.send(message);
    }

    const why = justificationField(form);

    function run() {
      if (!why.value()) {
        status.textContent = "Say why you are searching (it goes into the case's audit ledger), then press Search.";
        form.justification.focus();
        return;
      }
      why.remember();
      const message = { type: "search.start", case: currentCase(), justification: why.value(), tracklet: tracklet, k: 48,
                        refine: Boolean(form.refine && form.refine.checked) };
      const filters = readFilters(form);
      if (Object.keys(filters).length) message.filters = filters;
      if (current !== null) floor = current + 1;
      current = null;
      grid.replaceChildren();
      gridCc.replaceChildren();
      count.textContent = "0";
      countCc.textContent = "0";
      status.textContent = "Searching…";
      delete section.dataset.done;
      delete section.dataset.firstHitsMs;
      submit.disabled = true;
      sendWhenOpen(message);
    }

    const ours = (m) => m.search >= floor && (current === null || m.search === current);
    events.on("search.started", (m) => {
      if (m.tracklet === tracklet && m.search >= floor) current = m.search;
    });
    events.on("search.hits", (m) => {
      if (!ours(m)) return;
      if (section.dataset.firstHitsMs === undefined) {
        section.dataset.firstHitsMs = (performance.now() - sentAt).toFixed(1);
      }
      const target = m.lane === "clothes_change" ? gridCc : grid;
      m.hits.forEach((h) => target.appendChild(resultCard(h, m.lane)));
      count.textContent = grid.children.length;
      countCc.textContent = gridCc.children.length;
      status.textContent = "Receiving results…";
    });
    // The second pass: the lane's list, re-ranked, replaces the first one.
    events.on("search.refined", (m) => {
      if (!ours(m)) return;
      const target = m.lane === "clothes_change" ? gridCc : grid;
      target.replaceChildren(...m.hits.map((h) => resultCard(h, m.lane, true)));
      target.dataset.refined = "1";
      count.textContent = grid.children.length;
      countCc.textContent = gridCc.children.length;
      status.textContent = "Refining the ranking…";
    });
    events.on("search.done", (m) => {
      if (!ours(m)) return;
      const ms = Math.round(performance.now() - sentAt);
      const first = section.dataset.firstHitsMs;
      const lanes = m.lanes || {};
      finished(m.count
        ? (lanes.same_outfit || 0) + " in the same outfit, " + (lanes.clothes_change || 0)
          + " possibly in other clothes, best first" + (m.refined ? ", refined" : "")
          + " (first after " + Math.round(Number(first)) + " ms, all after " + ms + " ms)"
        : "Nobody matches in the footage searched.");
    });
    events.on("search.failed", (m) => { if (ours(m)) finished("Search failed: " + m.reason); });
    events.on("error", (m) => { if (m.request === "search.start") finished("Search refused: " + m.detail); });

    form.addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
    fillFilterChoices(form).catch((err) => { status.textContent = "Filters unavailable: " + err.message; });
    run();
  }

  // ---- describe page: search by garment colours (websocket) or by an uploaded photo (REST + socket) ----
  function initDescribe(events, section) {
    const status = document.getElementById("search-status");
    const form = document.getElementById("search-filters");
    const describeButton = form.querySelector("button[name=describe]");
    const uploadButton = form.querySelector("button[name=upload]");
    const lanes = {
      attributes: { box: document.getElementById("lane-attributes"), grid: document.getElementById("results-attr"), count: document.getElementById("result-count-attr") },
      same_outfit: { box: document.getElementById("lane-same-outfit"), grid: document.getElementById("results"), count: document.getElementById("result-count") },
      clothes_change: { box: document.getElementById("lane-clothes-change"), grid: document.getElementById("results-cc"), count: document.getElementById("result-count-cc") },
    };
    let current = null;    // id of the search on show, once known
    let waiting = false;   // a search was sent and its id is not known yet
    let early = [];        // photo-search events that arrived before the upload's reply
    let sentAt = null;
    const why = justificationField(form);

    // Photo searches report to every socket of this user that subscribed; ask once per connection,
    // and upload only once subscribed, or the first results could arrive before anyone listens.
    uploadButton.disabled = true;
    events.on("search.subscribed", () => { if (!waiting) uploadButton.disabled = false; });
    events.send({ type: "search.subscribe" }, true);

    function reset(shown) {
      Object.entries(lanes).forEach(([name, lane]) => {
        lane.grid.replaceChildren();
        lane.count.textContent = "0";
        lane.box.hidden = !shown.includes(name);
      });
      delete section.dataset.done;
      delete section.dataset.firstHitsMs;
      describeButton.disabled = uploadButton.disabled = true;
      sentAt = performance.now();
    }

    function finished(text) {
      status.textContent = text;
      section.dataset.done = "1";
      waiting = false;
      describeButton.disabled = uploadButton.disabled = false;
    }

    function show(m) {
      if (m.type === "search.hits") {
        const lane = lanes[m.lane] || lanes.same_outfit;
        if (section.dataset.firstHitsMs === undefined) section.dataset.firstHitsMs = (performance.now() - sentAt).toFixed(1);
        m.hits.forEach((h) => {
          const when = h.start_time.replace("T", " ").slice(0, 19);
          const card = personCard(h, h.camera + " · " + when + " · " + matchLabel(h));
          card.dataset.score = String(h.score);
          card.dataset.lane = m.lane;
          card.classList.add("result");
          lane.grid.appendChild(card);
        });
        lane.count.textContent = lane.grid.children.length;
        status.textContent = "Receiving results…";
      } else if (m.type === "search.refined") {
        const lane = lanes[m.lane] || lanes.same_outfit;
        lane.grid.replaceChildren(...m.hits.map((h) => resultCard(h, m.lane, true)));
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
        early.splice(0).filter((e) => e.search === current).forEach(show);
      }
    });
    events.on("error", (m) => { if (m.request === "search.start" && waiting) finished("Search refused: " + m.detail); });

    function begin() {
      current = null;
      early = [];
      waiting = true;
      status.textContent = "Searching…";
    }

    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const filters = readFilters(form);
      // Here the colours describe the person and rank the results; they are not a filter.
      const attributes = (filters.attributes || []).map((c) => ({ attribute: c.attribute, value: c.value }));
      delete filters.attributes;
      if (!attributes.length) { status.textContent = "Choose an upper or lower garment colour first."; return; }
      reset(["attributes"]);
      begin();
      if (!why.value()) { status.textContent = "Say why you are searching first."; form.justification.focus(); return; }
      why.remember();
      const message = { type: "search.start", case: currentCase(), justification: why.value(), attributes: attributes, k: 48 };
      if (Object.keys(filters).length) message.filters = filters;
      events.send(message);
    });

    uploadButton.addEventListener("click", async () => {
      const file = form.photo.files[0];
      if (!file) { status.textContent = "Choose a photo first."; return; }
      if (!why.value()) { status.textContent = "Say why you are searching first."; form.justification.focus(); return; }
      why.remember();
      const body = new FormData();
      body.append("image", file);
      body.append("case", String(currentCase()));
      body.append("justification", why.value());
      body.append("k", "48");
      body.append("refine", form.refine && form.refine.checked ? "true" : "false");
      const filters = readFilters(form);
      if (Object.keys(filters).length) body.append("filters", JSON.stringify(filters));
      reset(["same_outfit", "clothes_change"]);
      begin();
      status.textContent = "Uploading the photo…";
      try {
        const started = await api("POST", "/api/search/image/", body);
        current = started.search;
        status.textContent = "Finding the person in the photo…";
        early.splice(0).filter((e) => e.search === current).forEach(show);
      } catch (err) {
        finished("Photo refused: " + err.message);
      }
    });

    fillFilterChoices(form).catch((err) => { status.textContent = "Filters unavailable: " + err.message; });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!document.querySelector(".topbar nav")) return;  // login page: no socket
    initPlayer();
    const events = new Events();
    window.longviewEvents = events;
    if (document.getElementById("videos")) initDashboard(events);
    const video = document.getElementById("video-page");
    if (video) initVideo(events, video);
    const search = document.getElementById("search-page");
    if (search) initSearch(events, search);
    const describe = document.getElementById("describe-page");
    if (describe) initDescribe(events, describe);
  });
})();
