// Plays a person's stretch of the review video with their box drawn over it.
import { api } from "./dom.js";

export function initPlayer() {
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
