"""Deterministic file output and an order-preserving worker pool for the SynthCC writers."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import resource
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from reid_engine.errors import ReidEngineError

T = TypeVar("T")
R = TypeVar("R")
ProgressFn = Callable[[int, int], None]


class SynthError(ReidEngineError):
    """Bad generator settings or an output folder that cannot be used."""


def rounded(obj: Any, digits: int = 4) -> Any:
    """Round floats inside nested containers (JSON metadata stays short and stable)."""
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, dict):
        return {str(k): rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [rounded(v, digits) for v in obj]
    if isinstance(obj, np.generic):
        return rounded(obj.item(), digits)
    return obj


def dumps(obj: Any) -> str:
    """Canonical compact JSON: sorted keys, rounded floats."""
    return json.dumps(rounded(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rounded(obj), sort_keys=True, indent=1) + "\n", encoding="utf-8")


def write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(dumps(row) + "\n")


def encode_image(rgb: np.ndarray, fmt: str, jpeg_quality: int) -> bytes:
    """Encode uint8 RGB as ``jpg`` (fixed quality, no optimisation flags) or lossless ``png``."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if fmt == "jpg":
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    else:
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise SynthError(f"could not encode an image as {fmt}")
    return buf.tobytes()


def encode_labels(labels: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", labels, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise SynthError("could not encode a label map")
    return buf.tobytes()


def prepare_out(out: Path, *, overwrite: bool) -> None:
    """Create the output folder; refuse a non-empty one unless ``overwrite``.

    Raises:
        SynthError: when the folder is a file or already holds files.
    """
    if out.exists() and not out.is_dir():
        raise SynthError(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise SynthError(f"{out} is not empty (pass --overwrite to write into it)")
    out.mkdir(parents=True, exist_ok=True)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (pool workers), user + system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


_STATE: dict[str, Any] = {}


def _init_worker(state: dict[str, Any]) -> None:
    cv2.setNumThreads(1)
    _STATE.clear()
    _STATE.update(state)


def worker_state() -> dict[str, Any]:
    """The state given to :func:`run_ordered`, inside a worker (or the main process)."""
    return _STATE


def run_ordered(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    state: dict[str, Any],
    workers: int,
    progress: ProgressFn | None = None,
) -> Iterator[R]:
    """Apply ``fn`` to ``items`` in worker processes, yielding results in item order.

    ``fn`` reads shared read-only data from :func:`worker_state`. Results do not depend on
    ``workers``: each item carries its own seed.
    """
    total = len(items)
    if workers <= 1 or total < 2:
        prev = cv2.getNumThreads()
        _init_worker(state)
        try:
            for done, item in enumerate(items, 1):
                yield fn(item)
                if progress is not None:
                    progress(done, total)
        finally:
            cv2.setNumThreads(prev)
        return
    # Never fork: a parent that has run OpenCV, torch or FAISS threads (a test session, a worker)
    # can hand a child a lock held by a thread that no longer exists, and the pool hangs for good.
    ctx = mp.get_context("spawn")
    chunk = max(1, min(32, total // (workers * 8)))
    with ctx.Pool(min(workers, os.cpu_count() or 1), initializer=_init_worker, initargs=(state,)) as pool:
        for done, result in enumerate(pool.imap(fn, items, chunksize=chunk), 1):
            yield result
            if progress is not None:
                progress(done, total)
