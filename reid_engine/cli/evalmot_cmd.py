"""``reid eval-mot``: tracking scores of ``reid ingest --mot`` output against MOTChallenge ground truth."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from reid_engine.cli import CliError, emit_json


def register(sub: Any) -> None:
    parser = sub.add_parser("eval-mot", help="score tracks (MOTA, IDF1, …) against MOTChallenge ground truth")
    parser.add_argument("--gt", type=Path, required=True, help="ground truth (gt.txt)")
    parser.add_argument("--pred", type=Path, required=True, help="tracks written by reid ingest --mot")
    parser.add_argument("--video", type=Path, required=True, help="the video, to list the frames analysed")
    parser.add_argument("--sample-fps", type=float, default=5.0, help="the rate the tracks were made at")
    parser.add_argument("--iou", type=float, default=0.5)
    parser.add_argument(
        "--min-visibility", type=float, default=0.0, help="drop ground truth seen less than this"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reid_engine.eval.mot import load_mot_rows, score_mot
    from reid_engine.video import iter_frames

    for path in (args.gt, args.pred, args.video):
        if not path.is_file():
            raise CliError(f"no such file: {path}")
    frames = [f.index + 1 for f in iter_frames(args.video, sample_fps=args.sample_fps)]
    gt = load_mot_rows(args.gt, ground_truth=True, min_visibility=args.min_visibility)
    pred = load_mot_rows(args.pred)
    scores = score_mot(gt, pred, frames=frames, iou=args.iou)
    emit_json({"frames_evaluated": len(frames), "sample_fps": args.sample_fps, "iou": args.iou, **scores})
    return 0
