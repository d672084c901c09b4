"""``reid synth``: generate the SynthCC image set, tracklet set, scene videos and contact sheets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reid_engine.cli import emit_json


def _int_at_least(low: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _common(p: argparse.ArgumentParser, *, ids: int, outfits: int, cameras: int) -> None:
    p.add_argument("--out", type=Path, required=True, help="output folder (must be empty)")
    p.add_argument("--seed", type=_int_at_least(0), default=0, help="global seed (default 0)")
    p.add_argument("--ids", type=_int_at_least(2), default=ids, help=f"identities (default {ids})")
    p.add_argument(
        "--outfits", type=_int_at_least(1), default=outfits, help=f"outfits per identity (default {outfits})"
    )
    p.add_argument("--cameras", type=_int_at_least(1), default=cameras, help=f"cameras (default {cameras})")
    p.add_argument(
        "--workers",
        type=_int_at_least(1),
        default=1,
        help="rendering processes (output does not depend on it)",
    )
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON summary object on stdout")


def _crop_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cams-per-outfit", type=_int_at_least(1), default=2, help="cameras that see each outfit (ltcc)"
    )
    p.add_argument(
        "--single-outfit-fraction", type=_fraction, default=0.1, help="identities with one outfit (ltcc)"
    )
    p.add_argument("--train-fraction", type=_fraction, default=0.5, help="share of identities in train")
    p.add_argument("--height", type=_int_at_least(32), default=256, help="crop height (default 256)")
    p.add_argument("--width", type=_int_at_least(16), default=128, help="crop width (default 128)")
    p.add_argument("--format", dest="image_format", choices=("jpg", "png"), default="jpg", help="image files")
    p.add_argument("--jpeg-quality", type=_int_at_least(1), default=95, help="quality of written JPEG files")
    p.add_argument("--occlusion", type=_fraction, default=0.25, help="probability of an occluder")
    p.add_argument(
        "--degrade", type=_fraction, default=1.0, help="strength of light/blur/resolution/JPEG degradations"
    )


def register(subparsers: Any) -> None:
    """Add ``synth`` and its sub-commands to the ``reid`` parser."""
    synth = subparsers.add_parser("synth", help="generate the SynthCC synthetic clothes-changing data sets")
    sub = synth.add_subparsers(dest="synth_command", required=True, parser_class=type(synth))

    images = sub.add_parser("images", help="image ReID set: train/query/gallery crops, masks, keypoints")
    _common(images, ids=150, outfits=3, cameras=4)
    _crop_options(images)
    images.add_argument(
        "--per-visit", type=_int_at_least(1), default=6, help="images per (identity, outfit, camera)"
    )
    images.add_argument("--protocol", choices=("ltcc", "prcc"), default="ltcc", help="camera/split protocol")
    images.set_defaults(handler=_images)

    tracklets = sub.add_parser("tracklets", help="video ReID set of tracklets (CCVID-like)")
    _common(tracklets, ids=100, outfits=3, cameras=4)
    _crop_options(tracklets)
    tracklets.add_argument("--frames", type=_int_at_least(2), default=16, help="frames per tracklet")
    tracklets.add_argument(
        "--fps", type=_positive_float, default=10.0, help="frame rate the gait is sampled at"
    )
    tracklets.add_argument(
        "--per-visit", type=_int_at_least(1), default=2, help="tracklets per (identity, outfit, camera)"
    )
    tracklets.set_defaults(handler=_tracklets)

    scenes = sub.add_parser("scenes", help="multi-camera scene videos with MOTChallenge ground truth")
    _common(scenes, ids=12, outfits=3, cameras=3)
    scenes.add_argument("--duration", type=_positive_float, default=30.0, help="seconds per video")
    scenes.add_argument("--fps", type=_positive_float, default=10.0, help="frames per second")
    scenes.add_argument("--people", type=_int_at_least(1), default=12, help="walks per camera video")
    scenes.add_argument("--frame-width", type=_int_at_least(64), default=640, help="video width")
    scenes.add_argument("--frame-height", type=_int_at_least(64), default=360, help="video height")
    scenes.set_defaults(handler=_scenes)

    sheet = sub.add_parser("sheet", help="contact sheets (PNG) of identities across outfits and views")
    sheet.add_argument("--out", type=Path, required=True, help="output folder")
    sheet.add_argument("--seed", type=_int_at_least(0), default=0, help="global seed")
    sheet.add_argument("--ids", type=_int_at_least(1), default=6, help="identities shown")
    sheet.add_argument("--json", action="store_true", help="print one JSON summary object on stdout")
    sheet.set_defaults(handler=_sheet)


class _Bar:
    """A tqdm bar on stderr, opened at the first progress report (so early errors print alone)."""

    def __init__(self, quiet: bool, unit: str) -> None:
        self._quiet = quiet
        self._unit = unit
        self._tqdm: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._tqdm is None:
            from tqdm import tqdm

            self._tqdm = tqdm(
                total=total, unit=self._unit, file=sys.stderr, disable=self._quiet, dynamic_ncols=True
            )
        self._tqdm.update(done - self._tqdm.n)

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()


def _report(args: argparse.Namespace, summary: dict[str, Any]) -> int:
    if args.json:
        emit_json(summary)
    else:
        sys.stderr.write(f"reid synth: wrote {args.out}\n")
    return 0


def _crop_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "seed": args.seed,
        "ids": args.ids,
        "outfits": args.outfits,
        "cameras": args.cameras,
        "cams_per_outfit": args.cams_per_outfit,
        "single_outfit_fraction": args.single_outfit_fraction,
        "train_fraction": args.train_fraction,
        "height": args.height,
        "width": args.width,
        "image_format": args.image_format,
        "jpeg_quality": args.jpeg_quality,
        "occlusion": args.occlusion,
        "degrade": args.degrade,
    }


def _images(args: argparse.Namespace) -> int:
    from reid_engine.synth.image_set import ImageSetConfig, generate_image_set

    config = ImageSetConfig(**_crop_kwargs(args), per_visit=args.per_visit, protocol=args.protocol)
    bar = _Bar(args.quiet, "img")
    try:
        summary = generate_image_set(
            args.out, config, workers=args.workers, overwrite=args.overwrite, progress=bar
        )
    finally:
        bar.close()
    return _report(args, summary)


def _tracklets(args: argparse.Namespace) -> int:
    from reid_engine.synth.tracklet_set import TrackletSetConfig, generate_tracklet_set

    config = TrackletSetConfig(
        **_crop_kwargs(args), frames=args.frames, fps=args.fps, per_visit=args.per_visit
    )
    bar = _Bar(args.quiet, "tracklet")
    try:
        summary = generate_tracklet_set(
            args.out, config, workers=args.workers, overwrite=args.overwrite, progress=bar
        )
    finally:
        bar.close()
    return _report(args, summary)


def _scenes(args: argparse.Namespace) -> int:
    from reid_engine.synth.scenes import SceneSetConfig, generate_scenes

    config = SceneSetConfig(
        seed=args.seed,
        ids=args.ids,
        outfits=args.outfits,
        cameras=args.cameras,
        duration=args.duration,
        fps=args.fps,
        people=args.people,
        width=args.frame_width,
        height=args.frame_height,
    )
    bar = _Bar(args.quiet, "video")
    try:
        summary = generate_scenes(
            args.out, config, workers=args.workers, overwrite=args.overwrite, progress=bar
        )
    finally:
        bar.close()
    return _report(args, summary)


def _sheet(args: argparse.Namespace) -> int:
    from reid_engine.synth.sheets import write_contact_sheets

    paths = write_contact_sheets(args.out, seed=args.seed, num_ids=args.ids)
    return _report(args, {"out": str(args.out), "files": [str(p) for p in paths]})
