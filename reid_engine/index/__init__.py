"""Nearest-neighbour search over L2-normalised embeddings, with crash-safe snapshots."""

from __future__ import annotations

from reid_engine.index.config import IndexConfig
from reid_engine.index.snapshot import SNAPSHOT_FORMAT, load_snapshot, save_snapshot
from reid_engine.index.vector_index import VectorIndex

__all__ = ["SNAPSHOT_FORMAT", "IndexConfig", "VectorIndex", "load_snapshot", "save_snapshot"]
