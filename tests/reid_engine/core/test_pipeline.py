"""The ingest pipeline end to end on real footage with the default (MoveNet) detector."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from reid_engine.config import load_config
from reid_engine.pipeline import PipelineConfig, build_pipeline, crop_quality
from reid_engine.types import PartialResult, Progress
from reid_engine.video import iter_frames

pytestmark = pytest.mark.slow


def test_pipeline_finds_tracks_with_keypoints_and_writes_a_playable_review_video(
    clip_factory: Callable[..., Path], data_dir: Path, tmp_path: Path
) -> None:
    import torch

    torch.set_num_threads(1)
    config = load_config(PipelineConfig, None, ["sample_fps=3"])
    pipeline = build_pipeline(config, data_dir=data_dir)
    assert pipeline.detector.name.startswith("movenet")
    reports: list[Progress] = []
    proxy = tmp_path / "review.mp4"
    result = pipeline.run(clip_factory(0.0, 6.0), progress=reports.append, proxy_path=proxy)
    assert len(result.tracklets) >= 3
    fractions = [p.fraction for p in reports]
    assert fractions == sorted(fractions)
    assert reports[-1].stage == "done"
    # Both search lanes get a vector: appearance, and the shipped clothes-invariant model's.
    assert result.identity_embedder is not None
    assert result.identity_embedder.startswith("reid-")
    for e in result.tracklets:
        assert np.linalg.norm(e.embedding) == pytest.approx(1.0, abs=1e-4)
        assert e.identity_embedding is not None
        assert e.identity_embedding.shape == (pipeline.identity_embedder.dim,)
        assert np.linalg.norm(e.identity_embedding) == pytest.approx(1.0, abs=1e-4)
        crop = e.tracklet.best_crops[0]
        assert crop.keypoints is not None
        assert crop.keypoints.shape == (17, 3)
        visible = crop.keypoints[crop.keypoints[:, 2] > 0.3]
        h, w = crop.image.shape[:2]
        # Keypoints were moved into crop coordinates.
        assert (visible[:, 0] > -0.1 * w).all()
        assert (visible[:, 0] < 1.1 * w).all()
        assert (visible[:, 1] > -0.1 * h).all()
        assert (visible[:, 1] < 1.1 * h).all()
        qualities = [c.quality for c in e.tracklet.best_crops]
        assert qualities == sorted(qualities, reverse=True)
    frames = list(iter_frames(proxy))
    assert len(frames) == result.frames_decoded
    assert frames[-1].pts_s == pytest.approx(result.tracklets[-1].tracklet.timestamps_s.max(), abs=0.5)


def test_tracklets_whose_tracks_ended_are_handed_over_mid_run_and_the_result_agrees(
    clip_factory: Callable[..., Path], data_dir: Path
) -> None:
    import torch

    torch.set_num_threads(1)
    config = load_config(PipelineConfig, None, ["sample_fps=3", "partial_every_s=2"])
    pipeline = build_pipeline(config, data_dir=data_dir)
    partials: list[PartialResult] = []
    result = pipeline.run(clip_factory(0.0, 12.0), on_partial=partials.append)

    assert partials, "no tracklet was handed over before the end of the video"
    handed = [e for p in partials for e in p.tracklets]
    ids = [e.tracklet.track_id for e in handed]
    assert len(ids) == len(set(ids)), "a tracklet was handed over twice"
    for p in partials:
        assert p.analysed_s < result.video.duration_s
        assert p.embedder == result.embedder
        assert p.identity_embedder == result.identity_embedder
        for e in p.tracklets:
            # Handed over only once the tracker let go of it, so the track ended before that point.
            assert e.tracklet.end_s < p.analysed_s
            assert e.identity_embedding is not None

    final = {e.tracklet.track_id: e for e in result.tracklets}
    unchanged = 0
    for e in handed:
        t = e.tracklet
        if t.track_id in final and np.array_equal(final[t.track_id].tracklet.frame_indices, t.frame_indices):
            # Nothing joined it at the end: the stored vectors stay valid, bit for bit.
            mine = final[t.track_id]
            assert np.array_equal(mine.embedding, e.embedding)
            assert mine.identity_embedding is not None
            assert e.identity_embedding is not None
            assert np.array_equal(mine.identity_embedding, e.identity_embedding)
            assert mine.attributes == e.attributes
            unchanged += 1
        else:
            # Re-linking at the end joined it with another track of the same person.
            assert any(np.isin(t.frame_indices, f.tracklet.frame_indices).all() for f in result.tracklets)
    assert unchanged >= 1


def test_crop_quality_prefers_complete_keypoints() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)
    box = np.array([50, 20, 150, 280], np.float32)
    full = np.ones((17, 3), np.float32)
    half = full.copy()
    half[8:, 2] = 0.0
    q_full = crop_quality(image, box, 0.9, min_height=32, keypoints=full)
    q_half = crop_quality(image, box, 0.9, min_height=32, keypoints=half)
    q_none = crop_quality(image, box, 0.9, min_height=32)
    assert q_none == pytest.approx(q_full)
    assert q_half < q_full
    assert crop_quality(image, np.array([0, 0, 10, 20], np.float32), 0.9, min_height=32) == 0.0
