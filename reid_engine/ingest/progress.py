"""Per-stage timing of a run, and rate-limited progress reports with a time-left estimate."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from reid_engine.types import Frame, Progress

ProgressCallback = Callable[[Progress], None]


class StageClock:
    """Accumulates wall time per stage; decoding is timed inside the frame iterator."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {
            "decode": 0.0,
            "detect": 0.0,
            "track": 0.0,
            "crops": 0.0,
            "embed": 0.0,
            "proxy": 0.0,
            "gate": 0.0,
        }

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self._seconds[stage] = self._seconds.get(stage, 0.0) + time.perf_counter() - start

    def timed_batches(self, frames: Iterable[Frame], size: int) -> Iterator[list[Frame]]:
        """Batches of ``size`` frames, the time spent pulling them counted as decoding."""
        iterator = iter(frames)
        while True:
            with self("decode"):
                batch = list(itertools.islice(iterator, size))
            if not batch:
                return
            yield batch

    def seconds(self) -> dict[str, float]:
        return dict(self._seconds)


class ProgressReporter:
    """Rate-limits progress callbacks and estimates the time left from the pace so far."""

    def __init__(self, callback: ProgressCallback | None, min_interval_s: float = 0.5) -> None:
        self.callback = callback
        self.min_interval_s = min_interval_s
        self.started = time.monotonic()
        self.last_sent = 0.0

    def emit(self, progress: Progress, *, weight_done: float | None = None) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if progress.stage == "detect" and now - self.last_sent < self.min_interval_s:
            return
        self.last_sent = now
        eta = progress.eta_s
        if eta is None and weight_done is not None and weight_done > 0.02:
            elapsed = now - self.started
            eta = elapsed * (1.0 - weight_done) / weight_done
        self.callback(
            Progress(stage=progress.stage, fraction=progress.fraction, eta_s=eta, message=progress.message)
        )
