"""Register a video file from disk for a camera and ingest it, optionally waiting with a progress bar."""

from __future__ import annotations

import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from webapp.cameras.models import Camera
from webapp.cases.models import Case
from webapp.core.exceptions import DomainError
from webapp.videos import services
from webapp.videos.models import Video


class Command(BaseCommand):
    help = "Upload a video file from disk for a camera (as an API upload would) and queue its ingestion."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--camera", required=True, help="camera name")
        parser.add_argument("--case", required=True, help="reference of the case the footage goes into")
        parser.add_argument("--recorded-at", help="ISO time of the first frame (default: now)")
        parser.add_argument("--once", action="store_true", help="skip if a finished video of that name exists")
        parser.add_argument("--wait", action="store_true", help="wait for ingestion, showing progress")
        parser.add_argument("--timeout", type=float, default=1800.0)

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["path"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        camera = Camera.objects.filter(name=opts["camera"]).first()
        if camera is None:
            raise CommandError(f"no camera named {opts['camera']!r}")
        case = Case.objects.filter(reference=opts["case"]).first()
        if case is None:
            raise CommandError(f"no case with reference {opts['case']!r}")
        if opts["once"]:
            done = Video.objects.filter(
                camera=camera, original_name=path.name, status=Video.Status.DONE, case_links__case=case
            ).first()
            if done is not None:
                self.stdout.write(f"{path.name} is already ingested (video {done.pk})")
                return
        recorded_at = datetime.fromisoformat(opts["recorded_at"]) if opts["recorded_at"] else timezone.now()
        if timezone.is_naive(recorded_at):
            recorded_at = timezone.make_aware(recorded_at)
        video = services.video_upload_create(
            user=None, camera=camera, filename=path.name, size_bytes=path.stat().st_size, recorded_at=recorded_at,
            case=case,
        )
        shutil.copyfile(path, video.file_path)
        Video.objects.filter(pk=video.pk).update(upload_offset=video.size_bytes)
        video.refresh_from_db()
        try:
            services.video_upload_complete(video=video)
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(f"queued {path.name} as video {video.pk}")
        if opts["wait"]:
            self._wait(video.pk, opts["timeout"])

    def _wait(self, video_id: int, timeout: float) -> None:
        from tqdm import tqdm

        deadline = time.monotonic() + timeout
        with tqdm(total=100, unit="%", file=sys.stderr, desc="ingest") as bar:
            while time.monotonic() < deadline:
                video = Video.objects.get(pk=video_id)
                bar.n = round(100 * video.progress)
                bar.set_description(video.stage or video.status)
                bar.refresh()
                if video.status == Video.Status.DONE:
                    bar.n = 100
                    bar.refresh()
                    break
                if video.status in (Video.Status.FAILED, Video.Status.REJECTED):
                    raise CommandError(f"ingest failed: {video.error}")
                time.sleep(1.0)
            else:
                raise CommandError("timed out waiting for ingestion; is a worker running?")
        self.stdout.write(f"video {video_id}: {video.tracklets.count()} people found")
