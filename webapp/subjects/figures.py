"""The two drawings of an evidence report, as inline SVG: the timeline (a row per camera, sightings in
wall-clock time) and the map (cameras on their site plans, or plotted by latitude/longitude, with
the route through the sightings in order)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape


@dataclass(frozen=True, kw_only=True)
class Mark:
    """One sighting as the drawings need it."""

    number: int
    camera: str
    start: datetime
    end: datetime


@dataclass(frozen=True, kw_only=True)
class PlanView:
    """A site plan with the sightings' cameras on it; ``image`` is its path inside the package, or
    empty when the plan's image is missing."""

    name: str
    image: str
    width: int
    height: int
    # camera name -> (x, y) fractions of the plan's width and height
    points: dict[str, tuple[float, float]]


def _fmt(at: datetime, *, tenths: bool = False) -> str:
    return at.strftime("%H:%M:%S") + (f".{at.microsecond // 100000}" if tenths else "")


def timeline_svg(marks: Sequence[Mark], *, width: int = 760) -> str:
    """One row per camera (in order of first sighting), each sighting a bar from its start to its end
    labelled with its number, under an axis of wall-clock times."""
    if not marks:
        return ""
    cameras: list[str] = []
    for m in marks:
        if m.camera not in cameras:
            cameras.append(m.camera)
    label_w, row_h, top = 150, 28, 26
    t0 = min(m.start for m in marks).timestamp()
    t1 = max(m.end for m in marks).timestamp()
    span = max(t1 - t0, 1.0)
    t0, span = t0 - 0.03 * span, 1.06 * span
    plot_w = width - label_w - 10
    height = top + row_h * len(cameras) + 8

    def x(at: datetime) -> float:
        return label_w + plot_w * (at.timestamp() - t0) / span

    parts = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="timeline of the sightings">']
    first = min(m.start for m in marks)
    for k in range(5):
        tick = t0 + span * (k + 0.5) / 5
        tx = label_w + plot_w * (k + 0.5) / 5
        at = datetime.fromtimestamp(tick, tz=first.tzinfo)
        parts.append(f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{height - 4}" class="grid"/>'
                     f'<text x="{tx:.1f}" y="{top - 10}" text-anchor="middle" class="tick">'
                     f"{_fmt(at, tenths=span < 30)}</text>")
    for row, camera in enumerate(cameras):
        y = top + row * row_h
        parts.append(f'<text x="4" y="{y + 18}" class="cam">{escape(camera[:22])}</text>'
                     f'<line x1="{label_w}" y1="{y + row_h}" x2="{width - 10}" y2="{y + row_h}" class="row"/>')
        for m in marks:
            if m.camera != camera:
                continue
            a, b = x(m.start), x(m.end)
            parts.append(f'<rect x="{a:.1f}" y="{y + 6}" width="{max(b - a, 4):.1f}" height="{row_h - 12}" '
                         f'class="bar"><title>{m.number}: {_fmt(m.start)}–{_fmt(m.end)}</title></rect>'
                         f'<text x="{a + 2:.1f}" y="{y + row_h - 10}" class="num">{m.number}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _route(points: Sequence[tuple[float, float]]) -> str:
    if len(points) < 2:
        return ""
    path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    return f'<polyline points="{path}" class="route"/>'


def _markers(named: dict[str, tuple[float, float]], numbers: dict[str, list[int]], radius: float) -> str:
    out = []
    for name, (px, py) in named.items():
        nums = ", ".join(str(n) for n in numbers.get(name, []))
        out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{radius:.1f}" class="cam-dot"/>'
                   f'<text x="{px + radius + 3:.1f}" y="{py - radius:.1f}" class="cam-label" '
                   f'font-size="{radius * 2.2:.1f}">{escape(name)} ({nums})</text>')
    return "".join(out)


def _numbers(marks: Sequence[Mark]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for m in marks:
        out.setdefault(m.camera, []).append(m.number)
    return out


def plan_svg(plan: PlanView, marks: Sequence[Mark]) -> str:
    """The plan's image with its cameras marked (and the sightings' numbers), and the route between
    the sightings on it in order."""
    w, h = plan.width, plan.height
    named = {name: (fx * w, fy * h) for name, (fx, fy) in plan.points.items()}
    radius = max(w, h) / 90
    route = [named[m.camera] for m in marks if m.camera in named]
    image = (f'<image href="{escape(plan.image)}" x="0" y="0" width="{w}" height="{h}"/>' if plan.image
             else f'<rect x="0" y="0" width="{w}" height="{h}" class="plan-missing"/>')
    return (f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
            f'aria-label="site plan {escape(plan.name)}" style="stroke-width:{radius / 3:.1f}">'
            f"{image}{_route(route)}{_markers(named, _numbers(marks), radius)}</svg>")


def coordinates_svg(points: dict[str, tuple[float, float]], marks: Sequence[Mark], *, width: int = 640,
                    height: int = 420) -> str:
    """Cameras plotted by latitude/longitude (equirectangular, east to the right, north up), with
    the route between the sightings in order and the extent written on the axes."""
    if not points:
        return ""
    if len(points) == 1:
        height = 160
    lats = [lat for lat, _ in points.values()]
    lons = [lon for _, lon in points.values()]
    squeeze = math.cos(math.radians(sum(lats) / len(lats)))
    xs = {name: lon * squeeze for name, (_, lon) in points.items()}
    ys = {name: lat for name, (lat, _) in points.items()}
    x0, x1, y0, y1 = min(xs.values()), max(xs.values()), min(ys.values()), max(ys.values())
    extent = max(x1 - x0, y1 - y0, 1e-5)
    margin = 60
    scale = min((width - 2 * margin) / extent, (height - 2 * margin) / extent)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def project(name: str) -> tuple[float, float]:
        return width / 2 + (xs[name] - cx) * scale, height / 2 - (ys[name] - cy) * scale

    named = {name: project(name) for name in points}
    route = [named[m.camera] for m in marks if m.camera in named]
    axes = (f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" class="frame"/>'
            f'<text x="6" y="{height - 8}" class="tick">lat {min(lats):.5f}…{max(lats):.5f}, '
            f"lon {min(lons):.5f}…{max(lons):.5f}</text>"
            f'<text x="{width - 8}" y="18" text-anchor="end" class="tick">N ↑</text>')
    return (f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="cameras by latitude and longitude" '
            f'style="stroke-width:2">{axes}{_route(route)}{_markers(named, _numbers(marks), 6)}</svg>')
