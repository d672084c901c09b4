"""``reid calibrate-footage``: fit a lane's match confidence on a site's own footage (free labels)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from reid_engine.cli import CliError, emit_json
from reid_engine.cli.calibrate_cmd import DEFAULT_TABLE
from reid_engine.cli.realeval_cmd import add_footage_arguments, lane_embedders, load_footage, parse_span
from reid_engine.paths import default_data_dir


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "calibrate-footage", help="fit σ(a·score+b) on a site's footage: halves of a track vs tracks seen together"
    )
    add_footage_arguments(parser)
    parser.add_argument("--checkpoint", type=Path, default=None, help="identity model (default: the shipped one)")
    parser.add_argument("--lane", choices=["identity", "appearance"], action="append",
                        help="lane(s) to calibrate (default: identity)")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between two stretches of one track")
    parser.add_argument("--per-stretch", type=int, default=4, help="crops averaged per stretch (as ingest's best 4)")
    parser.add_argument("--max-ece", type=float, default=0.05,
                        help="write a lane's fit only when its held-out ECE is at most this (default 0.05)")
    parser.add_argument("--out", type=Path, default=DEFAULT_TABLE, help="calibration table to merge into")
    parser.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reid_engine.embed import build_embedder
    from reid_engine.eval.calibration import save_calibrations
    from reid_engine.eval.footage import embed_tracks
    from reid_engine.eval.real import restrict_span
    from reid_engine.eval.real_calibration import calibrate_on_footage

    lo, hi = parse_span(args.span)
    if args.per_stretch < 1:
        raise CliError("--per-stretch must be at least 1")
    start = time.perf_counter()
    lanes = lane_embedders(args.checkpoint, args.config, args.overrides)
    footage = load_footage(args)
    tracks = restrict_span(footage.tracks, footage.durations, lo, hi)
    fitted_on = "footage:" + ",".join(sorted(footage.durations)) + (f"@{lo:g}:{hi:g}" if (lo, hi) != (0, 1) else "")
    report, shipped = [], []
    for lane in args.lane or ["identity"]:
        embedder = build_embedder(lanes[lane], device="cpu", data_dir=args.data_dir or default_data_dir())
        try:
            result = calibrate_on_footage(
                embedder.name, tracks, embed_tracks(tracks, embedder), footage.durations,
                fitted_on=fitted_on, per_stretch=args.per_stretch, gap_s=args.gap,
            )
        except ValueError as exc:
            raise CliError(str(exc)) from None
        holds = result.holds(args.max_ece)
        if holds:
            shipped.append(result.calibration)
        c = result.calibration
        report.append({
            "lane": lane, "embedder": c.embedder, "slope": round(c.slope, 4), "intercept": round(c.intercept, 4),
            "pairs": c.pairs, "holds": holds,
            "folds": [{k: round(v, 4) if isinstance(v, float) else v for k, v in f.items()} for f in result.folds],
        })
    written = bool(shipped) and not args.dry_run
    if written:
        save_calibrations(args.out, shipped)
    emit_json({
        "out": str(args.out) if written else None, "max_ece": args.max_ece, "tracks": len(tracks),
        "lanes": report, "seconds": round(time.perf_counter() - start, 1),
    })
    return 0
