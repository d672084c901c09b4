"""The head: neck, skull, ears, hair (by style, volume and fringe), face features, glasses and hat.

Face features exist only on the side of the head that faces the camera; from behind the head is hair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reid_engine.synth import body as B
from reid_engine.synth.outfits import Outfit
from reid_engine.synth.painter import FACE, GLASSES, HAT, Painter
from reid_engine.synth.traits import RGB, Identity


def _scaled(rgb: RGB, k: float) -> RGB:
    return (int(min(255, rgb[0] * k)), int(min(255, rgb[1] * k)), int(min(255, rgb[2] * k)))


def _rect(centre: np.ndarray, half_w: float, half_h: float) -> np.ndarray:
    cx, cy = float(centre[0]), float(centre[1])
    return np.array(
        [
            (cx - half_w, cy - half_h),
            (cx + half_w, cy - half_h),
            (cx + half_w, cy + half_h),
            (cx - half_w, cy + half_h),
        ]
    )


def hair_volume(identity: Identity) -> float:
    """How far the hair stands off the skull (short hair stays close whatever the person's volume)."""
    v = identity.hair_volume
    return v if identity.hair_style != "short" else 1.0 + (v - 1.0) * 0.4


@dataclass(frozen=True, slots=True)
class HeadGeometry:
    """The head of one posed, viewed body.

    Attributes:
        centre3: float64 (3,) head centre in the body frame.
        centre: float64 (2,) head centre in pixels.
        depth: depth of the head centre (larger = nearer).
        hh_m, hw_m, hd_m: half height, half width and half depth in metres.
        hh, rx: pixel half height and projected pixel half width.
    """

    centre3: np.ndarray
    centre: np.ndarray
    depth: float
    hh_m: float
    hw_m: float
    hd_m: float
    hh: float
    rx: float


def head_geometry(identity: Identity, pose: B.Pose, view: B.View) -> HeadGeometry:
    bd, H = identity.body, pose.height_m
    hh_m, hw_m = bd.head_h * H / 2, bd.head_w * H / 2
    hd_m = hw_m * 1.2
    xy, depth = view.project(pose.joints[B.HEAD])
    return HeadGeometry(
        centre3=pose.joints[B.HEAD].copy(),
        centre=xy,
        depth=float(depth),
        hh_m=hh_m,
        hw_m=hw_m,
        hd_m=hd_m,
        hh=hh_m * view.scale,
        rx=float(view.half_width(hw_m, hd_m)),
    )


def draw_head(
    pt: Painter,
    identity: Identity,
    outfit: Outfit,
    view: B.View,
    geo: HeadGeometry,
    neck_xy: np.ndarray,
    face_p: int,
    hair_p: int,
) -> None:
    """Paint neck, head, hair, face and hat onto ``pt`` (after the torso and arms)."""
    k, s, c = view.scale, view.sin, view.cos
    H = identity.body.height_m
    head3, hc, hh, rx = geo.centre3, geo.centre, geo.hh, geo.rx
    hh_m, hw_m, hd_m = geo.hh_m, geo.hw_m, geo.hd_m
    vol = hair_volume(identity)
    long_hair = identity.hair_style == "long"
    head_d = geo.depth

    def project1(p: np.ndarray) -> tuple[np.ndarray, float]:
        xy, d = view.project(p)
        return xy, float(d)

    neck_r = 0.44 * hw_m * k
    pt.capsule(
        face_p, neck_xy + np.array([0.0, 0.02 * H * k]), hc + np.array([0.0, hh * 0.6]), neck_r, neck_r
    )
    bun3 = head3 + np.array([0.0, hh_m * 0.3, -hd_m * 0.95])
    bun_xy, bun_d = project1(bun3)
    bun = identity.hair_style == "bun"
    if bun and bun_d < head_d:
        pt.circle(hair_p, bun_xy, 0.45 * hw_m * k)
    if identity.hair_style == "medium":
        pt.ellipse(hair_p, hc + np.array([0.0, hh * 0.15]), (rx * 1.16 * vol, hh * (0.9 + 0.2 * vol)))
    pt.ellipse(face_p, hc, (rx, hh))
    if identity.hair_style in ("bald", "short") and not long_hair:
        for sd in (1, -1):
            exy, ed = project1(head3 + (sd * hw_m, -0.04 * hh_m, -0.1 * hd_m))
            if ed > head_d - 0.2 * hw_m:
                pt.ellipse(face_p, exy, (0.2 * hw_m * k, 0.3 * hh))
    if identity.hair_style != "bald":
        short = identity.hair_style == "short"
        pt.ellipse(
            hair_p,
            hc + np.array([0.0, -hh * (0.08 if short else 0.02)]),
            (rx * (1.04 if short else 1.1) * vol, hh * (0.95 if short else 1.04) * (0.9 + 0.1 * vol)),
        )
    elif identity.age_group == "senior":
        pt.ellipse(hair_p, hc + np.array([-s * rx * 0.5, 0.05 * hh]), (rx * 0.55, hh * 0.5))
    if bun and bun_d >= head_d:
        pt.circle(hair_p, bun_xy, 0.45 * hw_m * k)
    if c > -0.25:
        short = identity.hair_style in ("short", "bald")
        # A fringe lowers the hairline: the visible face shrinks from the top.
        fringe = 0.0 if identity.hair_style == "bald" else identity.hair_fringe
        win_c = hc + np.array([s * rx * 0.42, hh * ((0.2 if short else 0.24) + 0.1 * fringe)])
        ax = rx * (0.8 - 0.42 * abs(s)) * (1.0 if short else 0.9)
        pt.ellipse(face_p, win_c, (ax, hh * ((0.78 if short else 0.72) - 0.1 * fringe)))
        if c > 0.15:
            _face(pt, identity, view, geo, win_c, face_p)
    if outfit.hat:
        hat_p = pt.new(HAT, outfit.hat_rgb)
        pt.ellipse(hat_p, hc + np.array([0.0, -hh * 0.5]), (rx * 1.12, hh * 0.56))
        pt.poly(hat_p, _rect(hc + np.array([0.0, -hh * 0.3]), rx * 1.12, hh * 0.18))
        if c > -0.3:
            pt.ellipse(
                hat_p, hc + np.array([s * rx * 0.75, -hh * 0.26]), (rx * (0.8 + 0.35 * abs(s)), hh * 0.12)
            )


def _face(
    pt: Painter, identity: Identity, view: B.View, geo: HeadGeometry, win_c: np.ndarray, face_p: int
) -> None:
    k, s, c = view.scale, view.sin, view.cos
    head3, hc, hh, rx = geo.centre3, geo.centre, geo.hh, geo.rx
    hh_m, hw_m, hd_m = geo.hh_m, geo.hw_m, geo.hd_m

    def project1(p: np.ndarray) -> tuple[np.ndarray, float]:
        xy, d = view.project(p)
        return xy, float(d)

    f = identity.face
    dark = pt.new(FACE, (38, 30, 30))
    brow = pt.new(FACE, _scaled(identity.hair_rgb, 0.8))
    y_eye = hh_m * (1.0 - 2.0 * f.eye_y)
    eyes = []
    for sd in (1, -1):
        x = sd * f.eye_gap * hw_m
        z = hd_m * math.sqrt(max(0.0, 1.0 - (x / hw_m) ** 2))
        exy, ed = project1(head3 + (x, y_eye, z * 0.95))
        if ed - geo.depth > 0.25 * hd_m:
            eyes.append(exy)
    er = max(0.8, f.eye_size * 2 * hw_m * k)
    for e in eyes:
        pt.ellipse(dark, e, (er, er * 0.6))
        bt = max(1.0, f.brow * hh * 0.6)
        pt.line(brow, e + (-er * 1.3, -er * 1.9), e + (er * 1.3, -er * 2.1), bt)
    nose_top, _ = project1(head3 + (0.0, y_eye, hd_m))
    nose_tip, _ = project1(head3 + (0.0, y_eye - f.nose * hh_m * 2, hd_m * 1.08))
    pt.line(pt.new(FACE, _scaled(identity.skin_rgb, 0.78)), nose_top, nose_tip, max(1.0, 0.08 * hw_m * k))
    mouth_c, _ = project1(head3 + (0.0, -0.55 * hh_m, hd_m * 0.9))
    if f.beard:
        pt.ellipse(
            pt.new(FACE, identity.hair_rgb),
            mouth_c + (0.0, 0.12 * hh),
            (rx * 0.55 * max(c, 0.5), hh * 0.3),
        )
    half = f.mouth_w * hw_m * k * c
    pt.line(pt.new(FACE, f.lip_rgb), mouth_c - (half, 0.0), mouth_c + (half, 0.0), max(1.0, 0.05 * hh))
    if identity.glasses:
        gl = pt.new(GLASSES, identity.glasses_rgb)
        rr = max(1.5, er * 2.0)
        for e in eyes:
            pt.ellipse(gl, e, (rr, rr * 0.75))
            pt.ellipse(face_p, e, (max(1.0, rr - 1), max(1.0, rr * 0.75 - 1)))
            pt.ellipse(dark, e, (er, er * 0.6))
        if len(eyes) == 2:
            pt.line(gl, eyes[0], eyes[1], 1)
        elif eyes:
            pt.line(gl, eyes[0], hc + (-s * rx * 0.3, -hh * 0.05), 1)
