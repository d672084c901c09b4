"""Calibrated match confidence of a hit, from the engine's per-embedder calibration table.

``reid calibrate`` fits ``σ(slope · score + intercept)`` for each embedder on held-out people and
writes the table shipped next to the models; vectors are only ever compared within one embedder, so
the embedder that made the hit's vector names its calibration. Plain JSON: no engine import here.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from pathlib import Path

import reid_engine

logger = logging.getLogger(__name__)

CALIBRATION_TABLE = Path(reid_engine.__file__).resolve().parent / "weights" / "calibration.json"


@functools.cache
def _table() -> dict[str, tuple[float, float]]:
    try:
        raw = json.loads(CALIBRATION_TABLE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        logger.warning("no calibration table at %s: hits carry raw scores only", CALIBRATION_TABLE)
        return {}
    return {name: (float(row["slope"]), float(row["intercept"])) for name, row in raw.items()}


def match_confidence(embedder: str, score: float) -> float | None:
    """Calibrated probability that a hit is the person searched for, or None for an uncalibrated embedder."""
    fit = _table().get(embedder)
    if fit is None:
        return None
    slope, intercept = fit
    return round(1.0 / (1.0 + math.exp(-(slope * score + intercept))), 3)
