"""SynthCC sanity experiment: clothes must not give identity away, persistent traits must.

(a) Colour-histogram matchers (whole crop; the person's upper and lower halves) are scored under
the same-clothes (SC) and clothes-changing (CC) protocols: they should do well in SC only.
(b) An oracle on hair and skin pixels (true label maps) shows how much identity is left outside
the clothes.
(c) A small CNN trained on the training identities is scored on held-out identities under CC.
(d) Optionally, OpenCV's HOG people detector is run on a scene set.

The matchers live beside this script: synthcc_features.py (histograms), synthcc_cnn.py (the CNN)
and synthcc_hog.py (the detector check).

Prints one JSON object. Usage:
    python scripts/synthcc_sanity.py --data var/synthcc/images [--generate] [--seed 0] [--cnn all]
        [--steps 1000] [--scenes SCENE_DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from synthcc_cnn import embed, train_cnn
from synthcc_features import histogram_features, trait_histogram_features
from synthcc_hog import hog_check

from reid_engine.data.base import ImageRecord
from reid_engine.data.synthcc import load_synthcc_images
from reid_engine.eval import cosine_distance, evaluate

logger = logging.getLogger("synthcc_sanity")


def chance_rank1(q: list[ImageRecord], g: list[ImageRecord], protocol: str) -> float:
    """Expected Rank-1 of a random ranking: per scored query, #correct / #non-junk gallery items."""
    gp = np.array([r.pid for r in g])
    gc = np.array([r.camid for r in g])
    gk = np.array([r.clothes_id for r in g])
    rates = []
    for r in q:
        same = gp == r.pid
        junk = same & (gc == r.camid)
        good = same & ~junk
        if protocol == "cc":
            junk |= same & (gk == r.clothes_id)
            good &= gk != r.clothes_id
        elif protocol == "sc":
            junk |= same & (gk != r.clothes_id)
            good &= gk == r.clothes_id
        if good.any():
            rates.append(good.sum() / (~junk).sum())
    return float(np.mean(rates)) if rates else 0.0


def score(qf: np.ndarray, gf: np.ndarray, q: list[ImageRecord], g: list[ImageRecord]) -> dict[str, Any]:
    dist = cosine_distance(qf, gf)
    args = (
        np.array([r.pid for r in q]),
        np.array([r.pid for r in g]),
        np.array([r.camid for r in q]),
        np.array([r.camid for r in g]),
        np.array([r.clothes_id for r in q]),
        np.array([r.clothes_id for r in g]),
    )
    out: dict[str, Any] = {}
    for protocol in ("general", "sc", "cc"):
        res = evaluate(dist, *args, protocol=protocol)  # type: ignore[arg-type]
        out[protocol] = {k: round(float(v), 4) for k, v in res.summary().items()}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a SynthCC image set folder")
    parser.add_argument("--generate", action="store_true", help="generate the set first (default sizes)")
    parser.add_argument("--seed", type=int, default=0, help="generator and training seed")
    parser.add_argument("--ids", type=int, default=150, help="identities when generating")
    parser.add_argument("--workers", type=int, default=1, help="generator processes")
    parser.add_argument("--steps", type=int, default=1000, help="CNN training steps (batches of 64)")
    parser.add_argument(
        "--budget-s", type=float, default=1200.0, help="stop training after this many seconds"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--cnn",
        choices=("plain", "recolour", "attributes", "all", "none"),
        default="all",
        help="which CNN runs to train (all: plain, then with stable-attribute heads)",
    )
    parser.add_argument("--recolour", type=float, default=0.5, help="outfit recolouring probability")
    parser.add_argument("--size", type=int, nargs=2, default=(128, 64), help="CNN input height and width")
    parser.add_argument("--parts", type=int, default=1, help="horizontal stripes pooled separately")
    parser.add_argument("--scenes", type=Path, help="also run the HOG person-detector check on a scene set")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    torch.set_num_threads(args.threads)
    report: dict[str, Any] = {}
    if args.generate:
        from reid_engine.synth.image_set import ImageSetConfig, generate_image_set

        gen = generate_image_set(
            args.data, ImageSetConfig(seed=args.seed, ids=args.ids), workers=args.workers, overwrite=True
        )
        report["generation"] = {k: gen[k] for k in ("images", "seconds", "crops_per_s", "workers")}
    ds = load_synthcc_images(args.data)
    q, g = list(ds.query), list(ds.gallery)
    report["data"] = {"summary": ds.summary(), "config": ds.meta.get("config")}
    report["chance_rank1"] = {p: round(chance_rank1(q, g, p), 4) for p in ("general", "sc", "cc")}
    report["gallery_ids"] = len({r.pid for r in g})

    for person_only, key in ((False, "colour_histogram_crop"), (True, "colour_histogram_person")):
        hq, hg = (
            histogram_features(q, person_only=person_only),
            histogram_features(g, person_only=person_only),
        )
        report[key] = score(hq, hg, q, g)
        logger.info("%s: %s", key, json.dumps(report[key]))

    report["trait_histogram_oracle"] = score(trait_histogram_features(q), trait_histogram_features(g), q, g)
    logger.info("trait_histogram_oracle: %s", json.dumps(report["trait_histogram_oracle"]))
    if args.scenes is not None:
        report["hog"] = hog_check(args.scenes)
    size_hw = (args.size[0], args.size[1])
    runs = {
        "plain": [("cnn", 0.0, 0.0)],
        "recolour": [("cnn_recolour", args.recolour, 0.0)],
        "attributes": [("cnn_attributes", 0.0, 0.5)],
        "all": [("cnn", 0.0, 0.0), ("cnn_attributes", 0.0, 0.5)],
        "none": [],
    }[args.cnn]
    for key, p, attr_weight in runs:
        model, info = train_cnn(
            ds,
            steps=args.steps,
            size_hw=size_hw,
            seed=args.seed,
            budget_s=args.budget_s,
            recolour_p=p,
            parts=args.parts,
            attr_weight=attr_weight,
        )
        report[f"{key}_training"] = info
        report[key] = score(embed(model, q, size_hw), embed(model, g, size_hw), q, g)
        logger.info("%s: %s", key, json.dumps(report[key]))
    sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
