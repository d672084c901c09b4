"""Whether a person can have been where and when a subject's confirmed sightings put them.

A candidate sighting conflicts with the subject's timeline when it overlaps a confirmed sighting on
another camera (two places at once), or when the gap to the confirmed sighting just before or just
after it is shorter than the walking time between the two cameras (too fast). Walking times come
from what admins entered, else from the cameras' positions and a walking speed; when neither is
known, only the "same time" check applies.

Everything here is pure except :meth:`WalkingTimes.from_database`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from webapp.cameras.models import Camera, WalkingTime

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)


@dataclass(frozen=True, slots=True)
class Seen:
    """A sighting or a candidate, in place and time: one person (tracklet) on one camera."""

    tracklet: int
    camera: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Place:
    """Where a camera stands, as far as it is known.

    Attributes:
        lat_lon: latitude and longitude in degrees.
        plan: the site plan the camera is placed on.
        plan_m: the camera's point on that plan in metres from its top left, when the plan has a scale.
    """

    lat_lon: tuple[float, float] | None = None
    plan: int | None = None
    plan_m: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class TravelFlag:
    """Why a sighting does not fit the timeline: ``needed_s`` (None when unknown) against ``available_s``."""

    tracklet: int
    reason: str
    needed_s: float | None
    available_s: float


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance in metres between two (latitude, longitude) points in degrees."""
    lat1, lon1, lat2, lon2 = (math.radians(v) for v in (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def human_duration(seconds: float) -> str:
    """A duration as people say it: ``"4.5 s"``, ``"40 s"``, ``"4 min 30 s"``, ``"25 min"``, ``"1 h 5 min"``."""
    s = max(0.0, seconds)
    if s < 9.95:
        return f"{round(s, 1):g} s"
    if s < 59.5:
        return f"{round(s)} s"
    if s < 599.5:
        minutes, rest = divmod(round(s), 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    total = round(s / 60)
    if total < 60:
        return f"{total} min"
    hours, minutes = divmod(total, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


class WalkingTimes:
    """The least time a person needs between two cameras' views, either way.

    An entered time for the pair wins; otherwise the distance between the cameras over the walking
    speed: on the same scaled site plan, the distance on the plan; else the great-circle distance
    between their latitudes and longitudes. A time of 0 means the two views overlap.
    """

    def __init__(
        self,
        known: Mapping[tuple[int, int], float] | None = None,
        places: Mapping[int, Place] | None = None,
        *,
        speed_mps: float = 1.4,
        names: Mapping[int, str] | None = None,
    ) -> None:
        """Walking times from the ``known`` seconds of camera pairs (in either order), the cameras'
        ``places`` and ``speed_mps``; ``names`` are the cameras' names for messages.

        Raises:
            ValueError: a speed that is not a positive finite number, a negative or non-finite time,
                or a time from a camera to itself.
        """
        if not (math.isfinite(speed_mps) and speed_mps > 0):
            raise ValueError(f"the walking speed must be a positive number of m/s, got {speed_mps}")
        self._known: dict[tuple[int, int], float] = {}
        for (a, b), seconds in (known or {}).items():
            if a == b or not (math.isfinite(seconds) and seconds >= 0):
                raise ValueError(f"not a walking time: {a}↔{b} {seconds} s")
            self._known[(min(a, b), max(a, b))] = float(seconds)
        self._places = dict(places or {})
        self._names = dict(names or {})
        self.speed_mps = speed_mps

    @classmethod
    def from_database(cls, camera_ids: Iterable[int], speed_mps: float | None = None) -> WalkingTimes:
        """The walking times between the cameras ``camera_ids``: their entered times, positions and names.

        ``speed_mps`` defaults to ``settings.LONGVIEW["WALKING_SPEED_MPS"]``.
        """
        ids = set(camera_ids)
        speed = settings.LONGVIEW["WALKING_SPEED_MPS"] if speed_mps is None else speed_mps
        places: dict[int, Place] = {}
        names: dict[int, str] = {}
        for camera in Camera.objects.filter(pk__in=ids).select_related("plan"):
            names[camera.pk] = camera.name
            places[camera.pk] = _place_of(camera)
        rows = WalkingTime.objects.filter(camera_a__in=ids, camera_b__in=ids)
        known = {(r.camera_a_id, r.camera_b_id): r.seconds for r in rows}
        return cls(known, places, speed_mps=speed, names=names)

    def name(self, camera: int) -> str:
        """The camera's name for messages (``"camera 7"`` when it was not loaded)."""
        return self._names.get(camera, f"camera {camera}")

    def between(self, a: int, b: int) -> float | None:
        """The least seconds from camera ``a`` to ``b``: 0 for the same camera, None when unknown."""
        if a == b:
            return 0.0
        entered = self._known.get((min(a, b), max(a, b)))
        if entered is not None:
            return entered
        metres = self.distance_m(a, b)
        return None if metres is None else metres / self.speed_mps

    def distance_m(self, a: int, b: int) -> float | None:
        """The distance between two cameras from their positions, None when it cannot be told."""
        pa, pb = self._places.get(a), self._places.get(b)
        if pa is None or pb is None:
            return None
        if pa.plan is not None and pa.plan == pb.plan and pa.plan_m is not None and pb.plan_m is not None:
            return math.dist(pa.plan_m, pb.plan_m)
        if pa.lat_lon is not None and pb.lat_lon is not None:
            return haversine_m(pa.lat_lon, pb.lat_lon)
        return None


def _place_of(camera: Camera) -> Place:
    lat_lon = None
    if camera.latitude is not None and camera.longitude is not None:
        lat_lon = (camera.latitude, camera.longitude)
    plan_m = None
    plan = camera.plan
    if plan is not None and plan.width_m and camera.plan_x is not None and camera.plan_y is not None:
        height_m = plan.width_m * plan.height_px / plan.width_px
        plan_m = (camera.plan_x * plan.width_m, camera.plan_y * height_m)
    return Place(lat_lon=lat_lon, plan=camera.plan_id, plan_m=plan_m)


def _overlap(a: Seen, b: Seen) -> bool:
    return a.start < b.end and b.start < a.end


def travel_flag(candidate: Seen, confirmed: Sequence[Seen], walking: WalkingTimes) -> TravelFlag | None:
    """Why ``candidate`` cannot be the person of the ``confirmed`` sightings, or None when it can.

    Three checks, on cameras other than the candidate's (the same camera never conflicts) and
    skipping the candidate's own tracklet:

    * two places at once: a confirmed sighting overlapping the candidate in time, on a camera whose
      view is not known to overlap the candidate's (walking time 0);
    * too fast from: the gap after the confirmed sighting that ends last before the candidate starts
      is shorter than the walking time between their cameras;
    * too fast to: the same for the confirmed sighting that starts first after the candidate ends.

    Only those two neighbours count for "too fast": a sighting further away in time is separated
    from the candidate by one that is nearer. An unknown walking time passes both. When several
    checks fail, "two places at once" wins, then the larger shortfall.
    """
    others = [s for s in confirmed if s.tracklet != candidate.tracklet]
    for s in sorted(others, key=lambda s: (s.start, s.tracklet)):
        if s.camera != candidate.camera and _overlap(s, candidate):
            needed = walking.between(s.camera, candidate.camera)
            if needed != 0.0:
                return TravelFlag(candidate.tracklet, f"at {walking.name(s.camera)} at the same time", needed, 0.0)
    before = [s for s in others if s.end <= candidate.start]
    after = [s for s in others if s.start >= candidate.end]
    flags: list[TravelFlag] = []
    if before:
        previous = max(before, key=lambda s: (s.end, s.start, -s.tracklet))
        gap = (candidate.start - previous.end).total_seconds()
        flag = _too_fast(candidate, previous, gap, walking, "from")
        if flag is not None:
            flags.append(flag)
    if after:
        following = min(after, key=lambda s: (s.start, s.end, s.tracklet))
        gap = (following.start - candidate.end).total_seconds()
        flag = _too_fast(candidate, following, gap, walking, "to")
        if flag is not None:
            flags.append(flag)
    return max(flags, key=lambda f: (f.needed_s or 0.0) - f.available_s, default=None)


def _too_fast(candidate: Seen, other: Seen, gap_s: float, walking: WalkingTimes, direction: str) -> TravelFlag | None:
    if other.camera == candidate.camera:
        return None
    needed = walking.between(other.camera, candidate.camera)
    if needed is None or gap_s >= needed:
        return None
    reason = f"needs {human_duration(needed)} {direction} {walking.name(other.camera)}, {human_duration(gap_s)} available"
    return TravelFlag(candidate.tracklet, reason, needed, gap_s)


def timeline_flags(confirmed: Sequence[Seen], walking: WalkingTimes) -> dict[int, TravelFlag]:
    """The confirmed sightings that conflict with their neighbours in time, by tracklet (both of a
    conflicting pair are flagged: which of the two is wrong is for the investigator to judge)."""
    flags: dict[int, TravelFlag] = {}
    for seen in confirmed:
        flag = travel_flag(seen, confirmed, walking)
        if flag is not None:
            flags[seen.tracklet] = flag
    return flags


def demote_implausible(ranked: Sequence[int], flags: Mapping[int, TravelFlag]) -> list[int]:
    """``ranked`` with the flagged tracklets moved after every unflagged one, each part in its order."""
    return [t for t in ranked if t not in flags] + [t for t in ranked if t in flags]
