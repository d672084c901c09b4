"""Contact sheets for labelling the people of a real video by hand, and the records that re-find them.

Ingests the video with the product's pipeline (the default ``PipelineConfig``; the clothes-invariant
lane is off, which changes no track), then writes into ``--out``:

- ``sheet-NN.png``: several people per sheet, each row one person (its track id written on it) with
  its best crops, the crops the product names attributes from, enlarged for the eye;
- ``tracks.json``: one record per person in the layout of the real labelled set
  (``reid_engine.attributes.real_labelled``) with every attribute still ``null`` (to be filled in by
  hand): the video, the track id, its frame span and its box at a few frames.

    python scripts/real_label_sheets.py --video var/data/vtest.avi --out var/real-label/vtest

A still image (``--still``) has no tracks: the pipeline's detector finds its people, numbered left to
right, each with the one crop ingest would cut.

    python scripts/real_label_sheets.py --video var/data/bus.jpg --still --out var/real-label/bus
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from reid_engine.attributes.real_eval import still_people
from reid_engine.attributes.real_labelled import LABELLED_ATTRIBUTES, anchor_boxes, pipeline_fingerprint
from reid_engine.config import load_config
from reid_engine.pipeline import PipelineConfig, build_pipeline
from reid_engine.types import Tracklet

CROP_H, ID_W, PER_SHEET = 300, 90, 5


def _row(tracklet: Tracklet) -> np.ndarray:
    tiles = []
    for crop in tracklet.best_crops:
        h, w = crop.image.shape[:2]
        width = max(1, round(w * CROP_H / h))
        tile = cv2.resize(crop.image, (width, CROP_H), interpolation=cv2.INTER_CUBIC)
        tiles.append(np.pad(tile, ((0, 0), (0, 6), (0, 0)), constant_values=255))
    label = np.full((CROP_H, ID_W, 3), 255, np.uint8)
    cv2.putText(label, f"#{tracklet.track_id}", (4, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (200, 0, 0), 2, cv2.LINE_AA)
    heights = [c.image.shape[0] for c in tracklet.best_crops]
    cv2.putText(label, f"{min(heights)}-{max(heights)}px", (4, 70), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    row = np.hstack([label, *tiles])
    return np.pad(row, ((0, 8), (0, 0), (0, 0)), constant_values=255)


def _sheet(rows: list[np.ndarray]) -> np.ndarray:
    width = max(r.shape[1] for r in rows)
    return np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for the sheets and tracks.json")
    parser.add_argument("--data-dir", type=Path, default=Path("var"), help="where the detector's weights live")
    parser.add_argument("--still", action="store_true", help="--video is a still image")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    config = load_config(PipelineConfig, None, ["identity_lane=false"])
    pipeline = build_pipeline(config, data_dir=args.data_dir)
    if args.still:
        people = sorted(still_people(args.video, pipeline.detector), key=lambda p: float(p.boxes_xyxy[0, 0]))
        tracks: list[Any] = [
            Tracklet(i + 1, p.frame_indices, np.zeros(1), p.boxes_xyxy, np.asarray([p.score], np.float32),
                     p.best_crops)
            for i, p in enumerate(people)
        ]
    else:
        tracks = [e.tracklet for e in pipeline.run(args.video).tracklets]
    if not tracks:
        sys.stderr.write("real_label_sheets: nobody found\n")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for n in range(0, len(tracks), PER_SHEET):
        sheet = _sheet([_row(t) for t in tracks[n : n + PER_SHEET]])
        cv2.imwrite(str(args.out / f"sheet-{n // PER_SHEET:02d}.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    records = [
        {
            "video": args.video.name,
            "track_id": t.track_id,
            "frames": [int(t.frame_indices[0]), int(t.frame_indices[-1])],
            "boxes": anchor_boxes(t),
            "best_crop_heights": [int(c.image.shape[0]) for c in t.best_crops],
            "labels": dict.fromkeys(LABELLED_ATTRIBUTES),
        }
        for t in tracks
    ]
    doc = {"pipeline": pipeline_fingerprint(config), "still": args.still, "tracks": records}
    (args.out / "tracks.json").write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
