"""``reid ingest VIDEO``: find, track and embed every person in one video file."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from reid_engine.cli import CliError, emit_json
from reid_engine.config import load_config
from reid_engine.paths import default_data_dir
from reid_engine.types import IngestResult, Progress


def register(sub: Any) -> None:
    parser = sub.add_parser("ingest", help="detect, track and embed every person in a video")
    parser.add_argument("video", type=Path, help="video file (mp4, mkv, avi, webm, …)")
    parser.add_argument("--config", type=Path, help="pipeline configuration (TOML)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override one configuration value, e.g. --set sample_fps=2 (repeatable)",
    )
    parser.add_argument("--device", default="cpu", help="torch device for the models (default: cpu)")
    parser.add_argument("--data-dir", type=Path, default=None, help="folder with model weights")
    parser.add_argument("--mot", type=Path, metavar="FILE", help="also write the tracks in MOTChallenge format")
    parser.add_argument("--sheet", type=Path, metavar="FILE", help="also draw a contact sheet of the result (.png or .jpg)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary object on stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from reid_engine.pipeline import PipelineConfig, build_pipeline

    config = load_config(PipelineConfig, args.config, args.overrides)
    if not args.video.is_file():
        raise CliError(f"no such file: {args.video}")
    pipeline = build_pipeline(config, device=args.device, data_dir=args.data_dir or default_data_dir())
    bar = _ProgressBar(enabled=sys.stderr.isatty())
    started = time.monotonic()
    result = pipeline.run(args.video, progress=bar.update)
    bar.close()
    wall_s = time.monotonic() - started
    summary = summarise(result, wall_s=wall_s)
    if args.mot is not None:
        from reid_engine.mot import write_mot

        summary["mot_lines"] = write_mot((e.tracklet for e in result.tracklets), args.mot)
    if args.sheet is not None:
        from reid_engine.sheet import ingest_contact_sheet, save_image

        try:
            save_image(ingest_contact_sheet(args.video, result), args.sheet)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        summary["sheet"] = str(args.sheet)
    if args.json:
        emit_json(summary)
    else:
        video = summary["video"]
        print(
            f"{args.video.name}: {video['width']}x{video['height']}, {video['duration_s']:.1f}s; "
            f"{len(result.tracklets)} people in {wall_s:.1f}s ({summary['realtime_factor']:.2f}x real time)"
        )
        for t in summary["tracklets"]:
            print(f"  person {t['track_id']:>3}: {t['start_s']:7.1f}s – {t['end_s']:7.1f}s, {t['frames']} frames")
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return 0


def summarise(result: IngestResult, *, wall_s: float) -> dict[str, Any]:
    """A JSON-ready summary of an ingest result."""
    return {
        "video": result.video.as_dict(),
        "frames_decoded": result.frames_decoded,
        "frames_skipped": result.frames_skipped,
        "embedder": result.embedder,
        "identity_embedder": result.identity_embedder,
        "wall_s": round(wall_s, 3),
        "realtime_factor": round(result.video.duration_s / wall_s, 3) if wall_s > 0 else None,
        "warnings": list(result.warnings),
        "stage_seconds": {k: round(v, 3) for k, v in result.stage_seconds.items()},
        "frame_decisions": result.frame_decisions,
        "tracklets": [
            {
                "track_id": e.tracklet.track_id,
                "start_s": round(e.tracklet.start_s, 3),
                "end_s": round(e.tracklet.end_s, 3),
                "frames": int(e.tracklet.frame_indices.shape[0]),
                "best_crops": len(e.tracklet.best_crops),
                "box_first": [round(float(v), 1) for v in e.tracklet.boxes_xyxy[0]],
                "attributes": {
                    name: max(values.items(), key=lambda kv: kv[1]) for name, values in e.attributes.items()
                },
            }
            for e in result.tracklets
        ],
    }


class _ProgressBar:
    def __init__(self, *, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=100, unit="%", file=sys.stderr, leave=False, dynamic_ncols=True)

    def update(self, progress: Progress) -> None:
        if self.bar is None:
            return
        self.bar.n = round(progress.fraction * 100)
        self.bar.set_description(progress.stage)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
