"""The SynthCC image ReID set: train/query/gallery crops with masks, keypoints and attributes."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from reid_engine.attributes import SCHEMA
from reid_engine.data.base import COCO_KEYPOINTS
from reid_engine.synth import io
from reid_engine.synth.painter import CLOTHING_LABELS, LABELS
from reid_engine.synth.plan import STREAM_ITEM, Plan, ProtocolName, make_plan, split_items, stream
from reid_engine.synth.shots import make_cameras, render_shot, sample_shot

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class ImageSetConfig:
    """Sizes and options of a generated image set (every field is a CLI flag)."""

    seed: int = 0
    ids: int = 150
    outfits: int = 3
    cameras: int = 4
    cams_per_outfit: int = 2
    per_visit: int = 6
    single_outfit_fraction: float = 0.1
    train_fraction: float = 0.5
    protocol: ProtocolName = "ltcc"
    height: int = 256
    width: int = 128
    image_format: Literal["jpg", "png"] = "jpg"
    jpeg_quality: int = 95
    occlusion: float = 0.25
    degrade: float = 1.0

    def validate(self) -> None:
        """Raises:
        SynthError: on a value out of range.
        """
        checks = [
            (self.ids >= 2, "--ids must be at least 2"),
            (self.outfits >= 1, "--outfits must be at least 1"),
            (self.cameras >= 1, "--cameras must be at least 1"),
            (self.per_visit >= 1, "--per-visit must be at least 1"),
            (0.0 <= self.single_outfit_fraction < 1.0, "--single-outfit-fraction must be in [0, 1)"),
            (32 <= self.height <= 1024 and 16 <= self.width <= 1024, "crop size out of range"),
            (1 <= self.jpeg_quality <= 100, "--jpeg-quality must be in 1..100"),
            (0.0 <= self.occlusion <= 1.0, "--occlusion must be in [0, 1]"),
            (0.0 <= self.degrade <= 1.0, "--degrade must be in [0, 1]"),
        ]
        for ok, message in checks:
            if not ok:
                raise io.SynthError(message)


@dataclass(frozen=True, slots=True)
class Item:
    index: int
    visit: int
    split: str


def _item_name(plan: Plan, item: Item, ext: str) -> str:
    v = plan.visits[item.visit]
    return f"{v.pid:04d}_c{v.camid}_o{v.clothes_id:05d}_{item.index:06d}.{ext}"


def _render_item(item: Item) -> dict[str, Any]:
    st = io.worker_state()
    plan: Plan = st["plan"]
    cfg: ImageSetConfig = st["config"]
    out: Path = st["out"]
    v = plan.visits[item.visit]
    ident = plan.population.identities[v.pid]
    outfit = next(o for o in plan.population.outfits[v.pid] if o.clothes_id == v.clothes_id)
    camera = st["cameras"][v.camid]
    rng = stream(cfg.seed, STREAM_ITEM, item.index)
    shot = sample_shot(rng, camera, base_yaw=v.base_yaw, occlusion_p=cfg.occlusion, strength=cfg.degrade)
    sample = render_shot(ident, outfit, camera, shot, rng, size_hw=(cfg.height, cfg.width))
    name = _item_name(plan, item, cfg.image_format)
    image_rel = f"{item.split}/{name}"
    mask_rel = f"masks/{item.split}/{name.rsplit('.', 1)[0]}.png"
    (out / image_rel).write_bytes(io.encode_image(sample.image, cfg.image_format, cfg.jpeg_quality))
    (out / mask_rel).write_bytes(io.encode_labels(sample.labels))
    return {
        "image": image_rel,
        "mask": mask_rel,
        "pid": v.pid,
        "camid": v.camid,
        "clothes_id": v.clothes_id,
        "outfit_template": outfit.template,
        "yaw": round(shot.yaw, 1),
        "keypoints": np.round(sample.keypoints, 1).tolist(),
        "attributes": {**ident.attributes(), **outfit.attributes()},
    }


def generate_image_set(
    out: Path,
    config: ImageSetConfig,
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: io.ProgressFn | None = None,
) -> dict[str, Any]:
    """Render an image set into ``out`` (layout in docs/synthcc.md).

    Args:
        out: output folder (created; must be empty unless ``overwrite``).
        config: sizes and options.
        workers: rendering processes; the output does not depend on it.
        overwrite: allow a non-empty ``out``.
        progress: called with (done, total) after each image.

    Returns:
        A summary: counts per split, images, seconds and crops per second.

    Raises:
        SynthError: on bad settings or an unusable output folder.
    """
    cameras, plan = plan_for(config)
    io.prepare_out(out, overwrite=overwrite)
    item_visits = [v.index for v in plan.visits for _ in range(config.per_visit)]
    splits = split_items(plan, item_visits, seed=config.seed)
    items = [Item(i, v, s) for i, (v, s) in enumerate(zip(item_visits, splits, strict=True))]
    for split in ("train", "query", "gallery"):
        (out / split).mkdir(exist_ok=True)
        (out / "masks" / split).mkdir(parents=True, exist_ok=True)
    state = {"plan": plan, "config": config, "out": out, "cameras": cameras}
    started, cpu_started = time.perf_counter(), io.cpu_seconds()
    rows: dict[str, list[dict[str, Any]]] = {"train": [], "query": [], "gallery": []}
    for item, row in zip(
        items,
        io.run_ordered(_render_item, items, state=state, workers=workers, progress=progress),
        strict=True,
    ):
        rows[item.split].append(row)
    seconds = time.perf_counter() - started
    cpu = io.cpu_seconds() - cpu_started
    counts = write_annotations(out, kind="images", config=config, cameras=cameras, plan=plan, rows=rows)
    logger.info("wrote %s images in %.1f s to %s", len(items), seconds, out)
    return {
        "out": str(out),
        "images": len(items),
        "counts": counts,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "crops_per_cpu_s": round(len(items) / max(cpu, 1e-9), 1),
        "crops_per_s": round(len(items) / max(seconds, 1e-9), 1),
        "workers": workers,
    }


def plan_for(config: ImageSetConfig) -> tuple[list[Any], Plan]:
    """Validate ``config`` and draw its cameras and who-wears-what-where plan.

    Raises:
        SynthError: on bad settings.
    """
    config.validate()
    cameras = make_cameras(config.seed, config.cameras)
    try:
        plan = make_plan(
            seed=config.seed,
            num_ids=config.ids,
            outfits=config.outfits,
            cameras=config.cameras,
            cams_per_outfit=min(config.cams_per_outfit, config.cameras),
            single_outfit_fraction=config.single_outfit_fraction,
            train_fraction=config.train_fraction,
            protocol=config.protocol,
            camera_yaws=tuple(c.yaw_centres for c in cameras),
        )
    except ValueError as exc:
        raise io.SynthError(str(exc)) from None
    return list(cameras), plan


def write_annotations(
    out: Path,
    *,
    kind: Literal["images", "tracklets"],
    config: ImageSetConfig,
    cameras: list[Any],
    plan: Plan,
    rows: dict[str, list[dict[str, Any]]],
) -> dict[str, dict[str, int]]:
    """Write the per-split annotation files, the population and ``meta.json``; return the counts."""
    for split, split_rows in rows.items():
        io.write_jsonl(out / "annotations" / f"{split}.jsonl", split_rows)
    write_population(out, plan)
    counts = {s: {kind: len(r), "ids": len({x["pid"] for x in r})} for s, r in rows.items()}
    io.write_json(
        out / "meta.json",
        {
            "kind": f"synthcc-{kind}",
            "format_version": FORMAT_VERSION,
            "config": asdict(config),
            "protocol": config.protocol,
            "cameras": [c.describe() for c in cameras],
            "labels": list(LABELS),
            "clothing_labels": list(CLOTHING_LABELS),
            "keypoints": list(COCO_KEYPOINTS),
            "attributes": list(SCHEMA.names),
            "counts": counts,
        },
    )
    return counts


def write_population(out: Path, plan: Plan) -> None:
    """identities.json and outfits.json: every trait and every garment, for analysis and loaders."""
    io.write_json(
        out / "identities.json",
        [
            {
                **i.to_json(),
                "attributes": i.attributes(),
                "split": "train" if i.pid in plan.train_pids else "test",
            }
            for i in plan.population.identities
        ],
    )
    io.write_json(
        out / "outfits.json",
        [{**o.to_json(), "attributes": o.attributes()} for o in plan.population.all_outfits()],
    )
