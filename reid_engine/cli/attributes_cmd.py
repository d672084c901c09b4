"""``reid train-attributes`` and ``reid eval-attributes``: the MDFF-PAttr attribute network."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from reid_engine.attributes.views import VIEWS
from reid_engine.cli import CliError, emit_json, real_labelled_cmd
from reid_engine.paths import default_data_dir

SPLITS = ("test", "query", "gallery", "train")


def register(sub: Any) -> None:
    train = sub.add_parser("train-attributes",
                           help="train the attribute network on one or more data sets (MDFF-PAttr)")
    train.add_argument("--config", type=Path, required=True, help="training configuration (TOML)")
    train.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override one config value, e.g. --set optim.epochs=3")
    train.add_argument("--out", type=Path, required=True, help="folder for model.pt and report.json")
    train.add_argument("--data-dir", type=Path, default=None, help="where pretrained weights live")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--json", action="store_true", help="print the run summary as JSON (the default output)")
    train.set_defaults(handler=run_train_attributes)

    ev = sub.add_parser("eval-attributes", help="score an attribute model (mA, instance metrics, ECE)")
    ev.add_argument("--checkpoint", type=Path, help="model.pt written by reid train-attributes "
                    "(required except for --dataset real-labelled --predictor colour-namer)")
    ev.add_argument("--dataset", required=True,
                    help="data-set name (synthcc, synthcc-tracklets, …, or real-labelled: the hand-labelled real people)")
    ev.add_argument("--root", type=Path,
                    help="the data set's folder (required except for real-labelled, which defaults to the shipped set)")
    ev.add_argument("--view", choices=VIEWS, default="full",
                    help="score only the attributes this schema view labels (default: all)")
    ev.add_argument("--split", choices=SPLITS, default="test",
                    help="test: query + gallery (held-out identities), the default")
    ev.add_argument("--save-predictions", type=Path, metavar="FILE.npz",
                    help="write probabilities, labels and label mask for re-scoring without the model")
    ev.add_argument("--device", default="auto")
    ev.add_argument("--batch-size", type=int, default=64)
    ev.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    real_labelled_cmd.add_arguments(ev)
    ev.set_defaults(handler=run_eval_attributes)


def run_train_attributes(args: argparse.Namespace) -> int:
    from reid_engine.attributes.evaluation import json_safe
    from reid_engine.attributes.training import AttributeTrainConfig, train_attributes
    from reid_engine.config import load_config

    config = load_config(AttributeTrainConfig, args.config, args.overrides)
    if args.out.exists() and any(args.out.iterdir()):
        raise CliError(f"{args.out} is not empty: choose another --out")
    start = time.perf_counter()
    try:
        result = train_attributes(config, args.out, data_dir=args.data_dir or default_data_dir(),
                                  show_progress=not args.quiet and sys.stderr.isatty())
    except (ValueError, FloatingPointError) as exc:
        raise CliError(str(exc)) from None
    last = result.epochs[-1] if result.epochs else None
    emit_json(json_safe({
        "out": str(result.out_dir),
        "epochs": len(result.epochs),
        "final_loss": last.total if last else None,
        "final_losses": last.losses if last else None,
        "seconds": round(time.perf_counter() - start, 1),
        "calibration": result.calibration.summary() if result.calibration else None,
        "held_out": result.held_out,
        "config": dataclasses.asdict(config),
    }))
    return 0


def run_eval_attributes(args: argparse.Namespace) -> int:
    from reid_engine.attributes.evaluation import json_safe, predict_records, score_predictions
    from reid_engine.attributes.model import load_attribute_model
    from reid_engine.attributes.views import apply_view
    from reid_engine.data.registry import load_dataset
    from reid_engine.train.loop import resolve_device

    if args.dataset == real_labelled_cmd.DATASET:
        return real_labelled_cmd.run(args)
    if args.checkpoint is None or args.root is None:
        raise CliError("--checkpoint and --root are required for this data set")
    if args.batch_size < 1:
        raise CliError("--batch-size must be at least 1")
    try:
        device = resolve_device(args.device)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    model, size_hw, meta = load_attribute_model(args.checkpoint, device=device)
    dataset = load_dataset(args.dataset, args.root)
    match args.split:
        case "test":
            records = (*dataset.query, *dataset.gallery)
        case "query":
            records = dataset.query
        case "gallery":
            records = dataset.gallery
        case _:
            records = dataset.train
    records = apply_view(records, args.view)  # type: ignore[arg-type]
    if not records:
        raise CliError(f"the {args.split} split of {args.root} is empty")
    if all(not r.attributes for r in records):
        raise CliError(f"the {args.split} split of {args.root} has no attribute labels")
    start = time.perf_counter()
    predictions = predict_records(model, records, size_hw=size_hw, device=device, batch_size=args.batch_size)
    scores = score_predictions(predictions)
    if args.save_predictions:
        predictions.save(args.save_predictions)
    emit_json(json_safe({
        "checkpoint": str(args.checkpoint),
        "dataset": args.dataset,
        "root": str(args.root),
        "view": args.view,
        "split": args.split,
        "items": len(records),
        **scores.metrics.summary(),
        "ece": scores.ece,
        "per_attribute_mA": scores.per_attribute_mA,
        "seconds": round(time.perf_counter() - start, 2),
        "trained_on": meta.get("datasets"),
        "predictions": str(args.save_predictions) if args.save_predictions else None,
    }))
    return 0
