"""The FAISS index: exact results, ids as a set, and snapshots that survive crashes and bit flips."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reid_engine.errors import IndexCorruptError
from reid_engine.index import VectorIndex, load_snapshot, save_snapshot


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_search_matches_brute_force_cosine_ranking() -> None:
    rng = np.random.default_rng(1)
    vecs = _unit(rng, 300, 32)
    ids = np.arange(10, 310, dtype=np.int64)
    index = VectorIndex(32)
    index.add(ids, vecs)
    query = vecs[5]
    hits = index.search(query, 20)
    expected = ids[np.argsort(-(vecs @ query), kind="stable")[:20]]
    assert [h.item_id for h in hits] == expected.tolist()
    assert [h.rank for h in hits] == list(range(20))
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)


def test_exclude_still_returns_k_hits() -> None:
    rng = np.random.default_rng(2)
    index = VectorIndex(8)
    index.add(np.arange(1, 11), _unit(rng, 10, 8))
    hits = index.search(_unit(rng, 1, 8)[0], 5, exclude={1, 2, 3})
    assert len(hits) == 5
    assert not {h.item_id for h in hits} & {1, 2, 3}


def test_re_adding_an_id_replaces_it_instead_of_duplicating() -> None:
    rng = np.random.default_rng(3)
    index = VectorIndex(8)
    v = _unit(rng, 4, 8)
    index.add(np.arange(1, 5), v)
    index.add(np.array([2]), v[:1])
    assert len(index) == 4
    assert sorted(index.ids().tolist()) == [1, 2, 3, 4]
    assert index.remove(np.array([2, 99])) == 1
    assert len(index) == 3


def test_wrong_shapes_are_refused() -> None:
    index = VectorIndex(8)
    with pytest.raises(ValueError, match="expected"):
        index.add(np.arange(2), np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="dimension"):
        index.search(np.zeros(4, np.float32), 3)


def test_snapshot_round_trip_keeps_vectors_ids_and_last_id(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    index = VectorIndex(16)
    v = _unit(rng, 50, 16)
    index.add(np.arange(100, 150), v)
    save_snapshot(index, tmp_path / "ix.faiss")
    loaded = load_snapshot(tmp_path / "ix.faiss")
    assert loaded.last_id == 149
    assert len(loaded) == 50
    assert [h.item_id for h in loaded.search(v[7], 5)] == [h.item_id for h in index.search(v[7], 5)]


def test_flipped_bit_in_a_snapshot_is_detected(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    index = VectorIndex(16)
    index.add(np.arange(1, 51), _unit(rng, 50, 16))
    path = tmp_path / "ix.faiss"
    save_snapshot(index, path)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x10
    path.write_bytes(bytes(blob))
    with pytest.raises(IndexCorruptError, match="checksum"):
        load_snapshot(path)


_WRITER = """
import os, sys, numpy as np
from reid_engine.index import VectorIndex, save_snapshot
rng = np.random.default_rng(0)
index = VectorIndex(64)
v = rng.standard_normal((200000, 64)).astype(np.float32)
index.add(np.arange(1, 200001), v / np.linalg.norm(v, axis=1, keepdims=True))
print("ready", flush=True)
while True:
    save_snapshot(index, sys.argv[1])
"""


def test_a_writer_killed_mid_snapshot_leaves_the_previous_snapshot_usable(tmp_path: Path) -> None:
    path = tmp_path / "ix.faiss"
    rng = np.random.default_rng(6)
    previous = VectorIndex(64)
    previous.add(np.arange(1, 11), _unit(rng, 10, 64))
    save_snapshot(previous, path)
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    for delay in (0.05, 0.13, 0.21):
        # Kill at several points of a save cycle (the 51 MB write takes longer than these delays).
        import time

        time.sleep(delay)
        loaded = load_snapshot(path)  # never a torn file
        assert len(loaded) in (10, 200000)
    proc.kill()
    proc.wait()
    loaded = load_snapshot(path)
    assert len(loaded) in (10, 200000)
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 2  # a killed writer may leave its temp file, never a torn snapshot
