"""Cameras and shots: one person crop composed from a render, a background, light and degradations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reid_engine.synth.backgrounds import scene_background, texture_background, window
from reid_engine.synth.body import View
from reid_engine.synth.degrade import (
    Look,
    Occluder,
    apply_degrade,
    apply_light,
    draw_occluder,
    sample_look,
    sample_occluder,
)
from reid_engine.synth.outfits import Outfit
from reid_engine.synth.painter import OCCLUDER
from reid_engine.synth.render import render_person
from reid_engine.synth.traits import Identity

# Preferred view angles of the camera kinds, in degrees (0 front, 180 back, ±90 sides).
CAMERA_KINDS: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("frontal", (0.0, 180.0)),
    ("side", (90.0, -90.0)),
    ("oblique", (45.0, -45.0, 135.0, -135.0)),
    ("overview", (0.0, 60.0, 120.0, 180.0, -120.0, -60.0)),
)


@dataclass(frozen=True, slots=True, eq=False)
class Camera:
    """A camera of the image or tracklet set.

    Attributes:
        camid: camera label.
        kind: one of the ``CAMERA_KINDS`` names.
        yaw_centres: preferred view angles in degrees.
        tint: the camera's white-balance bias, (R, G, B) gains.
        lowres_p: how often its shots lose resolution.
        scene: uint8 (H, W, 3) RGB static background that crops are cut from.
    """

    camid: int
    kind: str
    yaw_centres: tuple[float, ...]
    tint: tuple[float, float, float]
    lowres_p: float
    scene: np.ndarray

    def describe(self) -> dict[str, object]:
        return {
            "camid": self.camid,
            "kind": self.kind,
            "yaw_centres": list(self.yaw_centres),
            "tint": [round(t, 3) for t in self.tint],
            "lowres_p": round(self.lowres_p, 3),
        }


def make_cameras(seed: int, count: int) -> tuple[Camera, ...]:
    """The cameras of a set, a function of ``(seed, count)`` only."""
    cams = []
    for camid in range(count):
        rng = np.random.default_rng([seed, 7001, camid])
        kind, yaws = CAMERA_KINDS[camid % len(CAMERA_KINDS)]
        temp = rng.normal(0.0, 0.07)
        cams.append(
            Camera(
                camid=camid,
                kind=kind,
                yaw_centres=yaws,
                tint=(1 + temp, 1.0 + rng.normal(0.0, 0.02), 1 - temp),
                lowres_p=float(rng.uniform(0.05, 0.3)),
                scene=scene_background(rng, 384, 768),
            )
        )
    return tuple(cams)


@dataclass(frozen=True, slots=True)
class Shot:
    """Everything that decides one crop besides who is in it.

    Attributes:
        yaw: view angle in degrees.
        phase: gait phase.
        fill: person height as a fraction of the crop height.
        dx: horizontal offset of the person, fraction of the crop width.
        foot: feet position, fraction of the crop height from the top.
        look: lighting and degradations.
        occluder: an occluder or ``NO_OCCLUDER``.
        bg_seed: seed of the background choice (kept across a tracklet's frames).
        bg_scene: True to cut the background from the camera scene, False for a random texture.
    """

    yaw: float
    phase: float
    fill: float
    dx: float
    foot: float
    look: Look
    occluder: Occluder
    bg_seed: int
    bg_scene: bool


def sample_shot(
    rng: np.random.Generator,
    camera: Camera,
    *,
    base_yaw: float | None = None,
    occlusion_p: float = 0.25,
    strength: float = 1.0,
) -> Shot:
    """Draw a shot seen by ``camera``; ``base_yaw`` (else a camera preference) is jittered by ±20°."""
    if base_yaw is None:
        base_yaw = camera.yaw_centres[int(rng.integers(len(camera.yaw_centres)))]
    return Shot(
        yaw=float(base_yaw + rng.uniform(-20.0, 20.0)),
        phase=float(rng.random()),
        fill=float(rng.uniform(0.78, 0.95)),
        dx=float(rng.uniform(-0.08, 0.08)),
        foot=float(rng.uniform(0.92, 0.99)),
        look=sample_look(rng, camera_tint=camera.tint, lowres_p=camera.lowres_p, strength=strength),
        occluder=sample_occluder(rng, occlusion_p * strength),
        bg_seed=int(rng.integers(2**31)),
        bg_scene=bool(rng.random() < 0.75),
    )


@dataclass(frozen=True, slots=True)
class Sample:
    """One rendered crop.

    Attributes:
        image: uint8 (H, W, 3) RGB.
        labels: uint8 (H, W) semantic label map (``painter.LABELS``).
        keypoints: float32 (17, 3) COCO keypoints (x, y, v); v = 0 outside the crop, 1 hidden, 2 visible.
    """

    image: np.ndarray
    labels: np.ndarray
    keypoints: np.ndarray


def background(camera: Camera, shot: Shot, height: int, width: int) -> np.ndarray:
    """The shot's background, uint8 (height, width, 3) RGB."""
    rng = np.random.default_rng(shot.bg_seed)
    if shot.bg_scene:
        return window(camera.scene, rng, height, width)
    return texture_background(rng, height, width)


def render_shot(
    identity: Identity,
    outfit: Outfit,
    camera: Camera,
    shot: Shot,
    rng: np.random.Generator,
    *,
    size_hw: tuple[int, int] = (256, 128),
    bg: np.ndarray | None = None,
) -> Sample:
    """Compose one crop: person over background, occluder, lighting, then degradations.

    Args:
        identity, outfit: who, in what.
        camera, shot: where and how.
        rng: noise source for the degradations (the only randomness left at this point).
        size_hw: crop size (height, width).
        bg: a precomputed background for the shot (tracklets reuse one), else it is made here.
    """
    h, w = size_hw
    scale = shot.fill * h / identity.body.height_m
    view = View(shot.yaw, scale, w / 2 + shot.dx * w, shot.foot * h)
    person = render_person(identity, outfit, view, shot.phase, size_hw)
    img = (bg if bg is not None else background(camera, shot, h, w)).copy()
    person.paste(img)
    labels = person.labels
    draw_occluder(img, labels, shot.occluder)
    out = apply_degrade(apply_light(img, shot.look), shot.look, rng)
    kp = person.keypoints.copy()
    xi, yi = np.round(kp[:, 0]).astype(int), np.round(kp[:, 1]).astype(int)
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    kp[~inside, 2] = 0.0
    hidden = np.zeros(17, dtype=bool)
    hidden[inside] = labels[yi[inside], xi[inside]] == OCCLUDER
    kp[hidden & (kp[:, 2] > 1), 2] = 1.0
    return Sample(image=out, labels=labels, keypoints=kp)
