"""Searching with a subject's sightings: outfits, one query per outfit, fusion and negatives."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.index.subject import SubjectQueryConfig, fuse, outfit_queries, outfits, push_down_negatives


def _rows(*rows: tuple[float, ...]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32)


def test_outfits_split_two_clear_clusters_whatever_the_order() -> None:
    red = (1.0, 0.0, 0.0)
    grey = (0.0, 1.0, 0.0)
    # Rows 0, 2, 3 wear red (a little apart), rows 1 and 4 grey; lengths do not matter.
    x = _rows(red, grey, (0.95, 0.05, 0.1), (2.0, 0.1, 0.0), (0.0, 3.0, 0.2))
    assert outfits(x, threshold=0.7) == [[0, 2, 3], [1, 4]]


def test_outfits_link_groups_by_their_average_similarity() -> None:
    # a·b = 0.8, b·c = 0.6, a·c = 0: {a, b} merge first; {a, b}–c links at (0 + 0.6) / 2 = 0.3.
    x = _rows((1.0, 0.0, 0.0), (0.8, 0.6, 0.0), (0.0, 1.0, 0.0))
    assert outfits(x, threshold=0.5) == [[0, 1], [2]]  # single linkage (0.6) would merge c too
    assert outfits(x, threshold=0.25) == [[0, 1, 2]]
    assert outfits(x, threshold=0.9) == [[0], [1], [2]]
    assert outfits(x, threshold=-1.0) == [[0, 1, 2]]


def test_outfits_of_nothing_and_of_one_sighting() -> None:
    assert outfits(np.zeros((0, 4), np.float32)) == []
    assert outfits(_rows((0.0, 2.0))) == [[0]]


def test_outfit_queries_are_unit_means_of_unit_rows() -> None:
    x = _rows((2.0, 0.0), (0.0, 5.0), (0.0, 1.0))
    q = outfit_queries(x, [[0, 1], [2]])
    assert q.shape == (2, 2)
    assert q[0] == pytest.approx([2**-0.5, 2**-0.5], abs=1e-6)  # each row counts once, whatever its norm
    assert q[1] == pytest.approx([0.0, 1.0], abs=1e-6)
    assert outfit_queries(x, []).shape == (0, 2)


def test_rrf_rewards_agreement_and_max_the_best_single_score() -> None:
    first = [(1, 0.9), (2, 0.8), (3, 0.7)]
    second = [(3, 0.95), (1, 0.5)]
    # rrf_k 1: item 1 = 1/2 + 1/3, item 3 = 1/4 + 1/2, item 2 = 1/3.
    rrf = fuse([first, second], method="rrf", rrf_k=1)
    assert [i for i, _ in rrf] == [1, 3, 2]
    assert [s for _, s in rrf] == pytest.approx([1 / 2 + 1 / 3, 1 / 4 + 1 / 2, 1 / 3])
    assert fuse([first, second], method="max") == [(3, 0.95), (1, 0.9), (2, 0.8)]


def test_fusion_breaks_ties_by_the_lower_id_and_fuses_nothing_to_nothing() -> None:
    assert fuse([[(5, 0.5)], [(4, 0.5)]], method="max") == [(4, 0.5), (5, 0.5)]
    assert [i for i, _ in fuse([[(5, 0.5)], [(4, 0.5)]], method="rrf")] == [4, 5]
    assert fuse([], method="rrf") == []
    assert fuse([[], []], method="max") == []


def test_negatives_look_alikes_go_below_the_rest_each_part_in_order() -> None:
    positives = _rows((1.0, 0.0))
    negatives = _rows((0.0, 1.0))
    ranked = [13, 10, 12, 11]
    vectors = _rows((0.1, 1.0), (1.0, 0.2), (0.2, 1.0), (1.0, 0.0))  # 13 and 12 look like the negative
    order, pushed = push_down_negatives(ranked, vectors, positives, negatives)
    assert order == [10, 11, 13, 12]
    assert pushed == {13, 12}


def test_margin_keeps_candidates_only_a_little_nearer_to_a_negative() -> None:
    positives = _rows((1.0, 0.0))
    negatives = _rows((0.0, 1.0))
    between = np.asarray([[0.6, 0.8]], np.float32)  # cosine 0.6 to the positive, 0.8 to the negative
    assert push_down_negatives([7], between, positives, negatives, margin=0.0) == ([7], {7})
    assert push_down_negatives([7], between, positives, negatives, margin=0.3) == ([7], set())
    order, pushed = push_down_negatives([7, 8], _rows((0.6, 0.8), (1.0, 0.0)), positives, negatives, margin=0.1)
    assert (order, pushed) == ([8, 7], {7})


def test_negatives_with_nothing_to_move() -> None:
    vectors = _rows((1.0, 0.0), (0.0, 1.0))
    assert push_down_negatives([1, 2], vectors, vectors[:1], np.zeros((0, 2), np.float32)) == ([1, 2], set())
    assert push_down_negatives([], np.zeros((0, 2), np.float32), vectors, vectors) == ([], set())
    # No confirmed sighting: anything like a rejected one goes down.
    order, pushed = push_down_negatives([1, 2], vectors, np.zeros((0, 2), np.float32), vectors[1:])
    assert (order, pushed) == ([1, 2], {1, 2})


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="outfit_threshold"):
        SubjectQueryConfig(outfit_threshold=1.5)
    with pytest.raises(ValueError, match="fusion"):
        SubjectQueryConfig(fusion="mean")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rrf_k"):
        SubjectQueryConfig(rrf_k=0)
