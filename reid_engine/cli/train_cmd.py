"""``reid train``, ``reid eval`` and ``reid export``: train a ReID model, score it, ship it as ONNX."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

from reid_engine.cli import CliError, emit_json
from reid_engine.eval.metrics import Protocol
from reid_engine.paths import default_data_dir

PROTOCOLS: tuple[Protocol, ...] = ("general", "sc", "cc")


def register(sub: Any) -> None:
    train = sub.add_parser("train", help="train a ReID model from a TOML config")
    train.add_argument("--config", type=Path, required=True, help="training configuration (TOML)")
    train.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override one config value, e.g. --set optim.epochs=10")
    train.add_argument("--out", type=Path, required=True, help="folder for last.pt, model.pt, report.json")
    train.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    train.add_argument("--data-dir", type=Path, default=None, help="where pretrained weights live")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--json", action="store_true", help="print the final report summary as JSON")
    train.set_defaults(handler=run_train)

    ev = sub.add_parser("eval", help="score a model under the general / same-clothes / clothes-changing protocols")
    ev.add_argument("--checkpoint", type=Path, default=None,
                    help="model.pt (or last.pt) written by reid train; default: the shipped identity model")
    ev.add_argument("--dataset", required=True, help="data-set name (synthcc, prcc, ltcc, vcclothes, ccvid, mevid…)")
    ev.add_argument("--root", type=Path, required=True, help="the data set's folder")
    ev.add_argument("--protocol", choices=[*PROTOCOLS, "all", "auto"], default="auto",
                    help="auto: the protocols the data set's reference evaluation reports (all three for SynthCC)")
    ev.add_argument("--rerank", action="store_true", help="k-reciprocal re-ranking (Zhong et al., 2017)")
    ev.add_argument("--refine", action="store_true",
                    help="the search's second pass: query expansion and re-ranking of each query's 100 best")
    ev.add_argument("--flip", action="store_true", help="average embeddings with mirrored images")
    ev.add_argument("--save-features", type=Path, metavar="FILE.npz",
                    help="write query/gallery embeddings with identity, camera and clothes labels")
    ev.add_argument("--device", default="auto")
    ev.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    ev.set_defaults(handler=run_eval)

    ex = sub.add_parser("export", help="export a model to ONNX and check it against PyTorch")
    ex.add_argument("--checkpoint", type=Path, required=True)
    ex.add_argument("--out", type=Path, required=True, help="the .onnx file to write")
    ex.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    ex.set_defaults(handler=run_export)


def run_train(args: argparse.Namespace) -> int:
    from reid_engine.config import load_config
    from reid_engine.train.config import TrainConfig
    from reid_engine.train.loop import train

    config = load_config(TrainConfig, args.config, args.overrides)
    if args.out.exists() and any(args.out.iterdir()) and not args.resume:
        raise CliError(f"{args.out} is not empty: pass --resume to continue that run, or choose another --out")
    start = time.perf_counter()
    try:
        result = train(config, args.out, data_dir=args.data_dir or default_data_dir(), resume=args.resume,
                       show_progress=not args.quiet and sys.stderr.isatty())
    except (ValueError, FloatingPointError) as exc:
        raise CliError(str(exc)) from None
    if int(os.environ.get("RANK", "0")) != 0:
        return 0  # under torchrun, rank 0 reports for all
    last = result.epochs[-1] if result.epochs else None
    emit_json({
        "out": str(result.out_dir),
        "epochs": len(result.epochs),
        "final_loss": last.total if last else None,
        "final_train_accuracy": last.accuracy if last else None,
        "seconds": round(time.perf_counter() - start, 1),
        "scores": result.scores,
        "config": dataclasses.asdict(config),
    })
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from reid_engine.data.registry import load_dataset
    from reid_engine.eval.extract import extract_features, score_features
    from reid_engine.train.checkpoint import load_model
    from reid_engine.train.loop import resolve_device

    try:
        device = resolve_device(args.device)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.checkpoint is None:
        from reid_engine.pipeline import SHIPPED_REID_MODEL

        args.checkpoint = SHIPPED_REID_MODEL
    model, size_hw, meta = load_model(args.checkpoint, device=device)
    dataset = load_dataset(args.dataset, args.root)
    start = time.perf_counter()
    feats = extract_features(model, dataset, size_hw=size_hw, device=device, flip=args.flip)
    protocols: tuple[Protocol, ...]
    if args.protocol == "auto":
        listed = dataset.meta.get("eval_protocols")
        protocols = tuple(listed) if isinstance(listed, list | tuple) else PROTOCOLS  # type: ignore[arg-type]
    elif args.protocol == "all":
        protocols = PROTOCOLS
    else:
        protocols = (args.protocol,)
    if args.rerank and args.refine:
        raise CliError("--rerank and --refine are alternatives: choose one")
    from reid_engine.index.refine import RefineConfig

    scores = score_features(feats, protocols, rerank=args.rerank, refine=RefineConfig() if args.refine else None)
    if args.save_features:
        feats.save(args.save_features)
    emit_json({
        "checkpoint": str(args.checkpoint),
        "dataset": args.dataset,
        "queries": len(feats.query),
        "gallery": len(feats.gallery),
        "rerank": args.rerank,
        "refine": args.refine,
        "flip": args.flip,
        "seconds": round(time.perf_counter() - start, 2),
        "scores": scores,
        "trained_on": meta.get("dataset"),
    })
    return 0


def run_export(args: argparse.Namespace) -> int:
    from reid_engine.models.export import check_parity, export_onnx
    from reid_engine.train.checkpoint import load_model

    model, size_hw, _ = load_model(args.checkpoint)
    export_onnx(model, args.out, size_hw=size_hw)
    report = check_parity(model, args.out, size_hw=size_hw)
    emit_json({"onnx": str(args.out), "bytes": args.out.stat().st_size, "input_hw": list(size_hw),
               **dataclasses.asdict(report)})
    return 0
