"""Travel-time plausibility: hand-built timelines against known walking times, and the walking times
a deployment's cameras give (entered, from latitude/longitude, from a scaled site plan)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from webapp.cameras.models import Camera, SitePlan, WalkingTime
from webapp.subjects.travel import (
    Place,
    Seen,
    TravelFlag,
    WalkingTimes,
    demote_implausible,
    haversine_m,
    human_duration,
    timeline_flags,
    travel_flag,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
GATE_A, GATE_B, HALL, LANE = 1, 2, 3, 4
NAMES = {GATE_A: "Gate A", GATE_B: "Gate B", HALL: "Hall", LANE: "Lane"}


def seen(tracklet: int, camera: int, start_s: float, end_s: float) -> Seen:
    return Seen(tracklet, camera, T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s))


def reason_of(flag: TravelFlag | None) -> str | None:
    return None if flag is None else flag.reason


def walking(known: dict[tuple[int, int], float], **kwargs: Any) -> WalkingTimes:
    return WalkingTimes(known, names=NAMES, **kwargs)


# ---- durations ----

@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (4.5, "4.5 s"), (40, "40 s"), (59.4, "59 s"), (60, "1 min"), (90, "1 min 30 s"),
    (240, "4 min"), (599.4, "9 min 59 s"), (599.6, "10 min"), (1500, "25 min"), (3599, "1 h"),
    (3900, "1 h 5 min"), (7200, "2 h"),
])
def test_durations_read_as_people_say_them(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


# ---- the checks ----

def test_a_plausible_move_is_not_flagged() -> None:
    times = walking({(GATE_A, GATE_B): 240})
    confirmed = [seen(1, GATE_A, 0, 20)]
    assert travel_flag(seen(2, GATE_B, 20 + 240, 300), confirmed, times) is None
    assert travel_flag(seen(2, GATE_B, 20 + 600, 700), confirmed, times) is None


def test_a_move_faster_than_walking_is_flagged_with_the_times() -> None:
    times = walking({(GATE_A, GATE_B): 240})
    confirmed = [seen(1, GATE_A, 0, 20)]
    flag = travel_flag(seen(2, GATE_B, 60, 80), confirmed, times)
    assert flag == TravelFlag(tracklet=2, reason="needs 4 min from Gate A, 40 s available", needed_s=240.0,
                              available_s=40.0)


def test_a_candidate_before_a_confirmed_sighting_is_too_fast_to_it() -> None:
    times = walking({(GATE_A, GATE_B): 3900})
    confirmed = [seen(1, GATE_A, 1000, 1020)]
    flag = travel_flag(seen(2, GATE_B, 0, 100), confirmed, times)
    assert flag is not None
    assert flag.reason == "needs 1 h 5 min to Gate A, 15 min available"
    assert (flag.needed_s, flag.available_s) == (3900.0, 900.0)


def test_the_walking_time_applies_either_way() -> None:
    times = walking({(GATE_B, GATE_A): 240})
    assert times.between(GATE_A, GATE_B) == times.between(GATE_B, GATE_A) == 240.0
    assert times.between(GATE_A, GATE_A) == 0.0


def test_two_places_at_once_is_flagged_even_for_neighbouring_cameras() -> None:
    times = walking({(GATE_A, GATE_B): 5})
    confirmed = [seen(1, GATE_A, 0, 30)]
    flag = travel_flag(seen(2, GATE_B, 10, 40), confirmed, times)
    assert flag == TravelFlag(2, "at Gate A at the same time", 5.0, 0.0)


def test_cameras_whose_views_overlap_may_see_the_person_at_once() -> None:
    times = walking({(GATE_A, GATE_B): 0})
    assert travel_flag(seen(2, GATE_B, 10, 40), [seen(1, GATE_A, 0, 30)], times) is None


def test_the_same_camera_never_conflicts() -> None:
    times = walking({})
    confirmed = [seen(1, HALL, 0, 30)]
    assert travel_flag(seen(2, HALL, 10, 40), confirmed, times) is None  # overlapping
    assert travel_flag(seen(3, HALL, 31, 40), confirmed, times) is None  # just after


def test_an_unknown_walking_time_leaves_only_the_same_time_check() -> None:
    times = walking({})  # no entered times, no positions
    confirmed = [seen(1, GATE_A, 0, 20)]
    assert times.between(GATE_A, LANE) is None
    assert travel_flag(seen(2, LANE, 21, 30), confirmed, times) is None
    flag = travel_flag(seen(3, LANE, 10, 30), confirmed, times)
    assert flag == TravelFlag(3, "at Gate A at the same time", None, 0.0)


def test_only_the_nearest_confirmed_sightings_in_time_count() -> None:
    # Gate A is an hour's walk from the hall, Gate B half a minute; the person was confirmed at
    # Gate A at 9:00 and at Gate B at 9:05. A hall sighting at 9:06 fits: they came from Gate B.
    times = walking({(GATE_A, HALL): 3600, (GATE_B, HALL): 30, (GATE_A, GATE_B): 240})
    confirmed = [seen(1, GATE_A, 0, 20), seen(2, GATE_B, 300, 320)]
    assert travel_flag(seen(3, HALL, 360, 380), confirmed, times) is None
    # Without the Gate B sighting, the same candidate is an hour's walk away from Gate A.
    flag = travel_flag(seen(3, HALL, 360, 380), confirmed[:1], times)
    assert reason_of(flag) == "needs 1 h from Gate A, 5 min 40 s available"
    # And on the other side: a hall sighting before Gate B (9:04) fits; Gate A at 9:00 is then
    # the previous one, and it is too far.
    flag = travel_flag(seen(3, HALL, 200, 210), confirmed, times)
    assert reason_of(flag) == "needs 1 h from Gate A, 3 min available"


def test_the_previous_sighting_is_the_one_that_ended_last() -> None:
    # A long sighting at Gate B ends after a short one at Gate A started and ended: the person
    # was last seen at Gate B.
    times = walking({(GATE_A, HALL): 3600, (GATE_B, HALL): 30})
    confirmed = [seen(1, GATE_B, 0, 500), seen(2, GATE_A, 100, 110)]
    assert travel_flag(seen(3, HALL, 540, 560), confirmed, times) is None


def test_a_candidate_already_confirmed_is_not_compared_with_itself() -> None:
    times = walking({(GATE_A, GATE_B): 240})
    confirmed = [seen(1, GATE_A, 0, 20)]
    assert travel_flag(seen(1, GATE_A, 0, 20), confirmed, times) is None


def test_the_timeline_flags_both_sightings_of_a_conflict() -> None:
    times = walking({(GATE_A, GATE_B): 240, (GATE_B, HALL): 30, (GATE_A, HALL): 200})
    confirmed = [seen(1, GATE_A, 0, 20), seen(2, GATE_B, 60, 80), seen(3, HALL, 500, 520)]
    flags = timeline_flags(confirmed, times)
    assert set(flags) == {1, 2}
    assert flags[1].reason == "needs 4 min to Gate B, 40 s available"
    assert flags[2].reason == "needs 4 min from Gate A, 40 s available"


def test_demotion_moves_flagged_candidates_last_keeping_each_part_in_order() -> None:
    flag = TravelFlag(0, "x", None, 0.0)
    ranked = [5, 3, 9, 1, 7, 2]
    assert demote_implausible(ranked, {3: flag, 1: flag, 8: flag}) == [5, 9, 7, 2, 3, 1]
    assert demote_implausible(ranked, {}) == ranked


def test_bad_walking_times_are_refused() -> None:
    with pytest.raises(ValueError, match="walking speed"):
        WalkingTimes({}, speed_mps=0)
    with pytest.raises(ValueError, match="not a walking time"):
        WalkingTimes({(1, 2): -1})
    with pytest.raises(ValueError, match="not a walking time"):
        WalkingTimes({(1, 2): math.inf})


# ---- derived walking times ----

def test_the_great_circle_distance_matches_a_hand_computation() -> None:
    # One degree along a meridian is R·π/180 = 6371008.8 m × 0.0174533 = 111 195 m.
    assert haversine_m((10.0, 20.0), (11.0, 20.0)) == pytest.approx(111_195.08, abs=0.01)
    # A hundredth of a degree east at 52°N: R·cos 52°·Δλ = 6371008.8 × 0.615661 × 0.000174533 = 684.58 m.
    assert haversine_m((52.0, 4.0), (52.0, 4.01)) == pytest.approx(684.58, abs=0.01)
    times = WalkingTimes({}, {GATE_A: Place(lat_lon=(52.0, 4.0)), GATE_B: Place(lat_lon=(52.0, 4.01))},
                         speed_mps=1.4)
    assert times.between(GATE_A, GATE_B) == pytest.approx(684.58 / 1.4, abs=0.01)


def test_a_plan_distance_needs_both_cameras_on_the_same_scaled_plan() -> None:
    places = {GATE_A: Place(plan=7, plan_m=(10.0, 10.0)), GATE_B: Place(plan=7, plan_m=(40.0, 50.0)),
              HALL: Place(plan=8, plan_m=(10.0, 10.0))}
    times = WalkingTimes({}, places, speed_mps=2.0)
    assert times.between(GATE_A, GATE_B) == pytest.approx(25.0)  # 50 m at 2 m/s
    assert times.between(GATE_A, HALL) is None


@pytest.mark.django_db
def test_walking_times_from_the_database(settings: Any) -> None:
    settings.LONGVIEW = {**settings.LONGVIEW, "WALKING_SPEED_MPS": 2.0}
    plan = SitePlan.objects.create(name="Station", image_type="png", width_px=1000, height_px=500, width_m=100)
    loose = SitePlan.objects.create(name="Sketch", image_type="png", width_px=800, height_px=800)
    # On the plan: 30 m across (0.3 of 100 m) and 20 m down (0.4 of 50 m): 36.06 m.
    p1 = Camera.objects.create(name="Platform 1", plan=plan, plan_x=0.1, plan_y=0.2, latitude=52.0, longitude=4.0)
    p2 = Camera.objects.create(name="Platform 2", plan=plan, plan_x=0.4, plan_y=0.6, latitude=52.0, longitude=4.0)
    street = Camera.objects.create(name="Street", latitude=52.0, longitude=4.01)
    s1 = Camera.objects.create(name="Sketch 1", plan=loose, plan_x=0.1, plan_y=0.1)
    s2 = Camera.objects.create(name="Sketch 2", plan=loose, plan_x=0.9, plan_y=0.9)
    kiosk = Camera.objects.create(name="Kiosk")
    WalkingTime.objects.create(camera_a=p1, camera_b=street, seconds=90)
    ids = [c.pk for c in (p1, p2, street, s1, s2, kiosk)]

    times = WalkingTimes.from_database(ids)
    assert times.between(p1.pk, p2.pk) == pytest.approx(math.hypot(30, 20) / 2.0)
    assert times.between(p1.pk, street.pk) == 90.0  # entered, not derived
    assert times.between(street.pk, p2.pk) == pytest.approx(684.58 / 2.0, abs=0.01)  # lat/lon
    assert times.between(s1.pk, s2.pk) is None  # a plan without a scale
    assert times.between(kiosk.pk, p1.pk) is None
    assert times.name(street.pk) == "Street"
    assert WalkingTimes.from_database(ids, speed_mps=1.0).between(p1.pk, p2.pk) == pytest.approx(math.hypot(30, 20))
    # Only the cameras asked for are loaded.
    assert WalkingTimes.from_database([p1.pk]).between(p1.pk, street.pk) is None

    flag = travel_flag(seen(2, street.pk, 60, 80), [seen(1, p1.pk, 0, 20)], times)
    assert reason_of(flag) == "needs 1 min 30 s from Platform 1, 40 s available"
