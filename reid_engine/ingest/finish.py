"""From tracks to embedded tracklets: embedding kept crops, re-linking broken tracks, and finishing
each track (edges, gaps, thumbnail, colours, vectors)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np

from reid_engine.attributes.tracklet import colour_attributes
from reid_engine.embed import Embedder
from reid_engine.ingest.config import PipelineConfig
from reid_engine.ingest.crops import TrackAccumulator, merge_accumulators, track_embedding
from reid_engine.ingest.state import RunState
from reid_engine.ingest.thumbnails import make_thumbnail
from reid_engine.track import complete_at_edges, fill_gaps, relink_tracks
from reid_engine.types import EmbeddedTracklet, Tracklet

logger = logging.getLogger(__name__)


def embed_crops(accs: Iterable[TrackAccumulator], embedder: Embedder, *, cache: dict[int, np.ndarray]) -> None:
    """Embed every kept crop not in ``cache`` yet, into it, keyed by :attr:`BestCrop.key`."""
    items = [item for acc in accs for item in acc.best if item.key not in cache]
    if not items:
        return
    vectors = embedder.embed([item.crop.image for item in items])
    cache.update({item.key: vector for item, vector in zip(items, vectors, strict=True)})


def relink(
    candidates: list[tuple[int, TrackAccumulator]], vectors: dict[int, np.ndarray], config: PipelineConfig
) -> list[tuple[int, TrackAccumulator]]:
    """Merge the tracks that re-linking chains together into one, under the first one's id."""
    cfg = config.tracker.relink
    if not cfg.enabled or len(candidates) < 2:
        return candidates
    paths = [tracklet_of(track_id, acc) for track_id, acc in candidates]
    embeddings = [track_embedding(acc, vectors) for _, acc in candidates]
    out = []
    for chain in relink_tracks(paths, embeddings, cfg):
        if len(chain) > 1:
            logger.debug("re-linked tracks %s", [candidates[i][0] for i in chain])
        merged = merge_accumulators([candidates[i][1] for i in chain], config.best_k)
        out.append((candidates[chain[0]][0], merged))
    return out


def finish_tracks(
    tracks: list[tuple[int, TrackAccumulator]],
    run: RunState,
    config: PipelineConfig,
    *,
    identity: dict[int, np.ndarray] | None,
) -> list[EmbeddedTracklet]:
    """The embedded tracklets of the tracks seen long enough, by start time.

    Args:
        tracks: (track id, what it gathered), their crops embedded into ``run.vectors``.
        run: the run's state.
        config: the pipeline configuration.
        identity: clothes-invariant vectors of the crops, or None when that lane is off.
    """
    sampled_frames = np.asarray([f for f, _ in run.sampled], dtype=np.int64)
    sampled_times = np.asarray([t for _, t in run.sampled], dtype=np.float64)
    out = []
    for track_id, acc in tracks:
        if len(acc.frame_indices) < config.min_track_frames:
            continue
        tracklet = tracklet_of(track_id, acc)
        if config.tracker.complete_at_edges:
            tracklet = complete_at_edges(tracklet, width=run.width, height=run.height)
        if config.tracker.max_gap_s > 0:
            tracklet = fill_gaps(
                tracklet,
                sampled_frames=sampled_frames,
                sampled_times=sampled_times,
                max_gap_s=config.tracker.max_gap_s,
            )
        out.append(
            EmbeddedTracklet(
                tracklet=tracklet,
                embedding=track_embedding(acc, run.vectors),
                thumbnail=make_thumbnail(tracklet.best_crops[0].image, config.thumbnail_height),
                attributes=colour_attributes(tracklet.best_crops) if config.colour_names else {},
                identity_embedding=track_embedding(acc, identity) if identity is not None else None,
            )
        )
    out.sort(key=lambda e: (e.tracklet.start_s, e.tracklet.track_id))
    return out


def tracklet_of(track_id: int, acc: TrackAccumulator) -> Tracklet:
    """The track's rows in frame order, with its best crops."""
    order = np.argsort(np.asarray(acc.frame_indices, dtype=np.int64), kind="stable")
    return Tracklet(
        track_id=track_id,
        frame_indices=np.asarray(acc.frame_indices, dtype=np.int64)[order],
        timestamps_s=np.asarray(acc.timestamps, dtype=np.float64)[order],
        boxes_xyxy=np.stack(acc.boxes).astype(np.float32)[order],
        scores=np.asarray(acc.scores, dtype=np.float32)[order],
        best_crops=acc.best_first(),
    )
