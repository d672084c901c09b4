"""``reid calibrate``: fit each search lane's score → confidence map on held-out people."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from reid_engine.cli import CliError, emit_json
from reid_engine.paths import default_data_dir

DEFAULT_TABLE = Path(__file__).resolve().parents[1] / "weights" / "calibration.json"


def register(sub: Any) -> None:
    parser = sub.add_parser("calibrate", help="fit calibrated match confidences for the pipeline's embedders")
    parser.add_argument("--dataset", default="synthcc", help="an image data set with several cameras per person")
    parser.add_argument("--root", type=Path, required=True, help="the data set's folder (its query and gallery are used)")
    parser.add_argument("--config", type=Path, help="pipeline configuration (TOML) naming the embedders")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=DEFAULT_TABLE, help="calibration table to write (merged)")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reid_engine.config import load_config
    from reid_engine.data.base import ImageRecord
    from reid_engine.data.registry import load_dataset
    from reid_engine.data.torch_dataset import load_rgb
    from reid_engine.embed import build_embedder
    from reid_engine.eval.calibration import calibrate, save_calibrations
    from reid_engine.pipeline import PipelineConfig

    config = load_config(PipelineConfig, args.config, args.overrides)
    dataset = load_dataset(args.dataset, args.root)
    records = [*dataset.query, *dataset.gallery]
    if not records or not isinstance(records[0], ImageRecord):
        raise CliError(f"{args.dataset} is not an image data set with a query and a gallery")
    images = [load_rgb(r.path) for r in records if isinstance(r, ImageRecord)]
    pids = np.array([r.pid for r in records])
    camids = np.array([r.camid for r in records])
    data_dir = args.data_dir or default_data_dir()
    embedders = [config.embedder] + ([config.identity_embedder] if config.identity_lane else [])
    results = []
    for embedder_config in embedders:
        start = time.perf_counter()
        embedder = build_embedder(embedder_config, device="cpu", data_dir=data_dir)
        vectors = embedder.embed(images)
        calibration = calibrate(embedder.name, vectors, pids, camids, fitted_on=f"{args.dataset}:{args.root.name}")
        results.append((calibration, time.perf_counter() - start))
    save_calibrations(args.out, [c for c, _ in results])
    emit_json({
        "out": str(args.out),
        "images": len(images),
        "embedders": [
            {"embedder": c.embedder, "slope": round(c.slope, 4), "intercept": round(c.intercept, 4),
             "pairs": c.pairs, "ece_before": round(c.ece_before, 4), "ece_after": round(c.ece_after, 4),
             "seconds": round(s, 1)}
            for c, s in results
        ],
    })
    return 0
