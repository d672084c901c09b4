"""Body pose helpers: clothing and body regions from COCO keypoints."""

from __future__ import annotations

from reid_engine.pose.regions import COCO_SKELETON, BodyRegions, body_regions

__all__ = ["COCO_SKELETON", "BodyRegions", "body_regions"]
