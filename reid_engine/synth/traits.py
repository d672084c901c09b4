"""Sampling of SynthCC identities: the persistent traits that survive every change of clothes.

Body proportions, skin, face, hair, gait and glasses never change between a person's outfits; they
are what a clothes-changing ReID model has to learn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

RGB = tuple[int, int, int]

CLOTH_RGB: dict[str, RGB] = {
    "black": (28, 28, 32),
    "white": (232, 232, 226),
    "grey": (128, 128, 130),
    "red": (185, 32, 38),
    "orange": (232, 118, 32),
    "yellow": (232, 204, 48),
    "green": (44, 138, 62),
    "blue": (38, 72, 168),
    "purple": (112, 52, 142),
    "pink": (232, 142, 176),
    "brown": (112, 72, 42),
}
HAIR_RGB: dict[str, RGB] = {
    "black": (26, 22, 20),
    "brown": (92, 58, 34),
    "blond": (204, 172, 104),
    "grey": (168, 166, 160),
    "red": (146, 60, 30),
}
_SKIN_RAMP = np.array(
    [(250, 222, 198), (228, 184, 150), (196, 144, 104), (146, 98, 66), (92, 60, 40)], dtype=np.float64
)
GLASSES_RGB: tuple[RGB, ...] = ((20, 20, 20), (92, 56, 30), (170, 170, 176))


@dataclass(frozen=True, slots=True)
class Body:
    """Body proportions as fractions of body height (``height_m`` is the absolute height)."""

    height_m: float
    head_h: float
    head_w: float
    neck: float
    shoulder_w: float
    waist_w: float
    hip_w: float
    torso_depth: float
    belly: float
    leg: float
    upper_arm: float
    forearm: float
    arm_r: float
    thigh_r: float
    calf_r: float


@dataclass(frozen=True, slots=True)
class Face:
    """Face features, in fractions of the head's width/height."""

    eye_gap: float
    eye_y: float
    eye_size: float
    brow: float
    nose: float
    mouth_w: float
    lip_rgb: RGB
    beard: bool


@dataclass(frozen=True, slots=True)
class Gait:
    """Walking-cycle parameters (angles in radians)."""

    stride: float
    knee: float
    arm_swing: float
    elbow: float
    arm_out: float
    lean: float
    bounce: float
    cadence: float


@dataclass(frozen=True, slots=True)
class Identity:
    """One synthetic person; every field is persistent across outfits."""

    pid: int
    gender: str
    age_group: str
    build: str
    body: Body
    skin_rgb: RGB
    face: Face
    hair_style: str
    hair_colour: str
    hair_rgb: RGB
    hair_volume: float
    hair_fringe: float
    hair_length: float
    gait: Gait
    glasses: bool
    glasses_rgb: RGB

    def attributes(self) -> dict[str, str | bool]:
        """The identity's stable attributes in the unified schema."""
        h = self.body.height_m
        ref = 1.78 if self.gender == "male" else 1.65
        if self.age_group == "child":
            ref = 1.35
        height = "short" if h < ref - 0.06 else "tall" if h > ref + 0.06 else "average"
        hair_length = {"bun": "long"}.get(self.hair_style, self.hair_style)
        return {
            "gender": self.gender,
            "age_group": self.age_group,
            "build": self.build,
            "height": height,
            "hair_length": hair_length,
            "hair_colour": self.hair_colour,
            "glasses": self.glasses,
            "beard": self.face.beard,
        }

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def _pick(rng: np.random.Generator, values: tuple[str, ...], p: tuple[float, ...]) -> str:
    probs = np.asarray(p, dtype=np.float64)
    return values[int(rng.choice(len(values), p=probs / probs.sum()))]


def _jitter(rng: np.random.Generator, rgb: RGB, amount: float) -> RGB:
    gain = rng.uniform(1.0 - amount, 1.0 + amount * 0.5)
    out = np.clip(np.asarray(rgb, dtype=np.float64) * gain + rng.normal(0.0, amount * 40.0, 3), 0, 255)
    return (int(out[0]), int(out[1]), int(out[2]))


def sample_identity(rng: np.random.Generator, pid: int) -> Identity:
    """Draw one identity; every trait is independent of the outfits it will wear."""
    gender = "female" if rng.random() < 0.5 else "male"
    age_group = _pick(rng, ("child", "adult", "senior"), (0.06, 0.79, 0.15))
    build = _pick(rng, ("slim", "medium", "heavy"), (0.3, 0.45, 0.25))
    male = gender == "male"
    heavy, slim = build == "heavy", build == "slim"
    height = rng.normal(1.78 if male else 1.65, 0.07)
    if age_group == "child":
        height = rng.uniform(1.15, 1.5)
    elif age_group == "senior":
        height -= 0.03
    u = lambda lo, hi: float(rng.uniform(lo, hi))  # noqa: E731
    head_h = u(0.12, 0.15) + (0.025 if age_group == "child" else 0.0)
    width_gain = (1.2 if heavy else 0.88 if slim else 1.0) * u(0.95, 1.05)
    body = Body(
        height_m=float(np.clip(height, 1.1, 2.02)),
        head_h=head_h,
        head_w=head_h * u(0.72, 0.86),
        neck=u(0.025, 0.045),
        shoulder_w=(u(0.235, 0.27) if male else u(0.2, 0.235)) * (1.04 if heavy else 1.0),
        waist_w=(u(0.15, 0.17) if male else u(0.125, 0.15)) * width_gain**2,
        hip_w=(u(0.17, 0.19) if male else u(0.19, 0.22)) * width_gain,
        torso_depth=u(0.11, 0.13) * width_gain,
        belly=u(0.04, 0.08) if heavy else u(0.0, 0.02),
        leg=u(0.45, 0.53),
        upper_arm=u(0.17, 0.19),
        forearm=u(0.14, 0.16),
        arm_r=u(0.024, 0.03) * width_gain,
        thigh_r=u(0.046, 0.056) * width_gain,
        calf_r=u(0.03, 0.037) * width_gain,
    )
    tone = float(rng.uniform(0.0, 1.0) ** 1.1 * (len(_SKIN_RAMP) - 1))
    lo = int(tone)
    hi = min(lo + 1, len(_SKIN_RAMP) - 1)
    skin_f = _SKIN_RAMP[lo] * (1 - (tone - lo)) + _SKIN_RAMP[hi] * (tone - lo)
    skin = _jitter(rng, (int(skin_f[0]), int(skin_f[1]), int(skin_f[2])), 0.06)
    if age_group == "senior":
        hair_colour = _pick(rng, ("grey", "black", "brown", "blond"), (0.7, 0.1, 0.1, 0.1))
    else:
        hair_colour = _pick(rng, ("black", "brown", "blond", "red"), (0.45, 0.33, 0.15, 0.07))
    if male:
        style_p = (0.25 if age_group == "senior" else 0.08, 0.67, 0.17, 0.06, 0.02)
    else:
        style_p = (0.0, 0.12, 0.3, 0.38, 0.2)
    hair_style = _pick(rng, ("bald", "short", "medium", "long", "bun"), style_p)
    beard = bool(male and age_group != "child" and rng.random() < 0.3)
    face = Face(
        eye_gap=u(0.32, 0.46),
        eye_y=u(0.46, 0.56),
        eye_size=u(0.07, 0.11),
        brow=u(0.02, 0.06),
        nose=u(0.1, 0.18),
        mouth_w=u(0.26, 0.42),
        lip_rgb=_jitter(rng, (168, 82, 80), 0.1),
        beard=beard,
    )
    old = age_group == "senior"
    gait = Gait(
        stride=u(0.28, 0.44) * (0.85 if old else 1.0),
        knee=u(0.6, 1.1),
        arm_swing=u(0.15, 0.6) * (0.7 if old else 1.0),
        elbow=u(0.05, 0.55),
        arm_out=u(0.04, 0.18) + (0.06 if heavy else 0.0),
        lean=u(0.0, 0.08) + (u(0.06, 0.16) if old else 0.0),
        bounce=u(0.005, 0.02),
        cadence=u(0.8, 1.0) * (0.85 if old else 1.0),
    )
    glasses = bool(rng.random() < (0.45 if old else 0.22))
    return Identity(
        pid=pid,
        gender=gender,
        age_group=age_group,
        build=build,
        body=body,
        skin_rgb=skin,
        face=face,
        hair_style=hair_style,
        hair_colour=hair_colour,
        hair_rgb=_jitter(rng, HAIR_RGB[hair_colour], 0.2),
        hair_volume=u(1.0, 1.3),
        hair_fringe=u(0.0, 1.0),
        hair_length=u(0.06, 0.22),
        gait=gait,
        glasses=glasses,
        glasses_rgb=GLASSES_RGB[int(rng.integers(len(GLASSES_RGB)))],
    )
