"""The demo makes one subject from its footage's longest-seen person, once the footage is ingested."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command

from tests.webapp.factories import BASE
from tests.webapp.subjects.test_subjects import _person, _unit, _video
from webapp.cameras.models import Camera
from webapp.cases.models import Case
from webapp.subjects.models import Sighting, Subject

pytestmark = pytest.mark.django_db


def test_the_demo_subject_is_made_once_from_the_person_seen_longest() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    assert not Subject.objects.exists()  # no footage ingested yet
    case = Case.objects.get(reference="DEMO-1")
    video = _video(Camera.objects.get(name="Square north"), case, BASE)
    rng = np.random.default_rng(0)
    short = _person(video, 1, 0.0, _unit(rng.normal(size=8)), _unit(rng.normal(size=8)))
    long = _person(video, 2, 5.0, _unit(rng.normal(size=8)), _unit(rng.normal(size=8)))
    long.num_frames = short.num_frames + 5
    long.save()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=io.StringIO())
    subject = Subject.objects.get()
    assert subject.case == case
    assert subject.created_by.username == "investigator"
    assert list(Sighting.objects.values_list("tracklet_id", "decision")) == [(long.pk, "confirmed")]
    assert f"/subjects/{subject.pk}/" in out.getvalue()
