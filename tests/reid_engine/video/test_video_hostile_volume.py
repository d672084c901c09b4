"""Hundreds of generated hostile uploads through the engine's probe and decode path: each one ends
accepted, accepted with warnings, or refused with a one-line reason; none raises anything else, none
takes long, and none makes the decoder open a file outside the upload folder."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from hostile_corpus import Hostile, OpenWatch, build_corpus
from videogen import write_video

from reid_engine.errors import VideoError
from reid_engine.video import DecodeStats, VideoLimits, iter_frames, probe_video

# Generous for these small files, small enough that a bomb hits them in well under a second.
LIMITS = VideoLimits(max_frames=2000, max_decoded_bytes=256 * 1024**2, max_duration_s=3600, probe_timeout_s=10)
SENTINEL_SIZE = (208, 144)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Hostile], Path]:
    root = tmp_path_factory.mktemp("hostile")
    outside = root / "elsewhere"
    outside.mkdir()
    sentinel = write_video(outside / "sentinel.ts", codec="libx264", container_format="mpegts",
                           frames=12, width=SENTINEL_SIZE[0], height=SENTINEL_SIZE[1])
    return build_corpus(root, sentinel), outside


def _outcome(path: Path) -> tuple[str, str]:
    """("refused", reason), ("warned", what) or ("accepted", "")."""
    try:
        info = probe_video(path, limits=LIMITS)
        stats = DecodeStats()
        shapes = {f.image.shape[:2] for f in iter_frames(path, info=info, limits=LIMITS, stats=stats)}
    except VideoError as exc:
        return "refused", str(exc)
    assert (SENTINEL_SIZE[1], SENTINEL_SIZE[0]) not in shapes, f"{path.name} decoded the sentinel"
    if stats.frames_skipped or stats.truncated or stats.frames_decoded != info.frame_count:
        return "warned", f"{stats.frames_skipped} skipped, truncated={stats.truncated}"
    return "accepted", ""


def test_every_hostile_upload_ends_accepted_warned_or_refused_with_a_reason(
    corpus: tuple[list[Hostile], Path],
) -> None:
    files, outside = corpus
    assert len(files) >= 300
    watch = OpenWatch(outside)
    outcomes: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = {}
    intact: Counter[str] = Counter()
    slowest = 0.0
    try:
        for item in files:
            started = time.monotonic()
            outcome, why = _outcome(item.path)
            slowest = max(slowest, time.monotonic() - started)
            outcomes[outcome] += 1
            by_kind.setdefault(item.kind.split("-")[0], Counter())[outcome] += 1
            if item.kind.endswith("-intact") or "-named" in item.kind:
                intact[outcome] += 1
            if outcome == "refused":
                assert why, item.path.name
                assert "\n" not in why, item.path.name
                assert str(item.path.parent) not in why, item.path.name
                assert "Traceback" not in why
        opened_outside = watch.events()
    finally:
        watch.close()
    assert opened_outside == 0, "a decoder opened a file outside the upload folder"
    assert slowest < 10.0
    # The corpus exercises all three outcomes, and everything that points elsewhere is refused.
    assert min(outcomes["accepted"], outcomes["warned"], outcomes["refused"]) > 0
    for kind in ("hls", "ffconcat", "concat", "empty", "text", "html", "json", "svg", "zeros"):
        assert set(by_kind[kind]) == {"refused"}, (kind, by_kind[kind])
    assert set(by_kind["bomb"]) == {"refused"}
    # Every intact clip is accepted (or, raw H.264 without a declared length, warned) whatever its name.
    assert set(intact) <= {"accepted", "warned"}
    print(f"hostile corpus: {len(files)} files, {dict(outcomes)}, slowest {slowest:.2f} s")  # noqa: T201


def test_the_sentinel_watch_sees_a_decoder_that_does_open_the_sentinel(corpus: tuple[list[Hostile], Path]) -> None:
    # The check above can fail: decoding the sentinel itself is seen.
    _, outside = corpus
    watch = OpenWatch(outside)
    try:
        probe_video(outside / "sentinel.ts", limits=LIMITS)
        assert watch.events() > 0
    finally:
        watch.close()
