"""A small interpreter that runs TensorFlow.js graph models (``model.json`` + shards) with torch."""

from __future__ import annotations

from reid_engine.tfjs.graph import (
    GraphModel,
    GraphRunner,
    Node,
    TfjsModelError,
    decode_weights,
    load_graph_model,
)
from reid_engine.tfjs.ops import UnsupportedOpError

__all__ = [
    "GraphModel",
    "GraphRunner",
    "Node",
    "TfjsModelError",
    "UnsupportedOpError",
    "decode_weights",
    "load_graph_model",
]
