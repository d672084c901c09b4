"""A 3-D stick-and-ellipse body in a walking pose, and its orthographic projection for a view angle.

Body frame: metres, ``x`` towards the person's left, ``y`` up (soles on ``y = 0``), ``z`` forward.
A view angle (yaw) of 0 shows the person's front, 180° the back and +90° the right side (walking to
the image's right). Projection is orthographic per person: a person is small next to their distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reid_engine.synth.traits import Identity

# Joint rows of Pose.joints.
HEAD, NECK, PELVIS = 0, 1, 2
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST, L_HAND, R_HAND = 3, 4, 5, 6, 7, 8, 9, 10
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE, L_TOE, R_TOE = 11, 12, 13, 14, 15, 16, 17, 18
NUM_JOINTS = 19

# Torso cross-section levels (rows of Pose.levels), top to bottom.
LEVEL_NAMES = ("shoulder", "chest", "waist", "hip", "crotch")


@dataclass(frozen=True, slots=True)
class Pose:
    """A posed body.

    Attributes:
        joints: float64 (19, 3) joint positions in the body frame (rows named by the module constants).
        levels: float64 (5, 5) torso cross-sections: centre (x, y, z), half-width, half-depth.
        height_m: the identity's height, for scaling.
    """

    joints: np.ndarray
    levels: np.ndarray
    height_m: float


def _rot_x(points: np.ndarray, pivot: np.ndarray, angle: float) -> np.ndarray:
    # Forward lean: the upper body rotates about the pelvis so that its top moves towards +z.
    p = points - pivot
    c, s = math.cos(angle), math.sin(angle)
    out = p.copy()
    out[..., 1] = p[..., 1] * c - p[..., 2] * s
    out[..., 2] = p[..., 1] * s + p[..., 2] * c
    return out + pivot


def pose_walking(identity: Identity, phase: float, *, carry_side: int = 0, swing_gain: float = 1.0) -> Pose:
    """Pose the identity at ``phase`` (fraction of a gait cycle, any real number) of its walk.

    Args:
        identity: whose body and gait to use.
        phase: gait-cycle phase; 0 and 1 are the same pose.
        carry_side: +1 or -1 when the left or right hand carries a handbag (that arm swings less).
        swing_gain: scales limb swing (0 gives a standing pose).

    Returns:
        The pose, soles on the ground.
    """
    b, g = identity.body, identity.gait
    H = b.height_m
    w = 2.0 * math.pi * phase
    hip_y = b.leg * H
    j = np.zeros((NUM_JOINTS, 3), dtype=np.float64)
    j[PELVIS] = (0.0, hip_y, 0.0)

    thigh, shank, ankle_h = 0.49 * hip_y, 0.45 * hip_y, 0.06 * hip_y
    for side, (hip_i, knee_i, ankle_i, toe_i, off) in (
        (1, (L_HIP, L_KNEE, L_ANKLE, L_TOE, 0.0)),
        (-1, (R_HIP, R_KNEE, R_ANKLE, R_TOE, math.pi)),
    ):
        t = w + off
        theta = g.stride * swing_gain * math.sin(t)
        # The knee folds while the leg swings forward (cos > 0), most just after toe-off.
        flex = swing_gain * g.knee * max(0.0, math.cos(t + 0.6)) ** 2 + 0.06
        hip = np.array([side * (b.hip_w / 2 - b.thigh_r * 0.9) * H, hip_y, 0.0])
        knee = hip + thigh * np.array([0.0, -math.cos(theta), math.sin(theta)])
        ankle = knee + shank * np.array([0.0, -math.cos(theta - flex), math.sin(theta - flex)])
        toe = ankle + np.array([0.0, -ankle_h * 0.8, 0.13 * H * 0.85])
        j[hip_i], j[knee_i], j[ankle_i], j[toe_i] = hip, knee, ankle, toe

    neck_y = H * (1.0 - b.head_h - b.neck)
    j[NECK] = (0.0, neck_y, 0.0)
    j[HEAD] = (0.0, H * (1.0 - b.head_h / 2), 0.012 * H)
    levels = np.array(
        [
            (0.0, neck_y - 0.01 * H, 0.0, 0.45 * b.shoulder_w * H, 0.4 * b.torso_depth * H),
            (0.0, neck_y - 0.1 * H, 0.01 * H, 0.46 * b.shoulder_w * H, 0.5 * b.torso_depth * H),
            (
                0.0,
                hip_y + 0.12 * H,
                0.5 * b.belly * H,
                0.5 * b.waist_w * H,
                (0.5 * b.torso_depth + 0.5 * b.belly) * H,
            ),
            (0.0, hip_y + 0.03 * H, -0.005 * H, 0.5 * b.hip_w * H, 0.5 * b.torso_depth * H),
            (0.0, hip_y - 0.035 * H, 0.0, 0.44 * b.hip_w * H, 0.4 * b.torso_depth * H),
        ],
        dtype=np.float64,
    )

    for side, (sh_i, el_i, wr_i, ha_i, off) in (
        (1, (L_SHOULDER, L_ELBOW, L_WRIST, L_HAND, math.pi)),
        (-1, (R_SHOULDER, R_ELBOW, R_WRIST, R_HAND, 0.0)),
    ):
        carrying = carry_side == side
        swing = g.arm_swing * swing_gain * (0.25 if carrying else 1.0)
        alpha = swing * math.sin(w + off)
        out = g.arm_out + (0.08 if carrying else 0.0)
        elbow_flex = (0.05 if carrying else g.elbow) + 0.4 * max(0.0, math.sin(alpha))
        shoulder = np.array([side * (b.shoulder_w / 2 - b.arm_r) * H, neck_y - 0.035 * H, 0.0])
        d1 = np.array([side * math.sin(out), -math.cos(alpha) * math.cos(out), math.sin(alpha)])
        elbow = shoulder + b.upper_arm * H * d1 / np.linalg.norm(d1)
        a2 = alpha + elbow_flex
        d2 = np.array([side * math.sin(out * 0.6), -math.cos(a2), math.sin(a2)])
        d2 /= np.linalg.norm(d2)
        wrist = elbow + b.forearm * H * d2
        j[sh_i], j[el_i], j[wr_i], j[ha_i] = shoulder, elbow, wrist, wrist + 0.045 * H * d2

    upper = [HEAD, NECK, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST, L_HAND, R_HAND]
    pivot = j[PELVIS].copy()
    j[upper] = _rot_x(j[upper], pivot, g.lean)
    levels[:2, :3] = _rot_x(levels[:2, :3], pivot, g.lean)
    levels[2, :3] = _rot_x(levels[2, :3], pivot, g.lean * 0.5)

    sole = min(j[L_ANKLE, 1], j[R_ANKLE, 1]) - ankle_h
    lift = -sole + g.bounce * H * 0.2 * math.cos(2 * w)
    j[:, 1] += lift
    levels[:, 1] += lift
    return Pose(joints=j, levels=levels, height_m=H)


@dataclass(frozen=True, slots=True)
class View:
    """Where and how a posed body lands on the canvas.

    Attributes:
        yaw_deg: viewing angle (0 front, 90 right side, 180 back, -90 left side).
        scale: pixels per metre.
        anchor_x, anchor_y: pixel position of the ground point below the pelvis.
    """

    yaw_deg: float
    scale: float
    anchor_x: float
    anchor_y: float

    @property
    def cos(self) -> float:
        return math.cos(math.radians(self.yaw_deg))

    @property
    def sin(self) -> float:
        return math.sin(math.radians(self.yaw_deg))

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project body-frame points (..., 3) to pixels (..., 2) and depth (...,), larger = nearer."""
        p = np.asarray(points, dtype=np.float64)
        c, s = self.cos, self.sin
        x = self.anchor_x + self.scale * (p[..., 0] * c + p[..., 2] * s)
        y = self.anchor_y - self.scale * p[..., 1]
        depth = -p[..., 0] * s + p[..., 2] * c
        return np.stack([x, y], axis=-1), depth

    def half_width(self, a: float | np.ndarray, b: float | np.ndarray) -> float | np.ndarray:
        """Projected half-width in pixels of an ellipse cross-section with half-axes ``a`` (x), ``b`` (z)."""
        return self.scale * np.sqrt((a * self.cos) ** 2 + (b * self.sin) ** 2)
