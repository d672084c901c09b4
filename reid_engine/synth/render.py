"""Drawing one posed, dressed person: label map, colours and COCO-17 keypoints.

Parts are painted back to front. The order depends on the view: the far arm and a backpack go
behind the torso in a front view and in front of it in a back view, long hair likewise, and face
features only appear on the side of the head that faces the camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reid_engine.synth import body as B
from reid_engine.synth.head import _rect, _scaled, draw_head, hair_volume, head_geometry
from reid_engine.synth.outfits import Outfit
from reid_engine.synth.painter import (
    ARMS,
    BAG,
    FACE,
    HAIR,
    LEGS,
    LOWER,
    SHOES,
    UPPER,
    UPPER_PATTERN,
    Painter,
    Pattern,
    colourise,
)
from reid_engine.synth.traits import Identity

RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class PersonRender:
    """One rendered person on a transparent canvas.

    Attributes:
        rgb: uint8 (h, w, 3) colours inside ``box``; meaningful where the labels are > 0.
        labels: uint8 (H, W) semantic labels of the canvas (see ``painter.LABELS``), 0 where empty.
        box: (x0, y0, x1, y1) pixel box of everything drawn (x1, y1 exclusive; empty when x1 == x0).
        keypoints: float32 (17, 3) COCO keypoints (x, y, v): v = 2 visible, 1 hidden by the body.
    """

    rgb: np.ndarray
    labels: np.ndarray
    keypoints: np.ndarray
    box: tuple[int, int, int, int]

    def paste(self, image: np.ndarray) -> None:
        """Draw the person over a uint8 (H, W, 3) image of the canvas size, in place."""
        x0, y0, x1, y1 = self.box
        if x1 > x0 and y1 > y0:
            sub = image[y0:y1, x0:x1]
            cv2.copyTo(self.rgb, self.labels[y0:y1, x0:x1], sub)


def render_person(
    identity: Identity,
    outfit: Outfit,
    view: B.View,
    phase: float,
    canvas_hw: tuple[int, int],
    *,
    swing_gain: float = 1.0,
    soft_edges: bool = True,
) -> PersonRender:
    """Render ``identity`` wearing ``outfit`` at gait ``phase`` seen from ``view``.

    Args:
        identity: body, face, hair and gait.
        outfit: garments and accessories.
        view: yaw, pixels per metre and the ground anchor on the canvas.
        phase: gait-cycle phase (see :func:`body.pose_walking`).
        canvas_hw: canvas size (height, width) in pixels.
        swing_gain: limb swing scale (1 walking, 0 standing).
        soft_edges: shade towards the silhouette edge for a rounded look.

    Returns:
        Colours, labels and keypoints on the canvas.
    """
    carry = outfit.bag_side if outfit.bag == "handbag" else 0
    pose = B.pose_walking(identity, phase, carry_side=carry, swing_gain=swing_gain)
    bd, H, k = identity.body, pose.height_m, view.scale
    P, D = view.project(pose.joints)
    c, s = view.cos, view.sin
    pt = Painter(*canvas_hw)

    sides_differ = abs(s) > 0.35
    left_near = s < 0

    def side_shade(side: int) -> float:
        return 1.0 if not sides_differ or (side == 1) == left_near else 0.8

    skin = identity.skin_rgb
    up_kind = outfit.pattern if outfit.pattern != "solid" else None
    up_pat = UPPER_PATTERN if up_kind else 0
    paint_up = {sd: pt.new(UPPER, outfit.upper_rgb, side_shade(sd), up_pat) for sd in (1, -1)}
    paint_lo = {sd: pt.new(LOWER, outfit.lower_rgb, side_shade(sd)) for sd in (1, -1)}
    paint_arm = {sd: pt.new(ARMS, skin, side_shade(sd)) for sd in (1, -1)}
    paint_leg = {sd: pt.new(LEGS, skin, side_shade(sd) * 0.97) for sd in (1, -1)}
    paint_shoe = {sd: pt.new(SHOES, outfit.shoes_rgb, side_shade(sd)) for sd in (1, -1)}
    torso_up = pt.new(UPPER, outfit.upper_rgb, 1.0, up_pat)
    torso_lo = pt.new(LOWER, outfit.lower_rgb, 0.95)
    face_p = pt.new(FACE, skin)
    hair_p = pt.new(HAIR, identity.hair_rgb)
    bag_p = pt.new(BAG, outfit.bag_rgb)

    lv = pose.levels
    ctr, lv_depth = view.project(lv[:, :3])
    hw = np.asarray(view.half_width(lv[:, 3], lv[:, 4]))
    torso_depth = float(lv_depth[1])
    bulky = 1.4 if outfit.upper_type in ("jacket", "coat") else 1.15

    def leg(side: int) -> None:
        hip, knee, ankle = (
            (P[B.L_HIP], P[B.L_KNEE], P[B.L_ANKLE]) if side == 1 else (P[B.R_HIP], P[B.R_KNEE], P[B.R_ANKLE])
        )
        r_th, r_ca = bd.thigh_r * H * k, bd.calf_r * H * k
        covered = outfit.lower_type in ("trousers", "jeans")
        g = 1.12 if covered else 1.0
        p_skin, p_lo = paint_leg[side], paint_lo[side]
        pt.capsule(p_lo if covered else p_skin, hip, knee, r_th * g, r_th * 0.72 * g)
        pt.capsule(p_lo if covered else p_skin, knee, ankle, r_ca * g, r_ca * 0.6 * g)
        if outfit.lower_type == "shorts":
            pt.capsule(p_lo, hip, hip + 0.55 * (knee - hip), r_th * 1.12, r_th * 0.95)
        ank3 = pose.joints[B.L_ANKLE if side == 1 else B.R_ANKLE]
        toe3 = pose.joints[B.L_TOE if side == 1 else B.R_TOE]
        sole, _ = view.project(np.stack([ank3 + (0.0, -0.035 * H, -0.035 * H), toe3]))
        pt.capsule(paint_shoe[side], sole[0], sole[1], 0.03 * H * k, 0.026 * H * k)

    def arm(side: int) -> None:
        idx = (
            (B.L_SHOULDER, B.L_ELBOW, B.L_WRIST, B.L_HAND)
            if side == 1
            else (B.R_SHOULDER, B.R_ELBOW, B.R_WRIST, B.R_HAND)
        )
        sh, el, wr, ha = (P[i] for i in idx)
        r = bd.arm_r * H * k
        pt.capsule(paint_arm[side], sh, el, r, r * 0.85)
        pt.capsule(paint_arm[side], el, wr, r * 0.85, r * 0.62)
        pt.circle(paint_arm[side], ha, r * 0.95)
        if outfit.sleeve == "long":
            pt.capsule(paint_up[side], sh, el, r * bulky, r * 0.9 * bulky)
            pt.capsule(paint_up[side], el, wr, r * 0.9 * bulky, r * 0.72 * bulky)
        else:
            pt.capsule(paint_up[side], sh, sh + 0.55 * (el - sh), r * 1.2, r * 1.05)
        if carry == side:
            top = ha + np.array([0.0, 0.01 * H * k])
            body_c = top + np.array([0.0, 0.11 * k])
            pt.line(bag_p, ha, body_c, max(1.0, 0.006 * k))
            pt.poly(bag_p, _rect(body_c, 0.13 * k, 0.09 * k))

    def torso() -> None:
        hem = {"dress": 2, "jacket": 4, "coat": 4}.get(outfit.upper_type, 3)
        neck_y = float(P[B.NECK][1])
        top = [(ctr[0, 0] - 0.35 * hw[0], neck_y), (ctr[0, 0] - hw[0], ctr[0, 1] + 0.03 * H * k)]
        left = top + [(ctr[i, 0] - hw[i] * (1.04 if i == hem else 1.0), ctr[i, 1]) for i in range(1, hem + 1)]
        right = [(2 * ctr[i, 0] - x, y) for i, (x, y) in zip([0, 0, *range(1, hem + 1)], left, strict=True)]
        pt.poly(torso_up, np.array(left + right[::-1]))
        if outfit.inner_rgb is not None and c > 0.3:
            inner = pt.new(UPPER, outfit.inner_rgb)
            xs = ctr[: hem + 1, 0] + s * hw[: hem + 1] * 0.5
            band = 0.18 * hw[: hem + 1] * c
            pts = [(xs[0] - band[0], neck_y)] + [(xs[i] - band[i], ctr[i, 1]) for i in range(1, hem + 1)]
            pts += [(xs[i] + band[i], ctr[i, 1]) for i in range(hem, 0, -1)] + [(xs[0] + band[0], neck_y)]
            pt.poly(inner, np.array(pts))
        elif outfit.upper_type in ("jacket", "coat") and c > 0.3:
            # A closed front: the zip or button line, down to the hem of a coat's skirt.
            seam = pt.new(UPPER, _scaled(outfit.upper_rgb, 0.6))
            bottom_y = float(P[B.L_KNEE, 1]) if outfit.upper_type == "coat" else float(ctr[hem, 1])
            x0 = float(ctr[0, 0] + s * hw[0] * 0.5)
            pt.line(
                seam,
                np.array([x0, neck_y]),
                np.array([float(ctr[hem, 0] + s * hw[hem] * 0.5), bottom_y]),
                max(1.0, 0.006 * H * k),
            )

    def pelvis() -> None:
        left = [(ctr[i, 0] - hw[i], ctr[i, 1]) for i in (2, 3, 4)]
        right = [(ctr[i, 0] + hw[i], ctr[i, 1]) for i in (4, 3, 2)]
        pt.poly(torso_lo, np.array(left + right))

    def skirt(paint: int, drop: float, flare: float) -> None:
        kx = (P[B.L_KNEE, 0] + P[B.R_KNEE, 0]) / 2
        ky = max(P[B.L_KNEE, 1], P[B.R_KNEE, 1]) + drop * H * k
        spread = abs(P[B.L_KNEE, 0] - P[B.R_KNEE, 0]) / 2
        bw = (
            float(view.half_width(0.55 * bd.hip_w * H * flare, 0.6 * bd.torso_depth * H * flare))
            + spread * 0.9
        )
        pts = [(ctr[2, 0] - hw[2], ctr[2, 1]), (ctr[3, 0] - hw[3] * 1.06, ctr[3, 1]), (kx - bw, ky)]
        pts += [(kx + bw, ky), (ctr[3, 0] + hw[3] * 1.06, ctr[3, 1]), (ctr[2, 0] + hw[2], ctr[2, 1])]
        pt.poly(paint, np.array(pts))

    def project1(p: np.ndarray) -> tuple[np.ndarray, float]:
        xy, d = view.project(p)
        return xy, float(d)

    geo = head_geometry(identity, pose, view)
    head3, hh_m, hw_m, hd_m = geo.centre3, geo.hh_m, geo.hw_m, geo.hd_m
    long_hair = identity.hair_style == "long"
    vol = hair_volume(identity)
    back3 = head3 + np.array([0.0, -hh_m * 0.2, -hd_m])
    back_key = project1(back3)[1]

    def hair_back() -> None:
        if not long_hair:
            return
        pts3 = [
            head3 + (hw_m * 1.05, 0.0, -0.3 * hd_m),
            head3 + (hw_m * 1.15 * vol, -hh_m - identity.hair_length * H, -0.8 * hd_m),
            head3 + (-hw_m * 1.15 * vol, -hh_m - identity.hair_length * H, -0.8 * hd_m),
            head3 + (-hw_m * 1.05, 0.0, -0.3 * hd_m),
        ]
        pt.poly(hair_p, view.project(np.stack(pts3))[0])

    def backpack() -> None:
        ctr3 = np.array([0.0, lv[1, 1] - 0.06 * H, lv[1, 2] - lv[1, 4] - 0.08])
        xy, _ = project1(ctr3)
        pt.poly(bag_p, _rect(xy, float(view.half_width(0.15, 0.09)), 0.2 * k))

    bp_key = project1(np.array([0.0, lv[1, 1], lv[1, 2] - lv[1, 4] - 0.08]))[1]

    def straps() -> None:
        if outfit.bag == "backpack" and c > 0.3:
            for sd in (1, -1):
                x0 = ctr[0, 0] + sd * hw[0] * 0.55
                pt.line(
                    bag_p,
                    np.array([x0, ctr[0, 1]]),
                    np.array([x0 + sd * hw[1] * 0.1, ctr[1, 1] + 0.04 * H * k]),
                    0.018 * H * k,
                )
        if outfit.bag == "shoulder_bag":
            sd = outfit.bag_side
            a = np.array([ctr[0, 0] + sd * hw[0] * 0.7, ctr[0, 1]])
            b = np.array([ctr[3, 0] - sd * hw[3] * 0.9, ctr[3, 1]])
            pt.line(bag_p, a, b, max(1.0, 0.012 * H * k))
            pt.poly(
                bag_p,
                _rect(b + np.array([-sd * 0.04 * k, 0.05 * k]), float(view.half_width(0.13, 0.05)), 0.1 * k),
            )

    # Painter's algorithm: back to front.
    arm_keys = {
        sd: float(
            np.mean(
                D[[B.L_SHOULDER, B.L_ELBOW, B.L_WRIST] if sd == 1 else [B.R_SHOULDER, B.R_ELBOW, B.R_WRIST]]
            )
        )
        + 0.05
        for sd in (1, -1)
    }
    if long_hair and back_key < torso_depth:
        hair_back()
    if outfit.bag == "backpack" and bp_key < torso_depth:
        backpack()
    for sd in (1, -1):
        if arm_keys[sd] < torso_depth:
            arm(sd)
    for sd in sorted((1, -1), key=lambda sd: float(D[B.L_KNEE if sd == 1 else B.R_KNEE])):
        leg(sd)
    pelvis()
    if outfit.lower_type in ("skirt", "dress"):
        skirt(
            torso_lo if outfit.lower_type == "skirt" else pt.new(LOWER, outfit.upper_rgb, 1.0, up_pat),
            0.0,
            1.25,
        )
    if outfit.upper_type == "coat":
        skirt(torso_up, 0.05, 1.3)
    torso()
    if outfit.bag == "backpack" and bp_key >= torso_depth:
        backpack()
    straps()
    if long_hair and back_key >= torso_depth:
        hair_back()
    for sd in (1, -1):
        if arm_keys[sd] >= torso_depth:
            arm(sd)
    draw_head(pt, identity, outfit, view, geo, P[B.NECK], face_p, hair_p)

    pattern = None
    if up_kind:
        pattern = Pattern(
            up_kind,
            outfit.pattern_rgb,
            outfit.pattern_period * k,
            outfit.pattern_angle,
            (view.anchor_x, view.anchor_y),
        )
    rgb, labels, box = colourise(pt, pattern, soft_edge_px=0.05 * H * k if soft_edges else 0.0)
    return PersonRender(rgb=rgb, labels=labels, keypoints=_keypoints(pose, view, hh_m, hw_m, hd_m), box=box)


def _keypoints(pose: B.Pose, view: B.View, hh_m: float, hw_m: float, hd_m: float) -> np.ndarray:
    head = pose.joints[B.HEAD]
    face3 = np.stack(
        [
            head + (0.0, -0.1 * hh_m, hd_m),
            head + (0.35 * hw_m, 0.05 * hh_m, 0.85 * hd_m),
            head + (-0.35 * hw_m, 0.05 * hh_m, 0.85 * hd_m),
            head + (hw_m, -0.05 * hh_m, -0.1 * hd_m),
            head + (-hw_m, -0.05 * hh_m, -0.1 * hd_m),
        ]
    )
    body_rows = [
        B.L_SHOULDER,
        B.R_SHOULDER,
        B.L_ELBOW,
        B.R_ELBOW,
        B.L_WRIST,
        B.R_WRIST,
        B.L_HIP,
        B.R_HIP,
        B.L_KNEE,
        B.R_KNEE,
        B.L_ANKLE,
        B.R_ANKLE,
    ]
    pts = np.concatenate([face3, pose.joints[body_rows]])
    xy, depth = view.project(pts)
    _, head_d = view.project(head)
    vis = np.full(17, 2.0, dtype=np.float32)
    vis[:5] = np.where(depth[:5] - float(head_d) > -0.05 * hd_m, 2.0, 1.0)
    if abs(view.sin) > 0.5:
        # In a side view the limbs of the far side are behind the body.
        far_left = view.sin > 0
        vis[5:] = np.where(np.arange(12) % 2 == (0 if far_left else 1), 1.0, 2.0)
    return np.concatenate([xy.astype(np.float32), vis[:, None]], axis=1)
