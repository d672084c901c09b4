"""``reid eval-real``: score the search lanes on real footage with the free labels of its own tracks."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from reid_engine.cli import CliError, emit_json
from reid_engine.paths import default_data_dir


def add_footage_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every footage command shares: videos or a saved tracks file, and the pipeline."""
    parser.add_argument("videos", nargs="*", type=Path, metavar="VIDEO", help="video files (or folders of them)")
    parser.add_argument("--tracks", type=Path, metavar="FILE.npz", help="tracks saved by --save-tracks (no detection)")
    parser.add_argument("--save-tracks", type=Path, metavar="FILE.npz", help="save the tracks and crops for reuse")
    parser.add_argument("--config", type=Path, help="pipeline configuration (TOML)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one pipeline setting")
    parser.add_argument("--crops-per-track", type=int, default=24, help="crops cut along each track (default 24)")
    parser.add_argument("--span", default="0:1", metavar="LO:HI",
                        help="use only this fraction of each footage's duration, e.g. 0.6:1 (default 0:1)")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def register(sub: Any) -> None:
    parser = sub.add_parser("eval-real", help="label-free Rank-1/mAP/ROC AUC of both search lanes on real footage")
    add_footage_arguments(parser)
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="identity model to score (default: the shipped one)")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds left out between a track's halves")
    parser.add_argument("--min-duration", type=float, default=4.0, help="shortest track used, in seconds")
    parser.add_argument("--per-half", type=int, default=4, help="crops averaged per half (as ingest's best 4)")
    parser.add_argument("--lane", choices=["appearance", "identity"], action="append",
                        help="lane(s) to score (default: both)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.set_defaults(handler=run)


VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".ts")


def parse_span(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(":"))
    except ValueError:
        raise CliError(f"--span must look like LO:HI with fractions, got {text!r}") from None
    if not 0.0 <= lo < hi <= 1.0:
        raise CliError(f"--span must satisfy 0 <= LO < HI <= 1, got {text!r}")
    return lo, hi


def load_footage(args: argparse.Namespace) -> Any:
    """The footage's tracks: from ``--tracks`` or by ingesting the videos; saved when asked."""
    from reid_engine.eval.footage import collect_tracks, load_tracks, merge, save_tracks

    if bool(args.tracks) == bool(args.videos):
        raise CliError("give either videos or --tracks FILE")
    if args.crops_per_track < 2:
        raise CliError("--crops-per-track must be at least 2")
    if args.tracks:
        footage = load_tracks(args.tracks)
    else:
        from reid_engine.config import load_config
        from reid_engine.pipeline import PipelineConfig, build_pipeline

        videos = []
        for v in args.videos:
            if v.is_dir():
                videos.extend(sorted(p for p in v.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES))
            elif v.is_file():
                videos.append(v)
            else:
                raise CliError(f"no such video or folder: {v}")
        if not videos:
            raise CliError("no video files found")
        config = load_config(PipelineConfig, args.config, args.overrides)
        # Only detection and tracking are needed here: the lanes embed the crops themselves.
        config = dataclasses.replace(config, identity_lane=False, colour_names=False, partial_every_s=0.0)
        pipeline = build_pipeline(config, data_dir=args.data_dir or default_data_dir())
        say = None if args.quiet else _say
        names = [str(v) if len({p.name for p in videos}) < len(videos) else v.name for v in videos]
        footage = merge([
            collect_tracks(v, pipeline, crops_per_track=args.crops_per_track, name=n, progress=say)
            for v, n in zip(videos, names, strict=True)
        ])
    if args.save_tracks:
        save_tracks(args.save_tracks, footage)
    return footage


def lane_embedders(checkpoint: Path | None, config_path: Path | None, overrides: list[str]) -> dict[str, Any]:
    """The two lanes' embedder configs: appearance from the pipeline config, identity from ``checkpoint``."""
    from reid_engine.config import load_config
    from reid_engine.embed import EmbedderConfig
    from reid_engine.pipeline import SHIPPED_REID_MODEL, PipelineConfig

    config = load_config(PipelineConfig, config_path, overrides)
    path = checkpoint or SHIPPED_REID_MODEL
    if not Path(path).is_file():
        raise CliError(f"checkpoint not found: {path}")
    return {
        "appearance": config.embedder,
        "identity": EmbedderConfig(kind="reid", checkpoint=str(Path(path).resolve())),
    }


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")


def run(args: argparse.Namespace) -> int:
    from reid_engine.embed import build_embedder
    from reid_engine.eval.footage import embed_tracks
    from reid_engine.eval.real import free_labels, half_vectors, restrict_span, score_lane

    lo, hi = parse_span(args.span)
    start = time.perf_counter()
    lanes = lane_embedders(args.checkpoint, args.config, args.overrides)
    footage = load_footage(args)
    tracks = restrict_span(footage.tracks, footage.durations, lo, hi)
    try:
        labels = free_labels(tracks, min_duration_s=args.min_duration, gap_s=args.gap, per_half=args.per_half)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if len(labels.tracks) < 2:
        raise CliError(f"only {len(labels.tracks)} track(s) last {args.min_duration:g} s or more: nothing to score")
    data_dir = args.data_dir or default_data_dir()
    result: dict[str, Any] = {}
    for lane, config in lanes.items():
        if args.lane and lane not in args.lane:
            continue
        embedder = build_embedder(config, device="cpu", data_dir=data_dir)
        first, second = half_vectors(embed_tracks(tracks, embedder), labels)
        result[lane] = {"embedder": embedder.name, "scores": score_lane(first, second, labels)}
    emit_json({
        "footage": sorted(footage.durations),
        "span": [lo, hi],
        "tracks": len(tracks),
        "tracks_used": len(labels.tracks),
        "negative_pairs": len(labels.negatives),
        "gap_s": args.gap,
        "min_duration_s": args.min_duration,
        "per_half": args.per_half,
        "checkpoint": str(lanes["identity"].checkpoint),
        "lanes": result,
        "seconds": round(time.perf_counter() - start, 1),
    })
    return 0
