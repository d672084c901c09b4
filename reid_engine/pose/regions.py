"""Head, upper-garment and lower-garment regions of a person crop, derived from COCO keypoints.

No human-parsing model can be had offline, so regions are drawn from the skeleton: the torso polygon
and thick arm segments make the upper garment, thick leg segments and the pelvis the lower garment,
and a disc over the visible face points (raised for hair or a hat) the head. Limb thickness scales
with the torso. When the shoulders or hips are not visible the regions fall back to fixed bands of
the box (head 0–16 %, upper 16–55 %, lower 55–100 % of its height), and ``from_keypoints`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# COCO keypoint order.
NOSE, L_EYE, R_EYE, L_EAR, R_EAR = 0, 1, 2, 3, 4
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 5, 6, 7, 8, 9, 10
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 11, 12, 13, 14, 15, 16

COCO_SKELETON: tuple[tuple[int, int], ...] = (
    (L_SHOULDER, R_SHOULDER),
    (L_SHOULDER, L_ELBOW),
    (L_ELBOW, L_WRIST),
    (R_SHOULDER, R_ELBOW),
    (R_ELBOW, R_WRIST),
    (L_SHOULDER, L_HIP),
    (R_SHOULDER, R_HIP),
    (L_HIP, R_HIP),
    (L_HIP, L_KNEE),
    (L_KNEE, L_ANKLE),
    (R_HIP, R_KNEE),
    (R_KNEE, R_ANKLE),
    (NOSE, L_EYE),
    (NOSE, R_EYE),
    (L_EYE, L_EAR),
    (R_EYE, R_EAR),
)


@dataclass(frozen=True, slots=True)
class BodyRegions:
    """Boolean masks (h, w) over one crop.

    Attributes:
        head: face, hair or hat.
        upper: upper garment including sleeves (arms).
        lower: lower garment (trousers, skirt, shorts) over the legs.
        person: union of the three, slightly grown: the person's silhouette, roughly.
        from_keypoints: False when the fixed-band fallback was used.
    """

    head: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    person: np.ndarray
    from_keypoints: bool


def body_regions(
    height: int, width: int, keypoints: np.ndarray | None, *, min_score: float = 0.3
) -> BodyRegions:
    """Regions of an ``height`` × ``width`` crop.

    Args:
        height, width: crop size in pixels.
        keypoints: float32 (17, 3) COCO keypoints (x, y, score) in crop pixels, or None.
        min_score: keypoints below this score are treated as not visible.

    Returns:
        The regions; the garment masks never overlap (upper wins over lower at the waist, and the
        head is removed from both).
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"crop size must be positive, got {height}x{width}")
    if keypoints is None or not _torso_visible(keypoints, min_score):
        return _bands(height, width)
    kp = np.asarray(keypoints, dtype=np.float32)
    seen = kp[:, 2] >= min_score
    shoulders = (kp[L_SHOULDER, :2] + kp[R_SHOULDER, :2]) / 2
    hips = (kp[L_HIP, :2] + kp[R_HIP, :2]) / 2
    torso = float(np.linalg.norm(hips - shoulders))
    shoulder_w = float(np.linalg.norm(kp[L_SHOULDER, :2] - kp[R_SHOULDER, :2]))
    # Side views squeeze the shoulders together; the torso length keeps limbs a sensible width.
    unit = max(torso, 1.5 * shoulder_w, 4.0)
    limb = max(2, round(0.28 * unit))

    upper = np.zeros((height, width), np.uint8)
    lower = np.zeros((height, width), np.uint8)
    head = np.zeros((height, width), np.uint8)
    torso_poly = np.stack([kp[L_SHOULDER, :2], kp[R_SHOULDER, :2], kp[R_HIP, :2], kp[L_HIP, :2]])
    cv2.fillConvexPoly(upper, _grow(torso_poly, 0.12 * unit).round().astype(np.int32), 1)
    for a, b in ((L_SHOULDER, L_ELBOW), (L_ELBOW, L_WRIST), (R_SHOULDER, R_ELBOW), (R_ELBOW, R_WRIST)):
        if seen[a] and seen[b]:
            cv2.line(upper, _pt(kp[a]), _pt(kp[b]), 1, thickness=limb)
    hip_poly = np.stack([kp[L_HIP, :2], kp[R_HIP, :2]])
    for a, b in ((L_HIP, L_KNEE), (L_KNEE, L_ANKLE), (R_HIP, R_KNEE), (R_KNEE, R_ANKLE)):
        if seen[a] and seen[b]:
            cv2.line(lower, _pt(kp[a]), _pt(kp[b]), 1, thickness=round(limb * 1.2))
    knees = [kp[i, :2] for i in (L_KNEE, R_KNEE) if seen[i]]
    if knees:
        pelvis = np.concatenate([hip_poly, np.stack(knees[::-1])])
        cv2.fillConvexPoly(lower, cv2.convexHull(pelvis.round().astype(np.int32)), 1)
    else:
        # Legs out of view: the garment still covers a band below the hips.
        x1, x2 = sorted((kp[L_HIP, 0], kp[R_HIP, 0]))
        y = hips[1]
        cv2.rectangle(lower, _pt((x1 - 0.1 * unit, y)), _pt((x2 + 0.1 * unit, y + 0.5 * unit)), 1, -1)

    face = [kp[i, :2] for i in (NOSE, L_EYE, R_EYE, L_EAR, R_EAR) if seen[i]]
    centre = np.mean(face, axis=0) if face else shoulders - np.array([0.0, 0.45 * unit], np.float32)
    radius = max(2, round(0.32 * unit))
    # Hair and hats sit above the face points.
    cv2.ellipse(
        head, _pt(centre - np.array([0.0, 0.15 * unit])), (radius, round(radius * 1.25)), 0, 0, 360, 1, -1
    )

    head_b = head.astype(bool)
    upper_b = upper.astype(bool) & ~head_b
    lower_b = lower.astype(bool) & ~upper_b & ~head_b
    person = cv2.dilate((head_b | upper_b | lower_b).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return BodyRegions(head=head_b, upper=upper_b, lower=lower_b, person=person, from_keypoints=True)


def _torso_visible(kp: np.ndarray, min_score: float) -> bool:
    return bool(all(kp[i, 2] >= min_score for i in (L_SHOULDER, R_SHOULDER, L_HIP, R_HIP)))


def _bands(height: int, width: int) -> BodyRegions:
    rows = np.arange(height)[:, None] / max(height, 1)
    full = np.ones((height, width), bool)
    head = (rows < 0.16) & full
    upper = (rows >= 0.16) & (rows < 0.55) & full
    lower = (rows >= 0.55) & full
    return BodyRegions(head=head, upper=upper, lower=lower, person=full, from_keypoints=False)


def _grow(poly: np.ndarray, amount: float) -> np.ndarray:
    centre = poly.mean(axis=0)
    direction = poly - centre
    norm = np.linalg.norm(direction, axis=1, keepdims=True)
    return poly + direction / np.maximum(norm, 1e-6) * amount


def _pt(p: np.ndarray | tuple[float, float]) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))
