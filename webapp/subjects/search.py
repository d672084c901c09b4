"""Searching with a subject: every confirmed sighting, grouped into outfits, queries each lane; the
rankings are fused; rejected sightings push look-alikes down; no judged person is shown again.

The engine's :mod:`reid_engine.index.subject` does the arithmetic; this module reads the subject's
sightings and the candidates' vectors from the database and runs each outfit query through the
index under the search's filters (:func:`webapp.search.ranking.lane_search`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

from reid_engine.config import config_from_dict
from reid_engine.types import Hit
from webapp.search.filters import SearchQuery
from webapp.search.lanes import LANES, Lane
from webapp.search.ranking import Ranker, SearchLanes, lane_search
from webapp.subjects.models import Sighting, Subject
from webapp.subjects.travel import Seen, TravelFlag, WalkingTimes, demote_implausible, travel_flag
from webapp.tracklets.models import Tracklet

if TYPE_CHECKING:
    from reid_engine.index.subject import SubjectQueryConfig

# reid_engine.index loads FAISS: it is imported inside the functions, so that a web process that
# only shows pages does not load it at start-up (as webapp.search.ranking does).


@functools.cache
def subject_query_config() -> SubjectQueryConfig:
    """The subject search's settings, from ``LONGVIEW["SUBJECT_QUERY"]`` (unknown keys refused)."""
    from reid_engine.index.subject import SubjectQueryConfig

    return config_from_dict(SubjectQueryConfig, dict(settings.LONGVIEW.get("SUBJECT_QUERY", {})))


@dataclass(frozen=True, slots=True)
class Judged:
    """A subject's decided sightings.

    Attributes:
        confirmed: tracklets confirmed, in time order.
        rejected: tracklets rejected.
    """

    confirmed: list[Tracklet]
    rejected: list[Tracklet]

    @classmethod
    def of(cls, subject: Subject) -> Judged:
        rows = Sighting.objects.filter(subject=subject).select_related("tracklet__camera").order_by(
            "tracklet__start_time", "tracklet_id"
        )
        confirmed = [s.tracklet for s in rows if s.decision == Sighting.Decision.CONFIRMED]
        rejected = [s.tracklet for s in rows if s.decision == Sighting.Decision.REJECTED]
        return cls(confirmed, rejected)

    @property
    def ids(self) -> list[int]:
        return [t.pk for t in (*self.confirmed, *self.rejected)]

    def seen(self) -> list[Seen]:
        """The confirmed sightings in place and time, for the travel-time checks."""
        return [seen_of(t.pk, t.camera_id, t.start_time, t.end_time) for t in self.confirmed]


def seen_of(tracklet: int, camera: int, start: Any, end: Any) -> Seen:
    return Seen(tracklet=tracklet, camera=camera, start=start, end=end)


def travel_note(flag: TravelFlag) -> dict[str, Any]:
    """A travel-time flag as a card or the subject page shows it."""
    return {"reason": flag.reason, "needed_s": flag.needed_s, "available_s": round(flag.available_s, 1)}


def lane_matrix(tracklets: Sequence[Tracklet], lane: Lane) -> np.ndarray:
    """The lane's vectors of those tracklets that have one, float32 (N, D) (N may be 0)."""
    rows = [np.frombuffer(bytes(blob), np.float32) for t in tracklets if (blob := getattr(t, lane.column)) is not None]
    return np.stack(rows) if rows else np.zeros((0, 0), np.float32)


def subject_outfits(confirmed: Sequence[Tracklet], config: SubjectQueryConfig | None = None) -> list[list[int]]:
    """The confirmed sightings grouped into outfits, as lists of tracklet ids (in time order)."""
    from reid_engine.index.subject import outfits

    if not confirmed:
        return []
    config = config or subject_query_config()
    groups = outfits(np.stack([t.appearance_embedding_array() for t in confirmed]), config.outfit_threshold)
    return [[confirmed[i].pk for i in g] for g in groups]


@dataclass
class SubjectRanking:
    """The lanes of one subject search, and what each ranking found out about its hits (for the cards)."""

    query: SearchQuery
    judged: Judged
    config: SubjectQueryConfig
    notes: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)

    def lanes(self) -> SearchLanes:
        rankers: dict[str, Ranker] = {lane.wire: functools.partial(self.rank, lane) for lane in LANES}
        return SearchLanes(rankers, decorate=self.decorate)

    def rank(self, lane: Lane) -> list[Hit]:
        """The lane's ``k`` best candidates for the subject.

        Each outfit's query asks the index for ``config.candidates`` hits; the rankings are fused
        (``config.fusion``); candidates nearer a rejected sighting than any confirmed one go below
        the rest. A hit's ``score`` is its best cosine similarity to any outfit query, the figure the
        cards and their calibrated confidence read.
        """
        from reid_engine.index.subject import fuse, outfit_queries, push_down_negatives

        confirmed = [t for t in self.judged.confirmed if getattr(t, lane.column) is not None]
        if not confirmed:
            return []
        by_id = {t.pk: t for t in confirmed}
        groups = [[by_id[i] for i in g if i in by_id] for g in subject_outfits(self.judged.confirmed, self.config)]
        groups = [g for g in groups if g]
        positives = lane_matrix(confirmed, lane)
        index_of = {t.pk: n for n, t in enumerate(confirmed)}
        queries = outfit_queries(positives, [[index_of[t.pk] for t in g] for g in groups])
        wanted = max(self.query.k, self.config.candidates)
        rankings = [
            [(h.item_id, h.score) for h in lane_search(q, self.query.filters, wanted, lane=lane,
                                                         exclude=self.judged.ids)]
            for q in queries
        ]
        fused = fuse(rankings, method=self.config.fusion, rrf_k=self.config.rrf_k)
        best = dict(fuse(rankings, method="max"))
        ids = [item for item, _ in fused]
        negatives = lane_matrix(self.judged.rejected, lane)
        order, pushed = ids, set[int]()
        if ids and len(negatives):
            stored = dict(Tracklet.objects.filter(pk__in=ids).values_list("pk", lane.column))
            ids = [i for i in ids if stored.get(i) is not None]
            vectors = np.stack([np.frombuffer(bytes(stored[i]), np.float32) for i in ids])
            order, pushed = push_down_negatives(
                ids, vectors, positives, negatives, margin=self.config.negative_margin, floor=self.config.negative_floor
            )
        notes: dict[int, dict[str, Any]] = {i: {"like_rejected": True} for i in pushed}
        flags = self.travel_flags(order)
        for i, flag in flags.items():
            notes.setdefault(i, {})["travel"] = travel_note(flag)
        self.notes[lane.wire] = notes
        order = demote_implausible(order, flags)
        return [Hit(item_id=i, score=float(best[i]), rank=r) for r, i in enumerate(order[: self.query.k])]

    def travel_flags(self, candidates: list[int]) -> dict[int, TravelFlag]:
        """The candidates the subject could not have been: at two places at once, or faster than
        walking from (or to) the confirmed sighting next to them in time."""
        if not candidates or not self.judged.confirmed:
            return {}
        rows = list(Tracklet.objects.filter(pk__in=candidates).values_list("pk", "camera_id", "start_time", "end_time"))
        cameras = {r[1] for r in rows} | {t.camera_id for t in self.judged.confirmed}
        walking = WalkingTimes.from_database(cameras)
        confirmed = self.judged.seen()
        flags = {}
        for pk, camera, start, end in rows:
            flag = travel_flag(seen_of(pk, camera, start, end), confirmed, walking)
            if flag is not None:
                flags[pk] = flag
        return flags

    def decorate(self, lane: str, cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
        notes = self.notes.get(lane, {})
        return [{**card, **notes.get(card["tracklet"], {})} for card in cards]


def subject_lanes(subject: Subject, query: SearchQuery) -> SearchLanes:
    """The lanes of a search with ``subject``'s sightings, under ``query``'s filters and ``k``."""
    return SubjectRanking(query, Judged.of(subject), subject_query_config()).lanes()
