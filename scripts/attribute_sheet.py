"""Run an attribute model on the people of a real video and draw what it says about each of them.

Ingests the video with the default pipeline, predicts every person's attributes from their best
crops with the given ``reid train-attributes`` model (the mean over the crops), and writes a contact
sheet: each person's best crop with the carried-object, hat and gender probabilities under it. The
probabilities are also printed as one JSON object, one entry per person.

    python scripts/attribute_sheet.py --model runs/attributes-full/model.pt --video var/data/vtest.avi \
        --out docs/img/vtest_attributes_synthcc.jpg
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from reid_engine.attributes.model import load_attribute_model, predict_tracklet, split_heads
from reid_engine.attributes.schema import SCHEMA
from reid_engine.config import load_config
from reid_engine.data.torch_dataset import to_tensor
from reid_engine.pipeline import PipelineConfig, build_pipeline

SHOWN = ("backpack", "handbag", "shoulder_bag", "hat")
TILE_W, CROP_H, TEXT_H, PER_ROW = 150, 200, 80, 8


def _tile(index: int, crop: np.ndarray, probs: dict[str, dict[str, float]]) -> np.ndarray:
    tile = np.full((CROP_H + TEXT_H, TILE_W, 3), 255, np.uint8)
    w = min(TILE_W, max(1, round(crop.shape[1] * CROP_H / crop.shape[0])))
    tile[:CROP_H, :w] = cv2.resize(crop, (w, CROP_H), interpolation=cv2.INTER_AREA)
    p = {name: probs[name]["yes"] for name in SHOWN}
    lines = [
        f"#{index}  female {probs['gender']['female']:.2f}",
        f"backpack {p['backpack']:.2f}",
        f"handbag {p['handbag']:.2f}",
        f"shoulder bag {p['shoulder_bag']:.2f}",
        f"hat {p['hat']:.2f}",
    ]
    for j, line in enumerate(lines):
        cv2.putText(tile, line, (3, CROP_H + 14 + 15 * j), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="model.pt written by reid train-attributes")
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the contact sheet (.jpg or .png)")
    parser.add_argument("--data-dir", type=Path, default=Path("var"), help="where the detector's weights live")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model, (height, width), _ = load_attribute_model(args.model)
    pipeline = build_pipeline(load_config(PipelineConfig, None, ["identity_lane=false"]), data_dir=args.data_dir)
    result = pipeline.run(args.video)
    tiles, people = [], []
    for index, item in enumerate(result.tracklets):
        crops = [c.image for c in item.tracklet.best_crops]
        batch = torch.stack([to_tensor(cv2.resize(c, (width, height), interpolation=cv2.INTER_AREA)) for c in crops])
        blocks = split_heads(predict_tracklet(model, batch))
        probs = {
            a.name: {v: round(float(x), 3) for v, x in zip(a.values, b.tolist(), strict=True)}
            for a, b in zip(SCHEMA.attributes, blocks, strict=True)
        }
        people.append({"person": index, "track_id": item.tracklet.track_id, "start_s": round(item.tracklet.start_s, 1),
                       **{name: probs[name] for name in ("gender", *SHOWN)}})
        tiles.append(_tile(index, crops[0], probs))
    if not tiles:
        sys.stderr.write("attribute_sheet: nobody found in the video\n")
        return 1
    while len(tiles) % PER_ROW:
        tiles.append(np.full_like(tiles[0], 255))
    sheet = np.vstack([np.hstack(tiles[i : i + PER_ROW]) for i in range(0, len(tiles), PER_ROW)])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    json.dump({"model": str(args.model), "video": str(args.video), "people": people}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
