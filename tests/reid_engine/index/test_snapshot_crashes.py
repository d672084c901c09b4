"""Snapshots under crashes and damage: a writer SIGKILLed at random moments never leaves an unreadable
index, and every bit flip or truncation of a snapshot is detected.

The writers are real processes killed with SIGKILL. Starting Python with FAISS a hundred times would
take minutes on two cores, so one helper process imports the index code once and forks a fresh
writer for every kill (FAISS has not run in the helper, so its children do not hang; see the
FAISS-after-fork note in the engine's worker set-up).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from reid_engine.errors import IndexCorruptError
from reid_engine.index import VectorIndex, load_snapshot, save_snapshot

REPO = Path(__file__).resolve().parents[3]
KILLS = int(os.environ.get("LONGVIEW_SNAPSHOT_KILLS", "100"))

# Reads "<count> <path>" lines; forks a writer that saves an index of <count> vectors to <path> in a
# loop, and answers with the writer's pid once it is saving. Reaps writers the test has killed.
_FORKER = r"""
import os, sys
import numpy as np
from reid_engine.index import VectorIndex, save_snapshot
for line in sys.stdin:
    count, path = line.split(maxsplit=1)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        rng = np.random.default_rng(int(count))
        v = rng.standard_normal((int(count), 32)).astype(np.float32)
        index = VectorIndex(32)
        index.add(np.arange(1, int(count) + 1), v / np.linalg.norm(v, axis=1, keepdims=True))
        os.write(w, b"x")
        while True:
            save_snapshot(index, path.strip())
    os.close(w)
    os.read(r, 1)
    os.close(r)
    print(pid, flush=True)
    os.waitpid(pid, 0)
    print("reaped", flush=True)
"""


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_writers_sigkilled_at_random_moments_never_leave_an_unreadable_index(tmp_path: Path) -> None:
    path = tmp_path / "ix.faiss"
    first = VectorIndex(32)
    first.add(np.arange(1, 11), _unit(np.random.default_rng(1), 10, 32))
    save_snapshot(first, path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    forker = subprocess.Popen(
        [sys.executable, "-c", _FORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO, env=env
    )
    assert forker.stdin is not None
    assert forker.stdout is not None
    rng = random.Random(18)
    sizes = (2_000, 6_000)  # about 0.26 MB and 0.77 MB: a save takes a few milliseconds
    unreadable, counts = 0, set()
    try:
        # Time one save of the larger index, so the kills spread over a few whole save cycles.
        big = VectorIndex(32)
        big.add(np.arange(1, sizes[1] + 1), _unit(np.random.default_rng(2), sizes[1], 32))
        started = time.monotonic()
        save_snapshot(big, tmp_path / "probe.faiss")
        cycle = time.monotonic() - started
        for kill in range(KILLS):
            forker.stdin.write(f"{sizes[kill % 2]} {path}\n")
            forker.stdin.flush()
            pid = int(forker.stdout.readline())
            time.sleep(rng.uniform(0.0, 3 * cycle))
            os.kill(pid, signal.SIGKILL)
            assert forker.stdout.readline().strip() == "reaped"
            try:
                counts.add(len(load_snapshot(path)))
            except (IndexCorruptError, FileNotFoundError):
                unreadable += 1
    finally:
        forker.kill()
        forker.wait()
    assert unreadable == 0
    assert counts <= {10, *sizes}
    # The kills landed inside saves often enough to matter: some publish a new snapshot, and
    # half-written temporary files were left behind by writers killed before their rename.
    assert counts & set(sizes)
    assert list(tmp_path.glob(".ix.faiss.*.tmp"))


def _snapshot(tmp_path: Path) -> bytes:
    index = VectorIndex(16)
    index.add(np.arange(1, 201), _unit(np.random.default_rng(3), 200, 16))
    save_snapshot(index, tmp_path / "good.faiss")
    return (tmp_path / "good.faiss").read_bytes()


def test_a_bit_flip_anywhere_in_the_header_or_at_random_in_the_blobs_is_detected(tmp_path: Path) -> None:
    good = _snapshot(tmp_path)
    header_end = 12 + int.from_bytes(good[8:12], "little") + 32
    rng = random.Random(7)
    positions = list(range(header_end)) + rng.sample(range(header_end, len(good)), 300)
    missed = []
    for pos in positions:
        blob = bytearray(good)
        blob[pos] ^= 1 << rng.randrange(8)
        (tmp_path / "bad.faiss").write_bytes(bytes(blob))
        try:
            load_snapshot(tmp_path / "bad.faiss")
        except IndexCorruptError:
            continue
        missed.append(pos)
    assert missed == [], f"{len(missed)} of {len(positions)} bit flips loaded as a valid index"


@pytest.mark.parametrize("where", ["header", "blob"])
def test_every_truncation_is_detected(tmp_path: Path, where: str) -> None:
    good = _snapshot(tmp_path)
    header_end = 12 + int.from_bytes(good[8:12], "little") + 32
    lengths = range(header_end) if where == "header" else random.Random(9).sample(range(header_end, len(good)), 200)
    missed = []
    for length in lengths:
        (tmp_path / "bad.faiss").write_bytes(good[:length])
        try:
            load_snapshot(tmp_path / "bad.faiss")
        except IndexCorruptError:
            continue
        missed.append(length)
    assert missed == []
