"""Evaluation of ReID rankings: CMC and mAP under the standard, same-clothes and clothes-changing protocols."""

from __future__ import annotations

from reid_engine.eval.metrics import EvalResult, Protocol, cosine_distance, evaluate

__all__ = ["EvalResult", "Protocol", "cosine_distance", "evaluate"]
