"""``reid bench …``: speed measurements as JSON, with a reference run inside the same command."""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from reid_engine.cli import CliError, emit_json
from reid_engine.config import load_config
from reid_engine.paths import default_data_dir


def register(sub: Any) -> None:
    parser = sub.add_parser("bench", help="measure speed (JSON on stdout)")
    bench = parser.add_subparsers(dest="bench", required=True, parser_class=type(parser))
    ingest = bench.add_parser("ingest", help="per-stage cost of ingesting one video, against decoding alone")
    ingest.add_argument("video", type=Path)
    ingest.add_argument("--config", type=Path, help="pipeline configuration (TOML)")
    ingest.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ingest.add_argument("--device", default="cpu")
    ingest.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ingest.add_argument("--data-dir", type=Path, default=None)
    ingest.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    ingest.set_defaults(handler=run_ingest)
    index = bench.add_parser(
        "index", help="vector index build, memory, latency and recall against exact search"
    )
    index.add_argument("--n", type=int, default=100_000, help="vectors to index")
    index.add_argument("--dim", type=int, default=512)
    index.add_argument("--k", type=int, default=100, help="hits per query")
    index.add_argument("--queries", type=int, default=200, help="timed queries per mode")
    index.add_argument("--kind", choices=["auto", "flat", "hnsw", "ivf_flat", "ivf_pq"], default="auto")
    index.add_argument("--seed", type=int, default=0)
    index.add_argument("--threads", type=int, default=None, help="FAISS threads (default: FAISS's choice)")
    index.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    index.set_defaults(handler=run_index)


def run_ingest(args: argparse.Namespace) -> int:
    import torch

    from reid_engine.pipeline import PipelineConfig, build_pipeline
    from reid_engine.video import DecodeStats, iter_frames, probe_video

    config = load_config(PipelineConfig, args.config, args.overrides)
    if not args.video.is_file():
        raise CliError(f"no such file: {args.video}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    info = probe_video(args.video, limits=config.limits)

    # Reference: decoding alone, at the same sampled rate, in this process and on this machine.
    stats = DecodeStats()
    start = time.perf_counter()
    for _ in iter_frames(
        args.video, info=info, sample_fps=config.sample_fps, limits=config.limits, stats=stats
    ):
        pass
    decode_only_s = time.perf_counter() - start

    load_start = time.perf_counter()
    pipeline = build_pipeline(config, device=args.device, data_dir=args.data_dir or default_data_dir())
    load_s = time.perf_counter() - load_start
    start = time.perf_counter()
    result = pipeline.run(args.video)
    wall_s = time.perf_counter() - start

    frames = max(result.frames_decoded, 1)
    decisions = result.frame_decisions
    emit_json(
        {
            "video": info.as_dict(),
            "device": args.device,
            "torch_threads": torch.get_num_threads(),
            "sample_fps": config.sample_fps,
            "detector": pipeline.detector.name,
            "detector_runtime": getattr(pipeline.detector, "runtime", None),
            "embedder": pipeline.embedder.name,
            "frames_processed": result.frames_decoded,
            "tracklets": len(result.tracklets),
            "model_load_s": round(load_s, 3),
            "wall_s": round(wall_s, 3),
            "decode_only_s": round(decode_only_s, 3),
            "ratio_to_decode_only": round(wall_s / decode_only_s, 2) if decode_only_s > 0 else None,
            "realtime_factor": round(info.duration_s / wall_s, 3),
            "ms_per_frame": {k: round(1000 * v / frames, 2) for k, v in result.stage_seconds.items()},
            "ms_per_frame_total": round(1000 * wall_s / frames, 2),
            "frame_decisions": decisions,
            "frames_detected_fraction": (
                round(decisions.get("detect", 0) / sum(decisions.values()), 3) if decisions else 1.0
            ),
            # Linux reports ru_maxrss in KiB: the process's peak resident memory so far.
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
    )
    if sys.stderr.isatty():
        sys.stderr.write(f"{info.duration_s / wall_s:.2f}x real time\n")
    return 0


def run_index(args: argparse.Namespace) -> int:
    from reid_engine.index.bench import run_index_bench

    if args.n < 1 or args.dim < 1 or args.k < 1 or args.queries < 1:
        raise CliError("--n, --dim, --k and --queries must be positive")
    emit_json(
        run_index_bench(
            n=args.n,
            dim=args.dim,
            k=args.k,
            queries=args.queries,
            kind=args.kind,
            seed=args.seed,
            threads=args.threads,
        )
    )
    return 0
