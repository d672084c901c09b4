"""``reid eval-mot``: tracking scores against MOTChallenge ground truth, of one video or a scene set."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from reid_engine.cli import CliError, emit_json


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "eval-mot",
        help="score tracks (MOTA, IDF1, …) against MOTChallenge ground truth",
        description=(
            "Score one video's tracks (--gt, --pred, --video), or every camera of a SynthCC scene set "
            "(--scenes): each camera's tracks are read from --pred-dir (CAMDIR.txt, e.g. cam0.txt, as "
            "written by reid ingest --mot) or, without it, made by running the ingest pipeline."
        ),
    )
    parser.add_argument("--gt", type=Path, help="ground truth (gt.txt)")
    parser.add_argument("--pred", type=Path, help="tracks written by reid ingest --mot")
    parser.add_argument("--video", type=Path, help="the video, to list the frames analysed")
    parser.add_argument(
        "--scenes", type=Path, metavar="DIR", help="a scene set (reid synth scenes --out DIR)"
    )
    parser.add_argument(
        "--pred-dir", type=Path, metavar="DIR", help="with --scenes: read CAMDIR.txt tracks from here"
    )
    parser.add_argument(
        "--config", type=Path, help="with --scenes and no --pred-dir: pipeline configuration (TOML)"
    )
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="with --scenes and no --pred-dir: override one configuration value (repeatable)",
    )  # fmt: skip
    parser.add_argument("--device", default="cpu", help="torch device when the pipeline runs (default: cpu)")
    parser.add_argument("--data-dir", type=Path, default=None, help="folder with model weights")
    parser.add_argument(
        "--sample-fps",
        type=float,
        default=None,
        help="the rate the tracks were made at (default: the pipeline's)",
    )
    parser.add_argument("--iou", type=float, default=0.5)
    parser.add_argument(
        "--min-visibility", type=float, default=0.0, help="drop ground truth seen less than this"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.scenes is not None:
        if args.gt is not None or args.pred is not None or args.video is not None:
            raise CliError("--scenes replaces --gt, --pred and --video")
        return _run_scenes(args)
    if args.gt is None or args.pred is None or args.video is None:
        raise CliError("give --gt, --pred and --video, or --scenes")
    from reid_engine.eval.mot import load_mot_rows, score_mot

    for path in (args.gt, args.pred, args.video):
        if not path.is_file():
            raise CliError(f"no such file: {path}")
    sample_fps = args.sample_fps if args.sample_fps is not None else _default_sample_fps()
    frames = _analysed_frames(args.video, sample_fps)
    gt = load_mot_rows(args.gt, ground_truth=True, min_visibility=args.min_visibility)
    pred = load_mot_rows(args.pred)
    scores = score_mot(gt, pred, frames=frames, iou=args.iou)
    emit_json({"frames_evaluated": len(frames), "sample_fps": sample_fps, "iou": args.iou, **scores})
    return 0


def _run_scenes(args: argparse.Namespace) -> int:
    from reid_engine.data.synthcc import load_synthcc_scenes
    from reid_engine.eval.mot import load_mot_rows, score_mot_many, tracklet_rows

    scenes = load_synthcc_scenes(args.scenes)
    if args.pred_dir is not None:
        if args.config is not None or args.overrides:
            raise CliError("--config and --set make tracks; they do not apply to --pred-dir")
        missing = [
            s.video.parent.name
            for s in scenes
            if not (args.pred_dir / f"{s.video.parent.name}.txt").is_file()
        ]
        if missing:
            raise CliError(
                f"no tracks for {', '.join(missing)} in {args.pred_dir} (expected {missing[0]}.txt)"
            )
        sample_fps = args.sample_fps if args.sample_fps is not None else _default_sample_fps()
        preds = {
            s.video.parent.name: load_mot_rows(args.pred_dir / f"{s.video.parent.name}.txt") for s in scenes
        }
        made_by = "files"
    else:
        from reid_engine.config import load_config
        from reid_engine.paths import default_data_dir
        from reid_engine.pipeline import PipelineConfig, build_pipeline

        config = load_config(PipelineConfig, args.config, args.overrides)
        if args.sample_fps is not None and args.sample_fps != config.sample_fps:
            raise CliError("--sample-fps differs from the pipeline's sample_fps; set that with --set")
        sample_fps = config.sample_fps
        pipeline = build_pipeline(config, device=args.device, data_dir=args.data_dir or default_data_dir())
        preds = {
            s.video.parent.name: tracklet_rows(e.tracklet for e in pipeline.run(s.video).tracklets)
            for s in scenes
        }
        made_by = pipeline.detector.name
    sequences = {}
    frames_evaluated = 0
    for scene in scenes:
        name = scene.video.parent.name
        frames = _analysed_frames(scene.video, sample_fps)
        frames_evaluated += len(frames)
        gt = load_mot_rows(scene.gt_path, ground_truth=True, min_visibility=args.min_visibility)
        sequences[name] = (gt, preds[name], frames)
    scores = score_mot_many(sequences, iou=args.iou)
    overall = scores.pop("overall")
    emit_json(
        {
            "scenes": str(args.scenes),
            "tracks_from": made_by,
            "frames_evaluated": frames_evaluated,
            "sample_fps": sample_fps,
            "iou": args.iou,
            "cameras": scores,
            "overall": overall,
        }
    )
    return 0


def _default_sample_fps() -> float:
    from reid_engine.pipeline import PipelineConfig

    return PipelineConfig().sample_fps


def _analysed_frames(video: Path, sample_fps: float) -> list[int]:
    from reid_engine.video import iter_frames

    return [f.index + 1 for f in iter_frames(video, sample_fps=sample_fps)]
