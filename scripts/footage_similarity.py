"""How alike the product's embeddings find different people of one piece of footage.

Runs the ingest pipeline (its default settings) on a video, or on its first ``--seconds``, and
prints the spread of pairwise cosine similarities between the people found, in each lane. People
in one clip are nearly all different people, so the figures show how alike strangers look to each
lane: what a fixed threshold on one lane (as the subject search's outfit threshold) means there.

    python scripts/footage_similarity.py var/data/vtest.avi --seconds 20 [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def first_seconds(source: Path, dest: Path, seconds: float) -> Path:
    """The first ``seconds`` of ``source`` re-encoded as H.264 mp4."""
    import av

    with av.open(str(source)) as src, av.open(str(dest), "w", format="mp4") as out:
        video = src.streams.video[0]
        fps = float(video.average_rate or 10)
        stream = out.add_stream("libx264", rate=round(fps))
        stream.width, stream.height = video.codec_context.width, video.codec_context.height
        stream.pix_fmt = "yuv420p"
        for index, frame in enumerate(src.decode(video)):
            if index / fps >= seconds:
                break
            copy = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
            copy.pts = index
            for packet in stream.encode(copy):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dest


def spread(vectors: np.ndarray) -> dict[str, float]:
    sims = vectors @ vectors.T
    upper = sims[np.triu_indices(len(vectors), 1)]
    p5, p50, p95 = np.percentile(upper, [5, 50, 95])
    return {"pairs": int(upper.size), "p5": round(float(p5), 3), "median": round(float(p50), 3),
            "p95": round(float(p95), 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("video", type=Path)
    ap.add_argument("--seconds", type=float, default=None, help="only the first N seconds")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not args.video.is_file():
        sys.stderr.write(f"footage_similarity: no such file: {args.video}\n")
        return 2
    import torch

    from reid_engine.config import load_config
    from reid_engine.paths import default_data_dir
    from reid_engine.pipeline import PipelineConfig, build_pipeline

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        source = args.video
        if args.seconds is not None:
            source = first_seconds(args.video, Path(tmp) / "clip.mp4", args.seconds)
        pipeline = build_pipeline(load_config(PipelineConfig, None, []), data_dir=default_data_dir())
        result = pipeline.run(source)
    if len(result.tracklets) < 2:
        sys.stderr.write("footage_similarity: fewer than two people found\n")
        return 1
    out = {
        "video": str(args.video), "seconds": args.seconds, "people": len(result.tracklets),
        "appearance": {"embedder": result.embedder, **spread(np.stack([e.embedding for e in result.tracklets]))},
    }
    identity = [e.identity_embedding for e in result.tracklets if e.identity_embedding is not None]
    if len(identity) >= 2:
        out["identity"] = {"embedder": result.identity_embedder, **spread(np.stack(identity))}
    if args.json:
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        for lane in ("appearance", "identity"):
            if lane in out:
                s = out[lane]
                sys.stdout.write(f"{lane}: {s['pairs']} pairs of {out['people']} people, cosine p5 {s['p5']}, "
                                 f"median {s['median']}, p95 {s['p95']}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
