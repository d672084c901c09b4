"""The body renderer: labels, keypoints and view-dependent drawing."""

from __future__ import annotations

import numpy as np

from reid_engine.synth.body import View, pose_walking
from reid_engine.synth.outfits import sample_population
from reid_engine.synth.painter import FACE, HAIR, LOWER, SHOES, UPPER
from reid_engine.synth.render import render_person


def _person(seed: int = 3):  # type: ignore[no-untyped-def]
    pop = sample_population(np.random.default_rng(seed), num_ids=6, outfits_per_id=2)
    ident = next(i for i in pop.identities if i.hair_style != "bald")
    return ident, pop.outfits[ident.pid][0]


def _render(yaw: float, phase: float = 0.1):  # type: ignore[no-untyped-def]
    ident, outfit = _person()
    view = View(yaw, 230 / ident.body.height_m, 64, 248)
    return render_person(ident, outfit, view, phase, (256, 128))


def test_render_labels_garments_skin_and_hair_and_keeps_keypoints_on_the_body() -> None:
    r = _render(30.0)
    present = set(np.unique(r.labels).tolist())
    assert {UPPER, LOWER, SHOES, FACE, HAIR} <= present
    assert r.keypoints.shape == (17, 3)
    assert r.keypoints.dtype == np.float32
    x0, y0, x1, y1 = r.box
    assert r.rgb.shape == (y1 - y0, x1 - x0, 3)
    kp = r.keypoints
    assert (kp[:, 0] >= x0 - 2).all()
    assert (kp[:, 0] <= x1 + 2).all()
    assert (kp[:, 1] >= y0 - 2).all()
    assert (kp[:, 1] <= y1 + 2).all()
    # Head keypoints sit above the shoulders, ankles at the bottom.
    assert kp[0, 1] < kp[5, 1] < kp[11, 1] < kp[15, 1]


def test_front_view_is_wider_than_side_view_and_shows_face_keypoints() -> None:
    front, side, back = _render(0.0, 0.0), _render(90.0, 0.0), _render(180.0, 0.0)
    width = lambda r: int((r.labels[100:140] > 0).any(axis=0).sum())  # noqa: E731
    assert width(front) > width(side)
    assert (front.keypoints[:3, 2] == 2).all()
    assert (back.keypoints[:3, 2] == 1).all()


def test_walking_moves_the_legs_and_keeps_the_soles_on_the_ground() -> None:
    ident, _ = _person()
    a, b = pose_walking(ident, 0.0), pose_walking(ident, 0.25)
    assert not np.allclose(a.joints, b.joints)
    for pose in (a, b):
        assert pose.joints[:, 1].min() > -0.2
        assert abs(pose.joints[:, 1].max() - ident.body.height_m) < 0.25


def test_rendering_is_a_pure_function_of_its_inputs() -> None:
    a, b = _render(-45.0), _render(-45.0)
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.rgb, b.rgb)
