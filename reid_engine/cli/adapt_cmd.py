"""``reid adapt``: fine-tune the identity model on a site's own unlabelled footage."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

from reid_engine.cli import CliError, emit_json
from reid_engine.cli.realeval_cmd import add_footage_arguments, load_footage, parse_span


def register(sub: Any) -> None:
    parser = sub.add_parser("adapt", help="adapt the identity model to a site's unlabelled tracks (resumable)")
    add_footage_arguments(parser)
    parser.add_argument("--footage", dest="footage_dirs", action="append", type=Path, default=[],
                        metavar="DIR|VIDEO", help="a video or a folder of videos (same as positional VIDEO)")
    parser.add_argument("--from", dest="source", type=Path, default=None,
                        help="starting model (default: the shipped identity model)")
    parser.add_argument("--out", type=Path, required=True, help="the adapted model file to write")
    parser.add_argument("--synth", type=Path, default=None,
                        help="a SynthCC image set whose training people keep the clothes-changing objective")
    parser.add_argument("--synth-ids", type=int, default=100, help="SynthCC training identities used (default 100)")
    parser.add_argument("--adapt-set", dest="adapt_overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="an adaptation setting (AdaptConfig), e.g. --adapt-set epochs=2")
    parser.add_argument("--resume", action="store_true", help="continue from the state saved next to --out")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from reid_engine.adapt.loop import AdaptConfig, adapt
    from reid_engine.config import config_from_dict, parse_override
    from reid_engine.data.base import ImageRecord
    from reid_engine.data.registry import load_training_dataset
    from reid_engine.eval.real import restrict_span
    from reid_engine.models.pretrained import file_sha256
    from reid_engine.pipeline import SHIPPED_REID_MODEL
    from reid_engine.train.checkpoint import load_model

    args.videos = [*args.videos, *args.footage_dirs]
    lo, hi = parse_span(args.span)
    if args.out.exists() and not args.resume:
        raise CliError(f"{args.out} exists: choose another --out or pass --resume")
    values: dict[str, Any] = {}
    for text in args.adapt_overrides:
        keys, value = parse_override(text)
        values[".".join(keys)] = value
    try:
        config = config_from_dict(AdaptConfig, values)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    source = args.source or SHIPPED_REID_MODEL
    model, size_hw, meta = load_model(source)
    footage = load_footage(args)
    tracks = restrict_span(footage.tracks, footage.durations, lo, hi)
    synth: list[ImageRecord] = []
    if args.synth is not None:
        dataset = load_training_dataset("synthcc", args.synth)
        people = sorted({r.pid for r in dataset.train})[: max(args.synth_ids, 0)]
        keep = set(people)
        synth = [r for r in dataset.train if isinstance(r, ImageRecord) and r.pid in keep]
        if not synth:
            raise CliError(f"{args.synth} has no training images")
    elif config.synth_ids_per_batch:
        config = dataclasses.replace(config, synth_ids_per_batch=0)
    try:
        summary = adapt(
            model, size_hw, tracks, synth, config, out=args.out, resume=args.resume, show_progress=not args.quiet,
            meta={**meta, "adapted_from": f"{Path(source).name}:{file_sha256(source)[:8]}",
                  "adapted_on": sorted(footage.durations), "adapted_span": [lo, hi]},
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    emit_json({**summary, "tracks": len(tracks), "synth_images": len(synth),
               "seconds": round(time.perf_counter() - start, 1)})
    return 0
