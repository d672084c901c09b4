"""Nearest-neighbour search over L2-normalised embeddings, with crash-safe snapshots."""

from __future__ import annotations

from reid_engine.index.vector_index import VectorIndex, load_snapshot, save_snapshot

__all__ = ["VectorIndex", "load_snapshot", "save_snapshot"]
