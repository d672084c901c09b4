"""The rankers of a search's lanes: the embedding lanes through the index (and their second pass),
the attributes lane through the database."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

from reid_engine.attributes.schema import SCHEMA
from reid_engine.config import config_from_dict
from reid_engine.types import Hit
from webapp.search.filters import SearchFilters, SearchQuery
from webapp.search.lanes import ATTRIBUTE_LANE, LANES, Lane
from webapp.search.selectors import attribute_ranking, hit_cards, search_plan
from webapp.tracklets.models import Tracklet

if TYPE_CHECKING:
    from reid_engine.index.refine import RefineConfig

Ranker = Callable[[], list[Hit]]
Refiner = Callable[[list[Hit]], list[Hit]]
# Adds what a lane's ranking knows about its hits to their cards (lane wire name, cards) → cards.
Decorator = Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class QueryVectors:
    """The query's vector in each embedding lane.

    Attributes:
        appearance: float32 (dim,), L2-normalised.
        identity: float32 (dim',), L2-normalised, or None when there is no identity model's vector.
    """

    appearance: np.ndarray
    identity: np.ndarray | None

    @classmethod
    def of_tracklet(cls, tracklet: Tracklet) -> QueryVectors:
        return cls(appearance=tracklet.appearance_embedding_array(), identity=tracklet.identity_embedding_array())

    def of(self, lane: Lane) -> np.ndarray | None:
        return self.identity if lane.name == "identity" else self.appearance


@dataclass(frozen=True, slots=True)
class SearchLanes:
    """What a search runs: a ranker per lane (wire name, in streaming order), when the search
    asked for one a second pass per lane, and what to add to the cards (after the ranker ran)."""

    rankers: dict[str, Ranker]
    refiners: dict[str, Refiner] = dataclasses.field(default_factory=dict)
    decorate: Decorator | None = None

    def cards(self, hits: list[Hit], lane: str) -> list[dict[str, Any]]:
        """The result cards of a lane's hits, decorated."""
        cards = hit_cards(hits, lane=lane)
        return cards if self.decorate is None else self.decorate(lane, cards)


def embedding_lanes(
    vectors: QueryVectors, filters: SearchFilters, k: int, *, exclude: list[int], refine: bool
) -> SearchLanes:
    """Both embedding lanes of a query's vectors; a lane without a vector ranks nobody."""
    rankers: dict[str, Ranker] = {}
    refiners: dict[str, Refiner] = {}
    for lane in LANES:
        vector = vectors.of(lane)
        if vector is None:
            rankers[lane.wire] = list
            continue
        rankers[lane.wire] = functools.partial(lane_search, vector, filters, k, lane=lane, exclude=exclude)
        if refine:
            refiners[lane.wire] = functools.partial(lane_refine, vector, filters, k, lane=lane, exclude=exclude)
    return SearchLanes(rankers, refiners)


def query_lanes(query: SearchQuery, tracklet: Tracklet | None) -> SearchLanes:
    """The lanes of a person search (``tracklet``) or a search by description (``tracklet`` None)."""
    if tracklet is None:
        return SearchLanes({ATTRIBUTE_LANE: lambda: attribute_ranking(query.attributes, query.filters, query.k)})
    return embedding_lanes(
        QueryVectors.of_tracklet(tracklet), query.filters, query.k, exclude=[tracklet.pk], refine=query.refine
    )


def lane_filters(filters: SearchFilters, lane: Lane) -> SearchFilters:
    """The filters a lane applies: the identity lane drops conditions on mutable attributes (a
    witness's "red top" says nothing about what the person wore elsewhere) and keeps stable ones."""
    if not lane.relaxes_mutable:
        return filters
    return dataclasses.replace(filters, attributes=tuple(c for c in filters.attributes if SCHEMA[c.attribute].stable))


def lane_search(vector: np.ndarray, filters: SearchFilters, k: int, *, lane: Lane, exclude: list[int]) -> list[Hit]:
    """The ``k`` best hits of one lane's vector under the lane's filters. The lanes rank
    independently: a person can appear in both."""
    # The index module loads FAISS: imported here so that a web process that never searches by
    # vector (pages, uploads) does not load it at start-up.
    from webapp.search.index import index_search, shard_fingerprints

    fingerprints = shard_fingerprints(lane)
    plan = search_plan(lane_filters(filters, lane), shards=fingerprints.keys())
    return index_search(vector, k, exclude=exclude, plan=plan, fingerprints=fingerprints, lane=lane)


def lane_refine(
    vector: np.ndarray, filters: SearchFilters, k: int, first: list[Hit], *, lane: Lane, exclude: list[int]
) -> list[Hit]:
    """A lane's second pass: query expansion and k-reciprocal re-ranking over its best candidates.

    The candidates are the lane's first ``candidates`` hits under the same filters (so every refined
    hit passes them too), their vectors read from the database.
    """
    # reid_engine.index loads FAISS: see lane_search.
    from reid_engine.index.refine import refine_ranking

    config = refine_config()
    wanted = max(k, config.candidates)
    candidates = first if len(first) >= wanted else lane_search(vector, filters, wanted, lane=lane, exclude=exclude)
    stored = dict(Tracklet.objects.filter(pk__in=[h.item_id for h in candidates]).values_list("pk", lane.column))
    kept = [h for h in candidates if stored.get(h.item_id) is not None]
    if not kept:
        return []
    ids = np.asarray([h.item_id for h in kept], dtype=np.int64)
    matrix = np.stack([np.frombuffer(bytes(stored[h.item_id]), dtype=np.float32) for h in kept])
    ranked, scores = refine_ranking(vector, ids, matrix, k, config)
    return [Hit(item_id=int(i), score=float(s), rank=r) for r, (i, s) in enumerate(zip(ranked, scores, strict=True))]


@functools.cache
def refine_config() -> RefineConfig:
    """The second pass's settings, from ``LONGVIEW["SEARCH_REFINE"]`` through the engine's typed
    loader (defaults for missing keys, unknown keys refused)."""
    # reid_engine.index loads FAISS: see lane_search.
    from reid_engine.index.refine import RefineConfig

    return config_from_dict(RefineConfig, dict(settings.LONGVIEW.get("SEARCH_REFINE", {})))
