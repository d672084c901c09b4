"""The SynthCC tracklet set (CCVID-like): short walking clips with one look and background each."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from reid_engine.synth import io
from reid_engine.synth.image_set import ImageSetConfig, plan_for, write_annotations
from reid_engine.synth.plan import STREAM_ITEM, Plan, split_items, stream
from reid_engine.synth.shots import background, render_shot, sample_shot

logger = logging.getLogger(__name__)

_TRACKLET_STREAM = 100 + STREAM_ITEM


@dataclass(frozen=True, kw_only=True)
class TrackletSetConfig(ImageSetConfig):
    """Image-set options plus clip length; ``per_visit`` tracklets per (identity, outfit, camera).

    For every test identity and outfit one tracklet is a query; the rest are gallery.
    """

    ids: int = 100
    per_visit: int = 2
    frames: int = 16
    fps: float = 10.0

    def validate(self) -> None:
        super().validate()
        if self.frames < 2:
            raise io.SynthError("--frames must be at least 2")
        if self.fps <= 0:
            raise io.SynthError("--fps must be positive")


@dataclass(frozen=True, slots=True)
class Item:
    index: int
    visit: int
    split: str


def _render_tracklet(item: Item) -> dict[str, Any]:
    st = io.worker_state()
    plan: Plan = st["plan"]
    cfg: TrackletSetConfig = st["config"]
    out: Path = st["out"]
    v = plan.visits[item.visit]
    ident = plan.population.identities[v.pid]
    outfit = next(o for o in plan.population.outfits[v.pid] if o.clothes_id == v.clothes_id)
    camera = st["cameras"][v.camid]
    rng = stream(cfg.seed, _TRACKLET_STREAM, item.index)
    shot = sample_shot(rng, camera, base_yaw=v.base_yaw, occlusion_p=cfg.occlusion, strength=cfg.degrade)
    bg = background(camera, shot, cfg.height, cfg.width)
    # The walker drifts slowly across the crop and grows or shrinks as a tracker's boxes do.
    drift_x = float(rng.uniform(-0.04, 0.04))
    drift_fill = float(rng.uniform(-0.01, 0.01))
    step = ident.gait.cadence / cfg.fps
    name = f"{v.pid:04d}_c{v.camid}_o{v.clothes_id:05d}_t{item.index:05d}"
    rel_dir, mask_dir = f"{item.split}/{name}", f"masks/{item.split}/{name}"
    (out / rel_dir).mkdir(parents=True, exist_ok=True)
    (out / mask_dir).mkdir(parents=True, exist_ok=True)
    frames, masks, keypoints = [], [], []
    for f in range(cfg.frames):
        t = f - cfg.frames / 2
        frame_shot = replace(
            shot,
            phase=shot.phase + f * step,
            dx=float(np.clip(shot.dx + drift_x * t / cfg.frames * 2, -0.15, 0.15)),
            fill=float(np.clip(shot.fill + drift_fill * t, 0.7, 0.98)),
        )
        sample = render_shot(ident, outfit, camera, frame_shot, rng, size_hw=(cfg.height, cfg.width), bg=bg)
        fname = f"{f:03d}.{cfg.image_format}"
        (out / rel_dir / fname).write_bytes(io.encode_image(sample.image, cfg.image_format, cfg.jpeg_quality))
        (out / mask_dir / f"{f:03d}.png").write_bytes(io.encode_labels(sample.labels))
        frames.append(fname)
        masks.append(f"{f:03d}.png")
        keypoints.append(np.round(sample.keypoints, 1).tolist())
    return {
        "dir": rel_dir,
        "frames": frames,
        "mask_dir": mask_dir,
        "masks": masks,
        "pid": v.pid,
        "camid": v.camid,
        "clothes_id": v.clothes_id,
        "outfit_template": outfit.template,
        "yaw": round(shot.yaw, 1),
        "keypoints": keypoints,
        "attributes": {**ident.attributes(), **outfit.attributes()},
    }


def generate_tracklet_set(
    out: Path,
    config: TrackletSetConfig,
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: io.ProgressFn | None = None,
) -> dict[str, Any]:
    """Render a tracklet set into ``out`` (layout in docs/synthcc.md).

    Half the identities train; for each test identity and outfit one tracklet is a query, the others
    form the gallery.

    Raises:
        SynthError: on bad settings or an unusable output folder.
    """
    cameras, plan = plan_for(config)
    io.prepare_out(out, overwrite=overwrite)
    item_visits = [v.index for v in plan.visits for _ in range(config.per_visit)]
    splits = split_items(plan, item_visits, seed=config.seed, query_per="outfit")
    items = [Item(i, v, s) for i, (v, s) in enumerate(zip(item_visits, splits, strict=True))]
    state = {"plan": plan, "config": config, "out": out, "cameras": cameras}
    started, cpu_started = time.perf_counter(), io.cpu_seconds()
    rows: dict[str, list[dict[str, Any]]] = {"train": [], "query": [], "gallery": []}
    results = io.run_ordered(_render_tracklet, items, state=state, workers=workers, progress=progress)
    for item, row in zip(items, results, strict=True):
        rows[item.split].append(row)
    seconds = time.perf_counter() - started
    cpu = io.cpu_seconds() - cpu_started
    counts = write_annotations(out, kind="tracklets", config=config, cameras=cameras, plan=plan, rows=rows)
    frames = len(items) * config.frames
    logger.info("wrote %s tracklets (%s frames) in %.1f s", len(items), frames, seconds)
    return {
        "out": str(out),
        "tracklets": len(items),
        "frames": frames,
        "counts": counts,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "crops_per_cpu_s": round(frames / max(cpu, 1e-9), 1),
        "crops_per_s": round(frames / max(seconds, 1e-9), 1),
        "workers": workers,
    }
