"""Fixtures for the video tests: one short real clip per container, written once per session."""

from __future__ import annotations

import os
from pathlib import Path

import av
import pytest
from videogen import FPS, HEIGHT, WIDTH, Clip, write_video

REPO = Path(__file__).resolve().parents[3]
VTEST = Path(os.environ.get("LONGVIEW_DATA_DIR", REPO / "var")).resolve() / "data" / "vtest.avi"


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def mp4_clip(video_dir: Path) -> Clip:
    """H.264 in MP4, index at the end as the muxer writes it by default."""
    path = write_video(video_dir / "clip.mp4", codec="libx264", frames=20)
    return Clip(path, 20, FPS, WIDTH, HEIGHT, "h264")


@pytest.fixture(scope="session")
def mkv_clip(video_dir: Path) -> Clip:
    path = write_video(video_dir / "clip.mkv", codec="libx264", frames=20)
    return Clip(path, 20, FPS, WIDTH, HEIGHT, "h264")


@pytest.fixture(scope="session")
def avi_clip(video_dir: Path) -> Clip:
    """MJPEG in AVI, the usual export of older DVRs; 30 frames so corruption can sit in the middle."""
    path = write_video(video_dir / "clip.avi", codec="mjpeg", frames=30, pix_fmt="yuvj420p")
    return Clip(path, 30, FPS, WIDTH, HEIGHT, "mjpeg")


@pytest.fixture(scope="session")
def webm_clip(video_dir: Path) -> Clip:
    for encoder, name in (("libvpx", "vp8"), ("libvpx-vp9", "vp9")):
        if encoder in av.codecs_available:
            path = write_video(video_dir / "clip.webm", codec=encoder, container_format="webm", frames=20)
            return Clip(path, 20, FPS, WIDTH, HEIGHT, name)
    pytest.skip("the bundled FFmpeg has no VP8/VP9 encoder")


@pytest.fixture(params=["mp4", "mkv", "avi", "webm"])
def any_clip(request: pytest.FixtureRequest) -> Clip:
    """Each container the product must accept, one at a time."""
    clip: Clip = request.getfixturevalue(f"{request.param}_clip")
    return clip


@pytest.fixture(scope="session")
def rotated_clip(video_dir: Path) -> Clip:
    """A phone-style portrait video: landscape frames plus a display matrix saying "turn 90° clockwise"."""
    path = write_video(video_dir / "rotated.mp4", codec="libx264", frames=10, rotation_ccw=-90)
    return Clip(path, 10, FPS, WIDTH, HEIGHT, "h264")


@pytest.fixture(scope="session")
def raw_h264_clip(video_dir: Path) -> Clip:
    """A raw H.264 elementary stream: no container, no timestamps, no declared duration."""
    path = write_video(video_dir / "clip.h264", codec="libx264", container_format="h264", frames=30)
    return Clip(path, 30, FPS, WIDTH, HEIGHT, "h264")


@pytest.fixture(scope="session")
def faststart_mp4(video_dir: Path) -> Clip:
    """Noisy H.264 MP4 with the index first, so a cut file still has its index; 30 frames of similar size."""
    path = write_video(video_dir / "faststart.mp4", codec="libx264", frames=30, faststart=True, noise=True)
    return Clip(path, 30, FPS, WIDTH, HEIGHT, "h264")


@pytest.fixture
def vtest_avi() -> Path:
    if not VTEST.exists():
        pytest.fail(f"{VTEST} is missing: run `make setup` first")
    return VTEST
