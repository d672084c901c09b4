"""Building the evidence package of one export: a zip of the subject's confirmed sightings (a clip and
a still each), the printable report, the site plans it draws on, and the manifest of them all.

The zip is written next to its final name with the suffix ``.part`` and renamed when complete, so a
package that exists is whole; a build that fails removes its ``.part``.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

from reid_engine.errors import ReidEngineError
from reid_engine.types import VideoInfo
from reid_engine.video import probe_video
from webapp.cameras.models import Camera
from webapp.core.media import file_sha256
from webapp.subjects.clips import Picture, best_sample, cut_sighting
from webapp.subjects.figures import PlanView
from webapp.subjects.manifest import FORMAT, MANIFEST, file_entry, manifest_json
from webapp.subjects.models import EvidenceExport, Sighting
from webapp.subjects.report import Report, ReportSighting, report_html
from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video
from webapp.videos.services import video_sha256_ensure

Progress = Callable[[str, float], None]
ZIP_COMMENT = b"Longview evidence package; check it with: manage.py verify_export PACKAGE.zip"


class ExportError(Exception):
    """A package that cannot be built, with the reason an investigator reads."""


@dataclass(frozen=True, kw_only=True)
class PackageResult:
    """A finished package: its sha256 and size, and how many sightings it holds."""

    sha256: str
    size_bytes: int
    sightings: int


def confirmed_sightings(subject_id: int) -> list[Sighting]:
    """The subject's confirmed sightings, in the order of their start times."""
    return list(
        Sighting.objects.filter(subject_id=subject_id, decision=Sighting.Decision.CONFIRMED)
        .select_related("tracklet__video", "tracklet__camera__plan", "decided_by")
        .order_by("tracklet__start_time", "tracklet_id")
    )


def _local(at: datetime) -> datetime:
    return timezone.localtime(at)


class _Zip:
    """The zip being written, with the manifest row of every member."""

    def __init__(self, path: Path, when: datetime) -> None:
        self.archive = zipfile.ZipFile(path, "w", allowZip64=True)
        self.stamp = _local(when).timetuple()[:6]
        self.files: list[dict[str, Any]] = []

    def add(self, name: str, data: bytes, *, compress: bool) -> None:
        info = zipfile.ZipInfo(name, date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        self.archive.writestr(info, data)
        if name != MANIFEST:
            self.files.append(file_entry(name, data))


def _others(video: Video, subject_tracklets: set[int], start_s: float, end_s: float) -> list[list[list[float]]]:
    """The sampled boxes of every other person of ``video`` seen around ``start_s``..``end_s``."""
    rows = (Tracklet.objects.filter(video=video, start_s__lte=end_s + 2.0, end_s__gte=start_s - 2.0)
            .exclude(pk__in=subject_tracklets).values_list("boxes", flat=True))
    return [list(boxes) for boxes in rows if boxes]


def _outfit_groups(sightings: list[Sighting]) -> list[list[int]]:
    """Sighting positions grouped into outfits, per appearance model (vectors of two models do not
    compare); groups in the order of their first sighting."""
    # Here, not at the top: the index package loads FAISS, which the web process has no need of.
    from reid_engine.index.subject import outfits

    by_model: dict[str, list[int]] = {}
    for i, s in enumerate(sightings):
        by_model.setdefault(s.tracklet.appearance_embedder, []).append(i)
    groups: list[list[int]] = []
    for members in by_model.values():
        vectors = np.stack([sightings[i].tracklet.appearance_embedding_array() for i in members])
        groups += [[members[j] for j in g] for g in outfits(vectors)]
    return sorted(groups, key=lambda g: g[0])


def _places(cameras: list[Camera], plan_files: dict[int, str]) -> tuple[list[PlanView], dict[str, tuple[float, float]],
                                                                       list[str]]:
    plans: dict[int, PlanView] = {}
    coordinates: dict[str, tuple[float, float]] = {}
    without: list[str] = []
    for camera in cameras:
        plan = camera.plan
        if plan is not None and camera.plan_x is not None and camera.plan_y is not None:
            view = plans.setdefault(plan.pk, PlanView(name=plan.name, image=plan_files.get(plan.pk, ""),
                                                      width=plan.width_px, height=plan.height_px, points={}))
            view.points[camera.name] = (camera.plan_x, camera.plan_y)
        elif camera.latitude is not None and camera.longitude is not None:
            coordinates[camera.name] = (camera.latitude, camera.longitude)
        else:
            without.append(camera.name)
    return list(plans.values()), coordinates, without


def _add_plans(out: _Zip, cameras: list[Camera]) -> dict[int, str]:
    """Copy the site plans the cameras sit on into ``plans/``; a plan whose image is gone is drawn
    without it."""
    names: dict[int, str] = {}
    for camera in cameras:
        plan = camera.plan
        if plan is None or plan.pk in names or not plan.file_path.is_file():
            continue
        name = f"plans/{slugify(plan.name) or 'plan'}-{plan.pk}.{'jpg' if plan.image_type == 'jpeg' else 'png'}"
        out.add(name, plan.file_path.read_bytes(), compress=False)
        names[plan.pk] = name
    return names


def _source(video: Video, number: int, infos: dict[int, VideoInfo]) -> VideoInfo:
    if not video.file_path.is_file():
        raise ExportError(f"the source video {video.original_name!r} of sighting {number} is missing")
    if video.pk not in infos:
        try:
            infos[video.pk] = probe_video(video.file_path)
        except ReidEngineError as exc:
            raise ExportError(f"the source video {video.original_name!r} cannot be read: {exc}") from None
        video_sha256_ensure(video=video)
    return infos[video.pk]


def _write(export: EvidenceExport, out: _Zip, sightings: list[Sighting], *, generated_by: str,
           created_at: datetime, progress: Progress, workdir: Path) -> None:
    padding = float(settings.LONGVIEW.get("EXPORT_CLIP_PADDING_S", 3.0))
    subject_tracklets = {s.tracklet_id for s in sightings}
    infos: dict[int, VideoInfo] = {}
    rows: list[ReportSighting] = []
    total = len(sightings)
    for i, sighting in enumerate(sightings):
        number = i + 1
        progress(f"sighting {number} of {total}", 0.9 * i / total)
        tracklet, video = sighting.tracklet, sighting.tracklet.video
        info = _source(video, number, infos)
        start = _local(tracklet.start_time)
        base = f"sightings/{number:02d}-{slugify(tracklet.camera.name) or 'camera'}-{start:%Y%m%d-%H%M%S}"
        clip_start = max(0.0, tracklet.start_s - padding)
        clip_end = min(info.duration_s, tracklet.end_s + padding)
        picture = Picture(subject_boxes=tracklet.boxes, redact=export.redact, recorded_at=_local(video.recorded_at),
                          others=_others(video, subject_tracklets, clip_start, clip_end) if export.redact else [])
        still_at = float(best_sample(tracklet.boxes)[1]) if tracklet.boxes else (tracklet.start_s + tracklet.end_s) / 2
        clip_file = workdir / f"{number:02d}.mp4"
        try:
            cut = cut_sighting(video.file_path, clip_file, info=info, start_s=clip_start, end_s=clip_end,
                               still_t_s=still_at, picture=picture)
        except ReidEngineError as exc:
            raise ExportError(f"sighting {number} could not be cut from {video.original_name!r}: {exc}") from None
        out.add(f"{base}.mp4", clip_file.read_bytes(), compress=False)
        clip_file.unlink()
        out.add(f"{base}.jpg", cut.still_jpeg, compress=False)
        frames = [int(b[0]) for b in tracklet.boxes] or [0]
        rows.append(ReportSighting(
            number=number, camera=tracklet.camera.name, start=start, end=_local(tracklet.end_time),
            video_name=video.original_name, video_sha256=video.sha256, first_frame=min(frames),
            last_frame=max(frames), confirmed_by=sighting.decided_by.username if sighting.decided_by else "",
            confirmed_at=_local(sighting.decided_at), clip=f"{base}.mp4", still=f"{base}.jpg",
        ))
    progress("report", 0.92)
    cameras = list({s.tracklet.camera_id: s.tracklet.camera for s in sightings}.values())
    plans, coordinates, without = _places(cameras, _add_plans(out, cameras))
    groups = _outfit_groups(sightings)
    shown = [(sorted(rows[j].number for j in g), rows[max(g, key=lambda j: sightings[j].tracklet.quality)].still)
             for g in groups]
    subject, case = export.subject, export.subject.case
    report = Report(
        case_reference=case.reference, case_title=case.title, case_purpose=case.purpose,
        subject_label=subject.label, subject_notes=subject.notes, export_id=export.pk, generated_by=generated_by,
        generated_at=_local(created_at), redacted=export.redact, time_zone=timezone.get_current_timezone_name(),
        sightings=rows, outfits=shown, plans=plans, coordinates=coordinates, without_position=without,
    )
    out.add("report.html", report_html(report).encode("utf-8"), compress=True)
    manifest = {
        "format": FORMAT,
        "case": {"id": case.pk, "reference": case.reference, "title": case.title},
        "subject": {"id": subject.pk, "label": subject.label},
        "export": export.pk,
        "created_at": created_at.isoformat(),
        "generated_by": generated_by,
        "redacted": export.redact,
        "sightings": len(rows),
        "files": out.files,
    }
    out.add(MANIFEST, manifest_json(manifest), compress=True)


def package_build(export: EvidenceExport, *, generated_by: str, progress: Progress | None = None) -> PackageResult:
    """Build ``export``'s package at ``export.file_path``.

    Raises:
        ExportError: the subject has no confirmed sightings, or a source video is missing or
            unreadable; nothing is left on disk.
    """
    sightings = confirmed_sightings(export.subject_id)
    if not sightings:
        raise ExportError("the subject has no confirmed sightings")
    final = export.file_path
    part = final.with_suffix(".part")
    final.parent.mkdir(parents=True, exist_ok=True)
    created_at = timezone.now()
    try:
        with tempfile.TemporaryDirectory(dir=final.parent, prefix=f".{export.storage_key}-") as workdir:
            out = _Zip(part, created_at)
            try:
                _write(export, out, sightings, generated_by=generated_by, created_at=created_at,
                       progress=progress or (lambda stage, fraction: None), workdir=Path(workdir))
                out.archive.comment = ZIP_COMMENT
            finally:
                out.archive.close()
        with part.open("rb") as fh:
            os.fsync(fh.fileno())
        part.replace(final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return PackageResult(sha256=file_sha256(final), size_bytes=final.stat().st_size, sightings=len(sightings))
