"""Reads of a subject shaped for its page and the API: its sightings, outfits, timeline and map."""

from __future__ import annotations

import itertools
from typing import Any

from webapp.cameras.models import Camera
from webapp.subjects.models import EvidenceExport, Sighting, Subject
from webapp.subjects.search import seen_of, subject_outfits, travel_note
from webapp.subjects.travel import WalkingTimes, timeline_flags
from webapp.tracklets.models import Tracklet
from webapp.tracklets.selectors import tracklet_card


def subject_summary(subject: Subject) -> dict[str, Any]:
    """What a list of subjects shows."""
    counts = {d: 0 for d in Sighting.Decision.values}
    for decision in subject.sightings.values_list("decision", flat=True):
        counts[decision] += 1
    return {
        "id": subject.pk,
        "case": subject.case_id,
        "label": subject.label,
        "notes": subject.notes,
        "origin": subject.origin,
        "origin_search": subject.origin_search_id,
        "created_by": subject.created_by.username if subject.created_by else None,
        "created_at": subject.created_at.isoformat(),
        "updated_at": subject.updated_at.isoformat(),
        "confirmed": counts[Sighting.Decision.CONFIRMED],
        "rejected": counts[Sighting.Decision.REJECTED],
    }


def _sighting_card(s: Sighting) -> dict[str, Any]:
    return {
        **tracklet_card(s.tracklet),
        "decision": s.decision,
        "decided_by": s.decided_by.username if s.decided_by else None,
        "decided_at": s.decided_at.isoformat(),
        "search": s.search_id,
    }


def camera_position(camera: Camera) -> dict[str, Any]:
    return {
        "id": camera.pk,
        "name": camera.name,
        "latitude": camera.latitude,
        "longitude": camera.longitude,
        "plan": camera.plan_id,
        "plan_x": camera.plan_x,
        "plan_y": camera.plan_y,
    }


def subject_timeline(confirmed: list[Tracklet]) -> dict[str, Any]:
    """The confirmed sightings in absolute time, the cameras as rows in order of first sighting, and
    the gaps between one sighting's end and the next one's start."""
    rows: list[int] = []
    for t in confirmed:
        if t.camera_id not in rows:
            rows.append(t.camera_id)
    gaps = []
    for before, after in itertools.pairwise(confirmed):
        seconds = (after.start_time - before.end_time).total_seconds()
        gaps.append({"from": before.pk, "to": after.pk, "seconds": round(seconds, 1)})
    names = {t.camera_id: t.camera.name for t in confirmed}
    return {
        "cameras": [{"id": c, "name": names[c]} for c in rows],
        "start": confirmed[0].start_time.isoformat() if confirmed else None,
        "end": max(t.end_time for t in confirmed).isoformat() if confirmed else None,
        "gaps": gaps,
    }


def subject_map(subject: Subject, confirmed: list[Tracklet]) -> dict[str, Any]:
    """The cameras of the case's footage with their positions, and the subject's path through them
    in time order (one point per confirmed sighting)."""
    cameras = Camera.objects.filter(tracklets__video__case_links__case=subject.case).distinct().order_by("name")
    positions = [camera_position(c) for c in cameras]
    plans = sorted({p["plan"] for p in positions if p["plan"] is not None})
    return {
        "cameras": positions,
        "plans": plans,
        "path": [{"tracklet": t.pk, "camera": t.camera_id, "time": t.start_time.isoformat()} for t in confirmed],
    }


def export_summary(export: EvidenceExport) -> dict[str, Any]:
    """An evidence package as the subject page lists it."""
    return {
        "id": export.pk,
        "status": export.status,
        "stage": export.stage,
        "percent": round(100 * export.progress, 1),
        "error": export.error,
        "redact": export.redact,
        "sha256": export.sha256,
        "size_bytes": export.size_bytes,
        "requested_by": export.requested_by.username if export.requested_by else None,
        "created_at": export.created_at.isoformat(),
    }


def sighting_flags(confirmed: list[Tracklet]) -> dict[int, dict[str, Any]]:
    """Confirmed sightings that conflict with their neighbour in time (both of a pair), by tracklet."""
    if len(confirmed) < 2:
        return {}
    walking = WalkingTimes.from_database({t.camera_id for t in confirmed})
    seen = [seen_of(t.pk, t.camera_id, t.start_time, t.end_time) for t in confirmed]
    return {pk: travel_note(flag) for pk, flag in timeline_flags(seen, walking).items()}


def subject_detail(subject: Subject) -> dict[str, Any]:
    """A subject with its confirmed sightings (time order, with their outfit), its rejected ones,
    its outfits, its timeline and its map."""
    rows = list(
        Sighting.objects.filter(subject=subject)
        .select_related("tracklet__camera", "tracklet__video", "decided_by")
        .order_by("tracklet__start_time", "tracklet_id")
    )
    confirmed = [s for s in rows if s.decision == Sighting.Decision.CONFIRMED]
    tracklets = [s.tracklet for s in confirmed]
    groups = subject_outfits(tracklets)
    outfit_of = {pk: n for n, group in enumerate(groups) for pk in group}
    return {
        **subject_summary(subject),
        "sightings": [{**_sighting_card(s), "outfit": outfit_of.get(s.tracklet_id)} for s in confirmed],
        "rejected_sightings": [_sighting_card(s) for s in rows if s.decision == Sighting.Decision.REJECTED],
        "outfits": [{"index": n, "sightings": group, "cover": group[0]} for n, group in enumerate(groups)],
        "timeline": subject_timeline(tracklets),
        "map": subject_map(subject, tracklets),
        "flags": sighting_flags(tracklets),
        "exports": [export_summary(e) for e in subject.exports.select_related("requested_by")[:20]],
    }
