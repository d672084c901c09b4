"""``reid eval-attributes --dataset real-labelled``: score a predictor on the hand-labelled real people."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from reid_engine.cli import CliError, emit_json
from reid_engine.paths import default_data_dir

DATASET = "real-labelled"


def add_arguments(ev: argparse.ArgumentParser) -> None:
    """The options only the real labelled set uses, on the ``eval-attributes`` parser."""
    from reid_engine.attributes.real_eval import PREDICTORS
    from reid_engine.attributes.real_scoring import BOOTSTRAP, MIN_TRACKS

    group = ev.add_argument_group("real-labelled")
    group.add_argument("--predictor", choices=PREDICTORS,
                       help="what to score: the shipped colour namer, or the network of --checkpoint "
                            "(default: network with --checkpoint, colour-namer without)")
    group.add_argument("--videos", type=Path,
                       help="folder holding the labelled videos (default: DATA_DIR/data)")
    group.add_argument("--data-dir", type=Path, help="where the detector's weights live (default: var/)")
    group.add_argument("--crops", type=Path, metavar="FILE.npz",
                       help="reuse the best crops saved by --save-crops instead of running the pipeline")
    group.add_argument("--save-crops", type=Path, metavar="FILE.npz", help="save the found tracks' best crops")
    group.add_argument("--write-gate", type=Path, metavar="FILE.json",
                       help="write the attributes that passed, with their figures (the product reads "
                            "reid_engine/weights/attribute_gate.json)")
    group.add_argument("--table", action="store_true",
                       help="print a Markdown table per attribute instead of JSON (the one in docs/attributes.md)")
    group.add_argument("--resamples", type=int, default=BOOTSTRAP, help="bootstrap resamples over tracks")
    group.add_argument("--min-tracks", type=int, default=MIN_TRACKS,
                       help="fewest labelled tracks an attribute needs to pass")
    group.add_argument("--min-iou", type=float, default=0.5,
                       help="mean IoU over the anchor boxes for a tracklet to be the labelled person")


def run(args: argparse.Namespace) -> int:
    from reid_engine.attributes.gate import gate_document
    from reid_engine.attributes.real_eval import (
        NETWORK,
        estimates_of,
        find_crops,
        load_crops,
        predictions_for,
        save_crops,
        stale_pipeline,
    )
    from reid_engine.attributes.real_labelled import (
        LABELLED_ATTRIBUTES,
        REAL_LABELLED_DIR,
        RealLabelledError,
        load_real_labelled,
    )
    from reid_engine.attributes.real_scoring import score_real_labelled

    predictor = args.predictor or (NETWORK if args.checkpoint else "colour-namer")
    if predictor == NETWORK and args.checkpoint is None:
        raise CliError("--predictor network needs --checkpoint")
    if args.resamples < 100:
        raise CliError("--resamples must be at least 100")
    try:
        labelled = load_real_labelled(args.root or REAL_LABELLED_DIR)
    except RealLabelledError as exc:
        raise CliError(str(exc)) from None
    start = time.perf_counter()
    data_dir = args.data_dir or default_data_dir()
    if args.crops is not None:
        try:
            found = load_crops(args.crops, len(labelled.tracks))
        except (OSError, ValueError, KeyError) as exc:
            raise CliError(f"{args.crops}: {exc}") from None
    else:
        say = None if args.json or not sys.stderr.isatty() else (lambda m: print(m, file=sys.stderr))
        try:
            found = find_crops(labelled, args.videos or data_dir / "data", data_dir=data_dir,
                               min_iou=args.min_iou, say=say)
        except FileNotFoundError as exc:
            raise CliError(str(exc)) from None
        if args.save_crops is not None:
            save_crops(args.save_crops, found)
    try:
        predictions = predictions_for(predictor, found, checkpoint=args.checkpoint)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    scores = score_real_labelled(labelled.tracks, predictions, LABELLED_ATTRIBUTES,
                                 estimates=estimates_of(predictor), resamples=args.resamples,
                                 min_tracks=args.min_tracks)
    rows = [s.as_dict() for s in scores]
    summary: dict[str, Any] = {
        "dataset": DATASET,
        "root": str(args.root or "shipped"),
        "predictor": predictor,
        "checkpoint": str(args.checkpoint) if args.checkpoint else None,
        "tracks": len(labelled.tracks),
        "found": found.found,
        "stale_pipeline": stale_pipeline(labelled, found),
        "attributes": rows,
        "estimated": [r["attribute"] for r in rows if r["passed"]],
        "seconds": round(time.perf_counter() - start, 2),
    }
    if args.write_gate is not None:
        command = "reid eval-attributes " + " ".join(
            shlex.quote(a) for a in _replayable(sys.argv[1:]))
        doc = gate_document(rows, predictor=predictor, command=command,
                            labelled_set={"tracks": len(labelled.tracks), "found": found.found,
                                          "videos": sorted(labelled.pipelines)})
        args.write_gate.parent.mkdir(parents=True, exist_ok=True)
        args.write_gate.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        summary["gate"] = str(args.write_gate)
    if args.table:
        print(markdown_table(rows))
    else:
        emit_json(summary)
    return 0


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """One line per attribute: labelled tracks, skipped ones, scores, baseline, intervals, verdict."""
    def num(v: Any) -> str:
        return "—" if v is None else f"{v:.3f}"

    def span(v: Any) -> str:
        return "—" if v is None else f"{v[0]:.3f}–{v[1]:.3f}"

    lines = ["| attribute | n | cannot tell | other | values | mA | majority mA | 95 % interval | margin interval "
             "| accuracy | majority accuracy | shown |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        values = ", ".join(f"{k} {v}" for k, v in r["values"].items()) or "—"
        shown = "yes" if r["passed"] else f"no: {r['reason']}"
        lines.append(f"| {r['attribute']} | {r['n']} | {r['cannot_tell']} | {r['other']} | {values} | {num(r['mA'])} "
                     f"| {num(r['baseline_mA'])} | {span(r['ci'])} | {span(r['margin_ci'])} | {num(r['accuracy'])} "
                     f"| {num(r['baseline_accuracy'])} | {shown} |")
    return "\n".join(lines)


def _replayable(argv: list[str]) -> list[str]:
    """The command's arguments after ``eval-attributes``, without local-only ones (``--crops FILE``)."""
    if "eval-attributes" in argv:
        argv = argv[argv.index("eval-attributes") + 1:]
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--crops", "--save-crops"):
            skip = True
            continue
        out.append(a)
    return out
