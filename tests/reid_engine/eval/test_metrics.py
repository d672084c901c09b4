"""CMC/mAP on tiny distance matrices worked out by hand, including junk removal per protocol."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.eval import cosine_distance, evaluate


def test_general_protocol_removes_same_camera_matches_and_scores_ap_by_hand() -> None:
    # Ranked gallery: g0 (same id, same cam: junk), g1 wrong, g2 right, g3 wrong, g4 right.
    dist = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    res = evaluate(
        dist,
        np.array([1]),
        np.array([1, 2, 1, 3, 1]),
        np.array([0]),
        np.array([0, 1, 1, 1, 2]),
    )
    # After removing g0 the right matches sit at ranks 2 and 4: AP = (1/2 + 2/4) / 2.
    assert res.rank(1) == 0.0
    assert res.rank(2) == 1.0
    assert res.mAP == pytest.approx(0.5)
    assert res.num_queries == 1
    assert res.num_skipped == 0
    assert res.cmc.shape == (5,)


# Query 0: id 1, cam 0, clothes 10. Query 1: id 2, cam 0, clothes 20.
# Gallery: g0 id1 cam1 c10 | g1 id2 cam1 c20 | g2 id1 cam2 c11 | g3 id1 cam0 c11
Q_PIDS, Q_CAMS, Q_CLOTHES = np.array([1, 2]), np.array([0, 0]), np.array([10, 20])
G_PIDS, G_CAMS, G_CLOTHES = np.array([1, 2, 1, 1]), np.array([1, 1, 2, 0]), np.array([10, 20, 11, 11])
DIST = np.array(
    [
        [0.10, 0.20, 0.30, 0.05],
        [0.30, 0.40, 0.10, 0.20],
    ]
)


def _run(protocol: str):  # type: ignore[no-untyped-def]
    return evaluate(
        DIST,
        Q_PIDS,
        G_PIDS,
        Q_CAMS,
        G_CAMS,
        Q_CLOTHES,
        G_CLOTHES,
        protocol=protocol,  # type: ignore[arg-type]
    )


def test_clothes_changing_protocol_counts_only_other_clothes_and_skips_queries_without_one() -> None:
    res = _run("cc")
    # Query 0: g3 (same cam) and g0 (same clothes) are junk; kept ranking g1, g2 -> right match at rank 2.
    # Query 1: its only match g1 wears the same clothes -> junk -> skipped.
    assert res.num_queries == 1
    assert res.num_skipped == 1
    assert res.rank(1) == 0.0
    assert res.rank(2) == 1.0
    assert res.mAP == pytest.approx(0.5)


def test_same_clothes_protocol_treats_other_clothes_as_junk() -> None:
    res = _run("sc")
    # Query 0: junk g3 (same cam) and g2 (other clothes); kept g0, g1 -> right at rank 1, AP 1.
    # Query 1: ranking g2, g3, g0, g1 -> right g1 at rank 4, AP 1/4.
    assert res.num_queries == 2
    assert res.num_skipped == 0
    assert res.rank(1) == pytest.approx(0.5)
    assert res.rank(4) == pytest.approx(1.0)
    assert res.mAP == pytest.approx((1.0 + 0.25) / 2)


def test_general_protocol_keeps_both_clothes_as_right_matches() -> None:
    res = _run("general")
    # Query 0: junk g3; kept g0, g1, g2 -> right at ranks 1 and 3: AP = (1 + 2/3) / 2.
    # Query 1: right g1 at rank 4 of g2, g3, g0, g1: AP 1/4.
    assert res.rank(1) == pytest.approx(0.5)
    assert res.mAP == pytest.approx(((1 + 2 / 3) / 2 + 0.25) / 2)
    assert res.summary()["rank1"] == pytest.approx(0.5)


def test_all_queries_skipped_gives_zero_scores_not_nan() -> None:
    res = evaluate(np.array([[0.1]]), np.array([1]), np.array([1]), np.array([0]), np.array([0]))
    assert res.num_queries == 0
    assert res.num_skipped == 1
    assert res.mAP == 0.0
    assert not np.isnan(res.cmc).any()


def test_bad_input_raises_value_error() -> None:
    with pytest.raises(ValueError, match="clothes"):
        evaluate(DIST, Q_PIDS, G_PIDS, Q_CAMS, G_CAMS, protocol="cc")
    with pytest.raises(ValueError, match="protocol"):
        evaluate(DIST, Q_PIDS, G_PIDS, Q_CAMS, G_CAMS, protocol="xx")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="row"):
        evaluate(DIST, Q_PIDS[:1], G_PIDS, Q_CAMS[:1], G_CAMS)


def test_cosine_distance_is_zero_for_parallel_and_one_for_orthogonal_vectors() -> None:
    d = cosine_distance(np.array([[2.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 3.0]]))
    assert d.dtype == np.float32
    np.testing.assert_allclose(d, [[0.0, 1.0]], atol=1e-6)
