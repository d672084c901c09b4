"""Accuracy of model-free garment-colour naming on a SynthCC image set.

Names the upper and lower garment colours of every crop twice: inside regions drawn from the crop's
keypoints (as the video pipeline does) and inside the true label-map regions, and compares with the
``upper_colour`` / ``lower_colour`` attributes. Prints one JSON object: overall and per-colour accuracy
per region source and garment (``upper_solid``: upper garments without a pattern), the most common
confusions and the naming time per crop (wall and CPU, naming only: no decoding, no regions).

Usage:
    python scripts/colour_naming_eval.py --data DIR [--generate --seed 1 --ids 30] [--split all]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from reid_engine.attributes import COLOURS
from reid_engine.attributes.colour import ColourConfig, name_colours
from reid_engine.data.base import ImageRecord
from reid_engine.data.synthcc import load_synthcc_images
from reid_engine.data.torch_dataset import load_rgb
from reid_engine.pose import body_regions
from reid_engine.pose.regions import BodyRegions
from reid_engine.synth.painter import FACE, HAIR, HAT, LOWER, UPPER

logger = logging.getLogger("colour_naming_eval")


def label_map_regions(path: Path) -> BodyRegions:
    """Garment regions from a SynthCC label map (``upper`` and ``lower`` labels only)."""
    labels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if labels is None:
        raise FileNotFoundError(f"cannot read label map {path}")
    return BodyRegions(
        head=np.isin(labels, (HAT, HAIR, FACE)),
        upper=labels == UPPER,
        lower=labels == LOWER,
        person=labels > 0,
        from_keypoints=False,
    )


def keypoint_regions(rec: ImageRecord, height: int, width: int) -> BodyRegions:
    # SynthCC marks keypoints 2 visible, 1 hidden, 0 outside the crop; body_regions reads the third
    # column as a score against min_score=0.3, so hidden points count, as a pose model's would.
    return body_regions(height, width, rec.keypoints_array())


def _tally(pairs: list[tuple[str, str | None]]) -> dict[str, Any]:
    per: dict[str, dict[str, float | int]] = {}
    for colour in COLOURS:
        got = [p for t, p in pairs if t == colour]
        if got:
            per[colour] = {"n": len(got), "accuracy": round(sum(p == colour for p in got) / len(got), 4)}
    confusion = Counter(f"{t}->{p}" for t, p in pairs if t != p)
    present = [v["accuracy"] for v in per.values()]
    return {
        "n": len(pairs),
        "accuracy": round(sum(t == p for t, p in pairs) / max(len(pairs), 1), 4),
        "mean_per_colour_accuracy": round(float(np.mean(present)), 4) if present else None,
        "unnamed": sum(p is None for _, p in pairs),
        "per_colour": per,
        "top_confusions": dict(confusion.most_common(12)),
    }


def evaluate(records: list[ImageRecord], config: ColourConfig) -> dict[str, Any]:
    pairs: dict[str, dict[str, list[tuple[str, str | None]]]] = {
        src: {"upper": [], "lower": [], "upper_solid": []} for src in ("keypoints", "label_map")
    }
    fallback = 0
    seconds = cpu_seconds = 0.0
    # The first call builds the classifier's look-up table; keep it out of the timing.
    name_colours(np.zeros((64, 32, 3), np.uint8), body_regions(64, 32, None), config)
    for rec in records:
        if rec.attributes is None or rec.mask_path is None:
            continue
        rgb = load_rgb(rec.path)
        h, w = rgb.shape[:2]
        from_kp = keypoint_regions(rec, h, w)
        fallback += not from_kp.from_keypoints
        for src, regions in (("keypoints", from_kp), ("label_map", label_map_regions(rec.mask_path))):
            t0, c0 = time.perf_counter(), time.process_time()
            named = name_colours(rgb, regions, config)
            seconds += time.perf_counter() - t0
            cpu_seconds += time.process_time() - c0
            pairs[src]["upper"].append((str(rec.attributes["upper_colour"]), named.upper.name))
            pairs[src]["lower"].append((str(rec.attributes["lower_colour"]), named.lower.name))
            if rec.attributes.get("upper_pattern") == "solid":
                pairs[src]["upper_solid"].append((str(rec.attributes["upper_colour"]), named.upper.name))
    calls = 2 * len(pairs["keypoints"]["upper"])
    report: dict[str, Any] = {src: {g: _tally(p) for g, p in parts.items()} for src, parts in pairs.items()}
    report["ms_per_crop"] = round(1000 * seconds / max(calls, 1), 3)
    report["cpu_ms_per_crop"] = round(1000 * cpu_seconds / max(calls, 1), 3)
    report["keypoint_band_fallbacks"] = fallback
    report["chance"] = round(1 / len(COLOURS), 4)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="SynthCC image set folder")
    ap.add_argument("--generate", action="store_true", help="generate the set first (overwrites)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ids", type=int, default=30)
    ap.add_argument("--split", choices=("train", "query", "gallery", "all"), default="all")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    cv2.setNumThreads(1)

    if args.generate:
        from reid_engine.synth.image_set import ImageSetConfig, generate_image_set

        generate_image_set(args.data, ImageSetConfig(seed=args.seed, ids=args.ids), workers=1, overwrite=True)
    ds = load_synthcc_images(args.data)
    records = list(ds.train + ds.query + ds.gallery) if args.split == "all" else list(getattr(ds, args.split))
    logger.info("naming colours of %d crops", len(records))
    report = {"data": str(args.data), "split": args.split, "crops": len(records)}
    report.update(evaluate(records, ColourConfig()))
    sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
