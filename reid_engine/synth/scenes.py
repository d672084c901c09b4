"""Multi-camera scene videos: people walk across static scenes; MOTChallenge ground truth per camera.

Each camera is a pinhole camera a couple of metres up, looking level over a ground plane, so people
are 80–250 px tall by distance, shrink towards the horizon and hide each other when they cross
(painted far to near; ground-truth visibility is the share of a person's silhouette left visible).
The same identities appear on several cameras, each camera in another outfit.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from reid_engine.synth import io
from reid_engine.synth.backgrounds import scene_background
from reid_engine.synth.body import View
from reid_engine.synth.degrade import Look, apply_light, noise
from reid_engine.synth.image_set import write_population
from reid_engine.synth.plan import STREAM_SCENE, Plan, make_plan, stream
from reid_engine.synth.render import render_person

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MIN_PX, MAX_PX = 80.0, 250.0


@dataclass(frozen=True, kw_only=True)
class SceneSetConfig:
    """Sizes of a scene set (every field is a CLI flag)."""

    seed: int = 0
    ids: int = 12
    outfits: int = 3
    cameras: int = 3
    duration: float = 30.0
    fps: float = 10.0
    people: int = 12
    width: int = 640
    height: int = 360
    crf: int = 23

    def validate(self) -> None:
        """Raises:
        SynthError: on a value out of range.
        """
        if self.ids < 2 or self.outfits < 1 or self.cameras < 1 or self.people < 1:
            raise io.SynthError("--ids must be at least 2; --outfits, --cameras and --people at least 1")
        if not 1.0 <= self.duration <= 600.0:
            raise io.SynthError("--duration must be between 1 and 600 seconds")
        if not 1.0 <= self.fps <= 60.0:
            raise io.SynthError("--fps must be between 1 and 60")
        if (
            not (160 <= self.width <= 1920 and 120 <= self.height <= 1080)
            or self.width % 2
            or self.height % 2
        ):
            raise io.SynthError("frame size must be even, 160x120 to 1920x1080")


@dataclass(frozen=True, slots=True, eq=False)
class SceneCamera:
    """A level pinhole camera: ``focal`` px, ``horizon`` row, ``cam_height`` metres above the ground."""

    camid: int
    focal: float
    horizon: float
    cam_height: float
    width: int
    height: int
    background: np.ndarray
    look: Look

    def z_range(self) -> tuple[float, float]:
        """Depths where a 1.75 m person is MAX_PX and MIN_PX tall."""
        return self.focal * 1.75 / MAX_PX, self.focal * 1.75 / MIN_PX

    def x_edge(self, z: float) -> float:
        """Half-width of the view in metres at depth ``z``."""
        return z * self.width / (2.0 * self.focal)

    def to_pixel(self, x: float, z: float) -> tuple[float, float, float]:
        """Ground point (x, z) → (column, foot row, pixels per metre)."""
        return (
            self.width / 2 + self.focal * x / z,
            self.horizon + self.focal * self.cam_height / z,
            self.focal / z,
        )


def make_scene_camera(seed: int, camid: int, width: int, height: int) -> SceneCamera:
    rng = stream(seed, STREAM_SCENE, camid)
    focal = float(rng.uniform(1.4, 1.8) * height)
    horizon = float(rng.uniform(0.1, 0.25) * height)
    z_near = focal * 1.75 / MAX_PX
    # Pick the camera height that puts the nearest walker's feet just above the bottom edge.
    cam_height = (0.97 * height - horizon) * z_near / focal
    temp = rng.normal(0.0, 0.06)
    look = Look(
        gain=float(rng.uniform(0.8, 1.15)),
        tint=(1 + temp, 1.0, 1 - temp),
        gamma=float(rng.uniform(0.85, 1.15)),
        side_light=0.0,
        blur="none",
        blur_px=3,
        blur_angle=0.0,
        lowres=1.0,
        jpeg=0,
        noise=float(rng.uniform(1.0, 3.0)),
    )
    bg = scene_background(rng, height, width, horizon=horizon / height + float(rng.uniform(0.02, 0.12)))
    return SceneCamera(camid, focal, horizon, cam_height, width, height, bg, look)


@dataclass(frozen=True, slots=True)
class Walk:
    """One person's straight walk through one camera's view (a ground-truth track)."""

    track_id: int
    pid: int
    clothes_id: int
    start: float
    speed: float
    x0: float
    z0: float
    x1: float
    z1: float
    phase0: float

    @property
    def length(self) -> float:
        return math.hypot(self.x1 - self.x0, self.z1 - self.z0)

    def at(self, t: float) -> tuple[float, float] | None:
        d = (t - self.start) * self.speed
        if d < 0 or d > self.length:
            return None
        u = d / max(self.length, 1e-9)
        return self.x0 + u * (self.x1 - self.x0), self.z0 + u * (self.z1 - self.z0)

    @property
    def yaw(self) -> float:
        # 0 faces the camera (walking towards it, z decreasing), +90 walks to the image's right.
        return math.degrees(math.atan2(self.x1 - self.x0, -(self.z1 - self.z0)))


def plan_walks(plan: Plan, cam: SceneCamera, *, seed: int, people: int, duration: float) -> list[Walk]:
    """Walks of one camera: side-to-side crossings (some paired to cross each other), diagonal
    approaches and retreats, and the odd person walking past twice."""
    rng = stream(seed, STREAM_SCENE, 1000 + cam.camid)
    z_near, z_far = cam.z_range()
    ids = plan.population.identities
    cast = [int(p) for p in rng.permutation(len(ids))]
    walks: list[Walk] = []
    busy_until: dict[int, float] = {}
    for n in range(people):
        pair = n > 0 and n % 3 == 1 and bool(walks)
        if pair:
            prev = walks[-1]
            z0 = float(np.clip(prev.z0 + rng.uniform(-1.5, 1.5), z_near, z_far))
            z1 = float(np.clip(z0 + rng.uniform(-1.0, 1.0), z_near, z_far))
            left = prev.x0 > 0
            start = prev.start + float(rng.uniform(-1.0, 1.0))
        else:
            # Uniform in 1/z, i.e. in pixel height: people spread evenly over 80-250 px.
            z0, z1 = (1.0 / float(v) for v in rng.uniform(1.0 / z_far, 1.0 / z_near, 2))
            left = bool(rng.random() < 0.5)
            start = float(rng.uniform(-0.1, 0.9) * duration)
        x0 = -(cam.x_edge(z0) + 0.6) if left else cam.x_edge(z0) + 0.6
        x1 = cam.x_edge(z1) + 0.6 if left else -(cam.x_edge(z1) + 0.6)
        if not pair and rng.random() < 0.25:
            # Leave through the bottom edge, walking towards the camera.
            z1 = z_near * 0.55
            x1 = float(rng.uniform(-0.5, 0.5) * cam.x_edge(z1))
        # New faces first; once everyone has walked, someone comes back - never while still in view.
        fresh = [p for p in cast if p not in busy_until]
        back = [p for p in cast if p in busy_until and busy_until[p] + 2.0 < start]
        if not fresh and not back:
            continue
        pid = fresh[0] if fresh and (not back or rng.random() < 0.85) else back[int(rng.integers(len(back)))]
        outfits = plan.population.outfits[pid]
        order = stream(seed, STREAM_SCENE, 2000 + pid).permutation(len(outfits))
        outfit = outfits[int(order[cam.camid % len(outfits)])]
        ident = ids[pid]
        speed = ident.gait.cadence * 1.5 * ident.body.height_m / 1.75
        walk = Walk(len(walks) + 1, pid, outfit.clothes_id, start, speed, x0, z0, x1, z1, float(rng.random()))
        busy_until[pid] = start + walk.length / speed
        walks.append(walk)
    return walks


def _render_camera(camid: int) -> dict[str, Any]:
    st = io.worker_state()
    plan: Plan = st["plan"]
    cfg: SceneSetConfig = st["config"]
    out: Path = st["out"]
    cam = make_scene_camera(cfg.seed, camid, cfg.width, cfg.height)
    walks = plan_walks(plan, cam, seed=cfg.seed, people=cfg.people, duration=cfg.duration)
    outfits = {o.clothes_id: o for o in plan.population.all_outfits()}
    cam_dir = out / f"cam{camid}"
    (cam_dir / "gt").mkdir(parents=True, exist_ok=True)
    n_frames = round(cfg.duration * cfg.fps)
    rng = stream(cfg.seed, STREAM_SCENE, 3000 + camid)
    gt_rows: list[str] = []
    seen: dict[int, list[int]] = {}
    container = av.open(str(cam_dir / "video.mp4"), mode="w")
    try:
        video = container.add_stream("libx264", rate=Fraction(cfg.fps).limit_denominator(1000))
        video.width, video.height, video.pix_fmt = cfg.width, cfg.height, "yuv420p"
        # One encoder thread: x264's output depends on its thread count, and must not depend on the host.
        video.options = {"crf": str(cfg.crf), "preset": "veryfast", "threads": "1"}
        for f in range(n_frames):
            frame, rows = _compose(cam, walks, plan, outfits, f / cfg.fps, rng)
            for walk, box, vis in rows:
                gt_rows.append(f"{f + 1},{walk.track_id},{box[0]},{box[1]},{box[2]},{box[3]},1,1,{vis:.3f}")
                seen.setdefault(walk.track_id, []).append(f + 1)
            for packet in video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
    finally:
        container.close()
    (cam_dir / "gt" / "gt.txt").write_text("\n".join(gt_rows) + ("\n" if gt_rows else ""), encoding="ascii")
    (cam_dir / "seqinfo.ini").write_text(
        f"[Sequence]\nname=cam{camid}\nimDir=video.mp4\nframeRate={cfg.fps:g}\nseqLength={n_frames}\n"
        f"imWidth={cfg.width}\nimHeight={cfg.height}\nimExt=.mp4\n",
        encoding="ascii",
    )
    tracks = []
    for w in walks:
        if w.track_id not in seen:
            continue
        o = outfits[w.clothes_id]
        tracks.append(
            {
                "track_id": w.track_id,
                "pid": w.pid,
                "clothes_id": w.clothes_id,
                "outfit_template": o.template,
                "attributes": {**plan.population.identities[w.pid].attributes(), **o.attributes()},
                "first_frame": seen[w.track_id][0],
                "last_frame": seen[w.track_id][-1],
                "yaw": round(w.yaw, 1),
            }
        )
    io.write_json(cam_dir / "tracks.json", tracks)
    return {
        "camid": camid,
        "dir": f"cam{camid}",
        "frames": n_frames,
        "tracks": len(tracks),
        "boxes": len(gt_rows),
    }


def _compose(
    cam: SceneCamera,
    walks: list[Walk],
    plan: Plan,
    outfits: dict[int, Any],
    t: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[tuple[Walk, tuple[int, int, int, int], float]]]:
    frame = cam.background.copy()
    H, W = cam.height, cam.width
    placed = []
    for w in walks:
        pos = w.at(t)
        if pos is None:
            continue
        x, y, ppm = cam.to_pixel(*pos)
        ident = plan.population.identities[w.pid]
        h_px = ppm * ident.body.height_m
        ch, cw = int(h_px * 1.12) + 8, int(h_px * 0.75) + 8
        ox, oy = round(x) - cw // 2, round(y) - ch + 4
        if ox >= W or oy >= H or ox + cw <= 0 or oy + ch <= 0:
            continue
        placed.append((pos[1], w, ident, ppm, ch, cw, ox, oy, x - ox, y - oy))
    placed.sort(key=lambda p: -p[0])
    shadow = np.zeros((H, W), np.uint8)
    for _, _, _, ppm, _, _, ox, oy, ax, ay in placed:
        axes = (max(2, int(0.3 * ppm)), max(1, int(0.07 * ppm)))
        cv2.ellipse(shadow, (int(ox + ax), int(oy + ay)), axes, 0, 0, 360, 1, -1)
    dark = shadow.astype(bool)
    frame[dark] = (frame[dark] * 0.6).astype(np.uint8)
    owner = np.zeros((H, W), np.uint8)
    renders = []
    for i, (_, w, ident, ppm, ch, cw, ox, oy, ax, ay) in enumerate(placed, 1):
        view = View(w.yaw, ppm, ax, ay)
        phase = w.phase0 + (t - w.start) * ident.gait.cadence
        person = render_person(ident, outfits[w.clothes_id], view, phase, (ch, cw))
        x0, y0 = max(0, ox), max(0, oy)
        x1, y1 = min(W, ox + cw), min(H, oy + ch)
        if x1 <= x0 or y1 <= y0:
            continue
        local = np.zeros((ch, cw, 3), np.uint8)
        person.paste(local)
        fg = person.labels[y0 - oy : y1 - oy, x0 - ox : x1 - ox] > 0
        cv2.copyTo(local[y0 - oy : y1 - oy, x0 - ox : x1 - ox], fg.astype(np.uint8), frame[y0:y1, x0:x1])
        owner[y0:y1, x0:x1][fg] = i
        renders.append((i, w, person, ox, oy))
    rows = []
    for i, w, person, ox, oy in renders:
        total = int(np.count_nonzero(person.labels))
        bx0, by0, bx1, by1 = person.box
        if total == 0:
            continue
        visible = int(np.count_nonzero(owner == i))
        box = (ox + bx0, oy + by0, bx1 - bx0, by1 - by0)
        gx0, gy0 = max(0, box[0]), max(0, box[1])
        if min(W, box[0] + box[2]) <= gx0 or min(H, box[1] + box[3]) <= gy0:
            continue
        rows.append((w, box, visible / total))
    lit = apply_light(frame, cam.look)
    lit = cv2.add(lit, noise(rng, lit.shape, cam.look.noise), dtype=cv2.CV_8U)
    return lit, sorted(rows, key=lambda r: r[0].track_id)


def generate_scenes(
    out: Path,
    config: SceneSetConfig,
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: io.ProgressFn | None = None,
) -> dict[str, Any]:
    """Render one scene video per camera with MOTChallenge ground truth (layout in docs/synthcc.md).

    Raises:
        SynthError: on bad settings or an unusable output folder.
    """
    config.validate()
    try:
        plan = make_plan(
            seed=config.seed,
            num_ids=config.ids,
            outfits=config.outfits,
            cameras=1,
            cams_per_outfit=1,
            single_outfit_fraction=0.0,
            train_fraction=0.5,
            protocol="ltcc",
            camera_yaws=((0.0,),),
        )
    except ValueError as exc:
        raise io.SynthError(str(exc)) from None
    io.prepare_out(out, overwrite=overwrite)
    state = {"plan": plan, "config": config, "out": out}
    started = time.perf_counter()
    cams = list(range(config.cameras))
    videos = list(io.run_ordered(_render_camera, cams, state=state, workers=workers, progress=progress))
    seconds = time.perf_counter() - started
    write_population(out, plan)
    io.write_json(
        out / "meta.json",
        {
            "kind": "synthcc-scenes",
            "format_version": FORMAT_VERSION,
            "config": asdict(config),
            "fps": config.fps,
            "width": config.width,
            "height": config.height,
            "videos": videos,
            "gt_columns": [
                "frame",
                "id",
                "bb_left",
                "bb_top",
                "bb_width",
                "bb_height",
                "conf",
                "class",
                "visibility",
            ],
        },
    )
    frames = sum(v["frames"] for v in videos)
    return {
        "out": str(out),
        "videos": len(videos),
        "frames": frames,
        "boxes": sum(v["boxes"] for v in videos),
        "seconds": round(seconds, 3),
        "frames_per_s": round(frames / max(seconds, 1e-9), 1),
        "workers": workers,
    }
