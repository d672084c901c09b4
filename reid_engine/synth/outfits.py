"""Outfits: a shared pool of garment templates, worn with a small colour jitter by several people.

Different identities deliberately wear look-alike clothes (the hard negatives of clothes-changing
ReID); a population ties identities to their outfits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from reid_engine.attributes.schema import COLOURS
from reid_engine.synth.traits import CLOTH_RGB, RGB, Identity, _jitter, _pick, sample_identity


@dataclass(frozen=True, slots=True)
class Outfit:
    """One outfit worn by one identity (``clothes_id``), instantiated from a pool ``template``."""

    clothes_id: int
    pid: int
    template: int
    upper_type: str
    sleeve: str
    upper_colour: str
    upper_rgb: RGB
    pattern: str
    pattern_rgb: RGB
    pattern_period: float
    pattern_angle: float
    inner_rgb: RGB | None
    lower_type: str
    lower_colour: str
    lower_rgb: RGB
    shoes_colour: str
    shoes_rgb: RGB
    bag: str
    bag_rgb: RGB
    bag_side: int
    hat: bool
    hat_rgb: RGB

    def attributes(self) -> dict[str, str | bool]:
        """The outfit's mutable attributes in the unified schema."""
        return {
            "upper_type": self.upper_type,
            "sleeve_length": self.sleeve,
            "upper_colour": self.upper_colour,
            "upper_pattern": self.pattern,
            "lower_type": self.lower_type,
            "lower_colour": self.lower_colour,
            "shoes_colour": self.shoes_colour,
            "backpack": self.bag == "backpack",
            "handbag": self.bag == "handbag",
            "shoulder_bag": self.bag == "shoulder_bag",
            "hat": self.hat,
        }

    def to_json(self) -> dict[str, object]:
        return asdict(self)


# How common each palette colour is in street clothing: dark and neutral colours dominate, which is
# what makes strangers look alike. Order follows COLOURS.
UPPER_COLOUR_P = (0.22, 0.13, 0.13, 0.07, 0.03, 0.04, 0.06, 0.14, 0.04, 0.05, 0.09)
LOWER_COLOUR_P = (0.34, 0.05, 0.17, 0.03, 0.01, 0.02, 0.04, 0.2, 0.02, 0.02, 0.1)


def _common_colour(rng: np.random.Generator, weights: tuple[float, ...]) -> str:
    return _pick(rng, COLOURS, weights)


def _colour(rng: np.random.Generator, options: tuple[str, ...] = COLOURS) -> str:
    return options[int(rng.integers(len(options)))]


def sample_outfit_template(rng: np.random.Generator, template: int, *, female: bool) -> Outfit:
    """Draw one pool outfit; ``female`` only shifts garment-type odds (dresses and skirts)."""
    upper_type = _pick(
        rng,
        ("tshirt", "shirt", "jacket", "coat", "dress"),
        (0.34, 0.22, 0.22, 0.12, 0.1) if female else (0.4, 0.26, 0.22, 0.12, 0.0),
    )
    sleeve = "long" if upper_type in ("jacket", "coat") else _pick(rng, ("short", "long"), (0.6, 0.4))
    if upper_type == "shirt":
        sleeve = _pick(rng, ("short", "long"), (0.3, 0.7))
    upper_colour = _common_colour(rng, UPPER_COLOUR_P)
    pattern = _pick(rng, ("solid", "stripes", "checks", "print"), (0.55, 0.18, 0.14, 0.13))
    if upper_type in ("jacket", "coat"):
        pattern = _pick(rng, ("solid", "checks"), (0.85, 0.15))
    pattern_colour = _colour(rng, tuple(c for c in COLOURS if c != upper_colour))
    if upper_type == "dress":
        lower_type = "dress"
    else:
        lower_type = _pick(
            rng,
            ("trousers", "jeans", "shorts", "skirt"),
            (0.33, 0.3, 0.17, 0.2) if female else (0.45, 0.4, 0.15, 0.0),
        )
    if lower_type == "jeans":
        lower_colour = _pick(rng, ("blue", "black", "grey", "white"), (0.65, 0.2, 0.1, 0.05))
    elif lower_type == "dress":
        lower_colour = upper_colour
    else:
        lower_colour = _common_colour(rng, LOWER_COLOUR_P)
    shoes_colour = _pick(rng, ("black", "white", "brown", "grey", "blue", "red"), (4, 3, 2, 1, 0.5, 0.5))
    bag = _pick(rng, ("none", "backpack", "handbag", "shoulder_bag"), (0.45, 0.22, 0.13, 0.2))
    open_front = upper_type in ("jacket", "coat") and rng.random() < 0.5
    lower_rgb = CLOTH_RGB[lower_colour]
    if lower_type == "jeans" and lower_colour == "blue":
        lower_rgb = (52, 82, 130)
    return Outfit(
        clothes_id=-1,
        pid=-1,
        template=template,
        upper_type=upper_type,
        sleeve=sleeve,
        upper_colour=upper_colour,
        upper_rgb=CLOTH_RGB[upper_colour],
        pattern=pattern,
        pattern_rgb=CLOTH_RGB[pattern_colour],
        pattern_period=float(rng.uniform(0.02, 0.05)),
        pattern_angle=float(rng.choice([0.0, 90.0, 45.0, -45.0], p=[0.55, 0.25, 0.1, 0.1])),
        inner_rgb=CLOTH_RGB[_colour(rng)] if open_front else None,
        lower_type=lower_type,
        lower_colour=lower_colour,
        lower_rgb=lower_rgb,
        shoes_colour=shoes_colour,
        shoes_rgb=CLOTH_RGB[shoes_colour],
        bag=bag,
        bag_rgb=CLOTH_RGB[_colour(rng, ("black", "brown", "grey", "blue", "red", "green", "pink"))],
        bag_side=1 if rng.random() < 0.5 else -1,
        hat=bool(rng.random() < 0.15),
        hat_rgb=CLOTH_RGB[_colour(rng)],
    )


def wear(rng: np.random.Generator, template: Outfit, *, pid: int, clothes_id: int) -> Outfit:
    """Instantiate a pool template for one wearer: same garments, slightly different colours."""
    inner = None if template.inner_rgb is None else _jitter(rng, template.inner_rgb, 0.05)
    return replace(
        template,
        pid=pid,
        clothes_id=clothes_id,
        upper_rgb=_jitter(rng, template.upper_rgb, 0.05),
        pattern_rgb=_jitter(rng, template.pattern_rgb, 0.05),
        pattern_period=template.pattern_period * float(rng.uniform(0.9, 1.1)),
        inner_rgb=inner,
        lower_rgb=_jitter(rng, template.lower_rgb, 0.05),
        shoes_rgb=_jitter(rng, template.shoes_rgb, 0.05),
        bag_rgb=_jitter(rng, template.bag_rgb, 0.05),
        hat_rgb=_jitter(rng, template.hat_rgb, 0.05),
    )


@dataclass(frozen=True, slots=True)
class Population:
    """Identities and their outfits; ``outfits[pid]`` lists that identity's outfits."""

    identities: tuple[Identity, ...]
    outfits: tuple[tuple[Outfit, ...], ...]

    def all_outfits(self) -> tuple[Outfit, ...]:
        return tuple(o for per_id in self.outfits for o in per_id)


def sample_population(
    rng: np.random.Generator,
    *,
    num_ids: int,
    outfits_per_id: int,
    single_outfit_fraction: float = 0.0,
    wearers_per_template: float = 4.0,
) -> Population:
    """Draw identities and outfits from a shared template pool (the hard negatives).

    Args:
        rng: the only source of randomness.
        num_ids: number of identities.
        outfits_per_id: outfits of a regular identity (distinct templates).
        single_outfit_fraction: share of identities that own a single outfit (same-clothes subset).
        wearers_per_template: average number of identity-outfits per pool template.

    Returns:
        The population; clothes ids are contiguous in (pid, outfit) order.
    """
    if num_ids < 1 or outfits_per_id < 1:
        raise ValueError("need at least one identity and one outfit per identity")
    identities = tuple(sample_identity(rng, pid) for pid in range(num_ids))
    num_templates = max(outfits_per_id * 2, round(num_ids * outfits_per_id / wearers_per_template))
    # One pool for everyone; men skip the dresses and skirts, so look-alikes also cross genders.
    pool = [sample_outfit_template(rng, t, female=t % 2 == 0) for t in range(num_templates)]
    male_ok = [t for t, o in enumerate(pool) if o.lower_type not in ("dress", "skirt")]
    # A few outfits are very common and most are rare (a Zipf-like popularity), as on a real street.
    popularity = 1.0 / (np.arange(num_templates) + 8.0)
    single = set(
        rng.choice(num_ids, size=round(num_ids * single_outfit_fraction), replace=False).tolist()
    )
    outfits: list[tuple[Outfit, ...]] = []
    clothes_id = 0
    for ident in identities:
        n = 1 if ident.pid in single else outfits_per_id
        allowed = (
            np.arange(num_templates) if ident.gender == "female" else np.asarray(male_ok, dtype=np.int64)
        )
        picks = rng.choice(
            allowed,
            size=min(n, allowed.size),
            replace=False,
            p=popularity[allowed] / popularity[allowed].sum(),
        )
        own = []
        for t in picks.tolist():
            own.append(wear(rng, pool[t], pid=ident.pid, clothes_id=clothes_id))
            clothes_id += 1
        outfits.append(tuple(own))
    return Population(identities=identities, outfits=tuple(outfits))
