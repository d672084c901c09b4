"""Who is seen where, in what: identity splits, camera visits and query/gallery selection.

Everything here is drawn from ``(seed, purpose)`` streams, before any pixel is rendered, so the same
seed gives the same plan whatever the number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from reid_engine.synth.outfits import Population, sample_population

ProtocolName = Literal["ltcc", "prcc"]

# Stream ids for numpy SeedSequence([seed, stream, ...]); one per independent purpose.
STREAM_POPULATION = 1
STREAM_SPLIT = 2
STREAM_VISITS = 3
STREAM_ITEM = 4
STREAM_QUERY = 5
STREAM_SCENE = 6


def stream(seed: int, purpose: int, *index: int) -> np.random.Generator:
    """A generator that depends only on the global seed, a purpose and an optional item index."""
    return np.random.default_rng([seed, purpose, *index])


@dataclass(frozen=True, slots=True)
class Visit:
    """One identity in one outfit walking past one camera.

    Attributes:
        index: position in the plan (seeds the visit's own randomness).
        pid, clothes_id: who, in what.
        camid: which camera.
        base_yaw: walking direction relative to the camera, degrees.
        train: True for training identities.
    """

    index: int
    pid: int
    clothes_id: int
    camid: int
    base_yaw: float
    train: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """A whole data set before rendering: population, identity split and visits."""

    population: Population
    train_pids: frozenset[int]
    visits: tuple[Visit, ...]
    protocol: ProtocolName
    num_cameras: int


def make_plan(
    *,
    seed: int,
    num_ids: int,
    outfits: int,
    cameras: int,
    cams_per_outfit: int,
    single_outfit_fraction: float,
    train_fraction: float,
    protocol: ProtocolName,
    camera_yaws: tuple[tuple[float, ...], ...],
) -> Plan:
    """Draw the population, split identities and place each outfit in front of cameras.

    ``ltcc``: each outfit is seen by ``cams_per_outfit`` random cameras; some identities own a single
    outfit. ``prcc``: three cameras; outfit 0 is seen by cameras 0 (A) and 1 (B), outfit 1 by camera
    2 (C).

    Raises:
        ValueError: on sizes that cannot make a valid set.
    """
    if num_ids < 2:
        raise ValueError("need at least 2 identities")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError("train fraction must be in (0, 1)")
    if protocol == "prcc":
        if cameras != 3:
            raise ValueError("the prcc protocol uses exactly 3 cameras")
        if outfits < 2:
            raise ValueError("the prcc protocol needs at least 2 outfits per identity")
        single_outfit_fraction = 0.0
    elif not 1 <= cams_per_outfit <= cameras:
        raise ValueError(f"cameras per outfit must be between 1 and {cameras}")
    if len(camera_yaws) != cameras:
        raise ValueError("one yaw preference list per camera is needed")
    population = sample_population(
        stream(seed, STREAM_POPULATION),
        num_ids=num_ids,
        outfits_per_id=outfits,
        single_outfit_fraction=single_outfit_fraction,
    )
    order = stream(seed, STREAM_SPLIT).permutation(num_ids)
    n_train = min(num_ids - 1, max(1, round(num_ids * train_fraction)))
    train = frozenset(int(p) for p in order[:n_train])
    rng = stream(seed, STREAM_VISITS)
    visits: list[Visit] = []
    for ident in population.identities:
        for k, outfit in enumerate(population.outfits[ident.pid]):
            if protocol == "prcc":
                cams = [0, 1] if k == 0 else [2] if k == 1 else []
            else:
                cams = sorted(rng.choice(cameras, size=cams_per_outfit, replace=False).tolist())
            for cam in cams:
                yaws = camera_yaws[cam]
                visits.append(
                    Visit(
                        index=len(visits),
                        pid=ident.pid,
                        clothes_id=outfit.clothes_id,
                        camid=int(cam),
                        base_yaw=float(yaws[int(rng.integers(len(yaws)))]),
                        train=ident.pid in train,
                    )
                )
    return Plan(
        population=population,
        train_pids=train,
        visits=tuple(visits),
        protocol=protocol,
        num_cameras=cameras,
    )


def split_items(
    plan: Plan, item_visits: list[int], *, seed: int, query_per: Literal["camera", "outfit"] = "camera"
) -> list[Literal["train", "query", "gallery"]]:
    """Assign each item (given by its visit index) to train, query or gallery.

    ``ltcc``: for every test identity and camera (``query_per="camera"``, image sets) or outfit
    (``"outfit"``, tracklet sets), one item is a query; the rest are gallery.
    ``prcc``: test items from cameras B and C are queries, camera A is the gallery.
    """
    splits: list[Literal["train", "query", "gallery"]] = []
    by_key: dict[tuple[int, int], list[int]] = {}
    for i, v in enumerate(item_visits):
        visit = plan.visits[v]
        if visit.train:
            splits.append("train")
        elif plan.protocol == "prcc":
            splits.append("gallery" if visit.camid == 0 else "query")
        else:
            splits.append("gallery")
            second = visit.camid if query_per == "camera" else visit.clothes_id
            by_key.setdefault((visit.pid, second), []).append(i)
    rng = stream(seed, STREAM_QUERY)
    for key in sorted(by_key):
        items = by_key[key]
        splits[items[int(rng.integers(len(items)))]] = "query"
    return splits
