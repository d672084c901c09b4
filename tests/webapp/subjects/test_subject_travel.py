"""Travel time in a subject search and on the subject page, on a hand-built case: a look-alike the
subject could not have walked to in time is flagged with the times and demoted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User

from tests.webapp.factories import BASE, the_case
from tests.webapp.subjects.test_subjects import _person, _unit, _video
from webapp.cameras.models import Camera, WalkingTime
from webapp.subjects.services import sighting_decide, subject_create

pytestmark = pytest.mark.django_db


def test_a_look_alike_too_far_away_is_flagged_and_demoted_with_the_reason(investigator: User, client_for: Any) -> None:
    rng = np.random.default_rng(3)
    coat, identity = _unit(rng.normal(size=32)), _unit(rng.normal(size=32))
    gate = Camera.objects.create(name="Gate A", latitude=51.5, longitude=-0.12)
    platform = Camera.objects.create(name="Platform B", latitude=51.5, longitude=-0.11)
    WalkingTime.objects.create(camera_a=gate, camera_b=platform, seconds=240)
    # 0.01° of longitude at 51.5° N is about 692 m: at 1.4 m/s, 8 min 14 s from the gate to the
    # lane camera, when no walking time was entered.
    lane = Camera.objects.create(name="Back lane", latitude=51.5, longitude=-0.13)
    case = the_case()
    at_gate, on_platform, in_lane = _video(gate, case, BASE), _video(platform, case, BASE), _video(lane, case, BASE)

    def near(scale: float) -> np.ndarray:
        return _unit(coat + scale * rng.normal(size=32))

    seen = _person(at_gate, 1, 0.0, near(0.05), identity)                       # 09:00:00–09:00:10
    too_soon = _person(on_platform, 1, 50.0, near(0.05), identity)             # 40 s after, needs 4 min
    same_time = _person(in_lane, 1, 5.0, near(0.05), identity)                 # while at the gate
    later = _person(on_platform, 2, 600.0, near(0.3), identity)                # plausible, less alike
    subject = subject_create(user=investigator, case_id=case.pk, label="S", tracklet_id=seen.pk)

    found = client_for(investigator).post(f"/api/subjects/{subject.pk}/search/", {"justification": "j", "k": 5},
                                          format="json").json()
    cards = found["lanes"]["same_outfit"]
    order = [c["tracklet"] for c in cards]
    # The two look-alikes are nearer the subject than the plausible sighting, but go below it.
    assert order[0] == later.pk
    assert set(order[1:]) == {too_soon.pk, same_time.pk}
    reasons = {c["tracklet"]: c.get("travel", {}).get("reason") for c in cards}
    assert reasons[later.pk] is None
    assert reasons[too_soon.pk] == "needs 4 min from Gate A, 40 s available"
    assert reasons[same_time.pk] == "at Gate A at the same time"
    assert cards[order.index(too_soon.pk)]["travel"]["needed_s"] == 240
    scores = {c["tracklet"]: c["score"] for c in cards}
    assert scores[too_soon.pk] > scores[later.pk]

    # Confirming the impossible one anyway: the subject page flags both of the conflicting pair.
    sighting_decide(user=investigator, subject_id=subject.pk, tracklet_id=too_soon.pk, decision="confirmed")
    sighting_decide(user=investigator, subject_id=subject.pk, tracklet_id=later.pk, decision="confirmed")
    flags = client_for(investigator).get(f"/api/subjects/{subject.pk}/").json()["flags"]
    assert set(flags) == {str(seen.pk), str(too_soon.pk)}
    assert flags[str(too_soon.pk)]["reason"] == "needs 4 min from Gate A, 40 s available"


def test_a_walking_time_from_the_map_distance_is_used_when_none_was_entered(investigator: User, client_for: Any) -> None:
    rng = np.random.default_rng(4)
    coat, identity = _unit(rng.normal(size=32)), _unit(rng.normal(size=32))
    gate = Camera.objects.create(name="Gate A", latitude=51.5, longitude=-0.12)
    lane = Camera.objects.create(name="Back lane", latitude=51.5, longitude=-0.13)
    case = the_case()
    seen = _person(_video(gate, case, BASE), 1, 0.0, _unit(coat + 0.05 * rng.normal(size=32)), identity)
    quick = _person(_video(lane, case, BASE + timedelta(seconds=60)), 1, 0.0, _unit(coat + 0.05 * rng.normal(size=32)),
                    identity)
    subject = subject_create(user=investigator, case_id=case.pk, label="S", tracklet_id=seen.pk)
    found = client_for(investigator).post(f"/api/subjects/{subject.pk}/search/", {"justification": "j"},
                                          format="json").json()
    card = next(c for c in found["lanes"]["same_outfit"] if c["tracklet"] == quick.pk)
    # 692 m at 1.4 m/s is 494 s; 50 s passed between the gate's last frame and the lane's first.
    assert card["travel"]["reason"] == "needs 8 min 14 s from Gate A, 50 s available"
    assert card["travel"]["needed_s"] == pytest.approx(692.2 / 1.4, rel=0.001)
