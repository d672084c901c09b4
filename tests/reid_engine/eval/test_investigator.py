"""The simulated investigator on a hand-built embedding set whose every ranking is known."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.eval.extract import Features
from reid_engine.eval.investigator import InvestigatorConfig, fuse_lanes, lane_order, simulate
from reid_engine.index.subject import SubjectQueryConfig, fuse


def _e(i: int, dim: int = 8) -> np.ndarray:
    v = np.zeros(dim, np.float32)
    v[i] = 1.0
    return v


# One query (identity 0, outfit 0, camera 0). Gallery: g0 the query's outfit on camera 1; g1–g3 its
# other outfit on cameras 1–3; d1 a look-alike of the query's outfit; d2–d4 other people.
GALLERY = ["g0", "g1", "g2", "g3", "d1", "d2", "d3", "d4"]
PIDS = np.array([0, 0, 0, 0, 1, 2, 3, 4])
CAMS = np.array([1, 1, 2, 3, 0, 1, 2, 3])
CLOTHES = np.array([0, 1, 1, 1, 10, 20, 30, 40])
# Appearance: the outfit decides; the other outfit (e1) shares nothing with the query (e0).
APPEARANCE = np.stack([_e(0), _e(1), _e(1), _e(1), 0.9 * _e(0) + 0.44 * _e(2),
                       *(0.3 * _e(0) + 0.95 * _e(k) for k in (3, 4, 5))])
# Identity: g1 is the one view of the other outfit that the identity lane finds.
IDENTITY = np.stack([_e(0), 0.8 * _e(0) + 0.6 * _e(1), 0.1 * _e(0) + 0.995 * _e(2),
                     0.1 * _e(0) + 0.995 * _e(3), 0.5 * _e(0) + 0.866 * _e(4),
                     *(0.05 * _e(0) + _e(k) for k in (5, 6, 7))])


def _features(gallery: np.ndarray) -> Features:
    return Features(_e(0)[None], gallery.astype(np.float32), np.array([0]), PIDS, np.array([0]), CAMS,
                    np.array([0]), CLOTHES)


def test_a_confirmed_view_of_the_other_outfit_brings_that_outfit_up_in_the_appearance_lane() -> None:
    judge = InvestigatorConfig(look=2, confirm=1, reject=1, rounds=1)
    out = simulate(_features(APPEARANCE), _features(IDENTITY), investigator=judge,
                   subject=SubjectQueryConfig(fusion="max", negative_margin=0.0))
    start, after = out["rounds"]  # type: ignore[index]
    # Round 0: nothing judged, the subject is the query. Identity lane without junk (g0 is the
    # query's clothes): g1, d1, g2, g3, … → hits at 1, 3, 4.
    ident = start["scores"]["identity"]
    assert ident["subject"] == ident["single"]
    assert ident["single"]["rank1"] == 1.0
    assert ident["single"]["mAP"] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    # Round 1: the appearance lane shows g0 (confirmed) and d1 (rejected); the identity lane then
    # g1 (confirmed) and g2 (a true hit, but one confirmation a lane is the limit).
    assert (after["confirmed"], after["confirmed_other_clothes"], after["rejected"], after["outfits"]) == (
        2.0, 1.0, 1.0, 2.0)
    app = after["scores"]["appearance"]
    # Left: g2, g3, d2–d4. The single query ranks d2–d4 (0.3) above g2, g3 (0): hits at 4 and 5.
    assert app["single"]["rank1"] == 0.0
    assert app["single"]["mAP"] == pytest.approx((1 / 4 + 2 / 5) / 2)
    # The subject's second outfit query (g1's look) puts g2 and g3 first.
    assert app["subject"]["rank1"] == 1.0
    assert app["subject"]["mAP"] == pytest.approx(1.0)
    assert app["subject"]["num_queries"] == app["single"]["num_queries"] == 1


def test_reciprocal_rank_fusion_prefers_the_query_outfits_near_misses_here() -> None:
    # With k = 60 an item first for one outfit query and last for the other (g2) loses to one first
    # and third (d2): rrf rewards agreement between the outfit queries, which the outfits lack.
    judge = InvestigatorConfig(look=2, confirm=1, reject=1, rounds=1)
    out = simulate(_features(APPEARANCE), _features(IDENTITY), investigator=judge,
                   subject=SubjectQueryConfig(fusion="rrf", rrf_k=60, negative_margin=0.0))
    assert out["rounds"][1]["scores"]["appearance"]["subject"]["rank1"] == 0.0  # type: ignore[index]


def test_the_single_query_ranking_is_the_subject_ranking_of_the_query_alone() -> None:
    rng = np.random.default_rng(0)
    gallery = rng.normal(size=(50, 6)).astype(np.float32)
    gallery /= np.linalg.norm(gallery, axis=1, keepdims=True)
    query = rng.normal(size=(1, 6)).astype(np.float32)
    items = np.arange(0, 50, 2)
    for fusion in ("rrf", "max"):
        config = SubjectQueryConfig(fusion=fusion, candidates=10)  # type: ignore[arg-type]
        order = lane_order(query, query, gallery, gallery[:0], config, items)
        expected = items[np.argsort(-(gallery[items] @ query[0]), kind="stable")]
        assert order.tolist() == expected.tolist()


def test_lane_fusion_matches_the_engines_rrf() -> None:
    a = np.array([4, 1, 3, 0, 2])
    b = np.array([3, 0, 4, 2, 1])
    expected = [i for i, _ in fuse([[(int(i), 0.0) for i in a], [(int(i), 0.0) for i in b]], rrf_k=2)]
    assert fuse_lanes([a, b], rrf_k=2).tolist() == expected


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="look"):
        InvestigatorConfig(look=0)
    with pytest.raises(ValueError, match="same items"):
        simulate(_features(APPEARANCE), _features(IDENTITY[:4]))
