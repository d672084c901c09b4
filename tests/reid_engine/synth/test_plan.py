"""Plans: identity splits, camera visits and the PRCC-/LTCC-like query/gallery rules."""

from __future__ import annotations

import collections

import pytest

from reid_engine.synth.plan import make_plan, split_items

YAWS = ((0.0,), (90.0,), (45.0,), (180.0,))


def _plan(protocol: str, cameras: int, seed: int = 0):  # type: ignore[no-untyped-def]
    return make_plan(
        seed=seed,
        num_ids=12,
        outfits=3,
        cameras=cameras,
        cams_per_outfit=2,
        single_outfit_fraction=0.25,
        train_fraction=0.5,
        protocol=protocol,  # type: ignore[arg-type]
        camera_yaws=YAWS[:cameras],
    )


def test_ltcc_plan_has_disjoint_splits_single_outfit_ids_and_one_query_per_id_and_camera() -> None:
    plan = _plan("ltcc", 4)
    assert len(plan.train_pids) == 6
    outfit_counts = [len(o) for o in plan.population.outfits]
    assert outfit_counts.count(1) == 3
    items = [v.index for v in plan.visits for _ in range(3)]
    splits = split_items(plan, items, seed=0)
    per_key = collections.Counter(
        (plan.visits[v].pid, plan.visits[v].camid) for v, s in zip(items, splits, strict=True) if s == "query"
    )
    assert set(per_key.values()) == {1}
    for v, s in zip(items, splits, strict=True):
        assert (s == "train") == (plan.visits[v].pid in plan.train_pids)


def test_prcc_plan_puts_same_clothes_in_cameras_a_and_b_and_other_clothes_in_c() -> None:
    plan = _plan("prcc", 3)
    by_pid = collections.defaultdict(dict)
    for v in plan.visits:
        by_pid[v.pid][v.camid] = v.clothes_id
    for cams in by_pid.values():
        assert set(cams) == {0, 1, 2}
        assert cams[0] == cams[1] != cams[2]
    items = [v.index for v in plan.visits]
    for v, s in zip(items, split_items(plan, items, seed=0), strict=True):
        visit = plan.visits[v]
        if visit.pid not in plan.train_pids:
            assert s == ("gallery" if visit.camid == 0 else "query")


def test_plans_depend_only_on_the_seed() -> None:
    assert _plan("ltcc", 4, seed=3).visits == _plan("ltcc", 4, seed=3).visits
    assert _plan("ltcc", 4, seed=3).visits != _plan("ltcc", 4, seed=4).visits


def test_prcc_needs_three_cameras() -> None:
    with pytest.raises(ValueError, match="3 cameras"):
        _plan("prcc", 4)
