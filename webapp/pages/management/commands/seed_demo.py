"""Create the demo admin and investigator, a demo gallery and camera, and a demo case the investigator
leads; once the demo footage is ingested, a demo subject made from its longest-seen person. Safe to
re-run."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from webapp.accounts.services import user_create_with_role
from webapp.cameras.models import Camera, Gallery
from webapp.cases.models import Case
from webapp.cases.services import case_create
from webapp.subjects.models import Subject
from webapp.subjects.services import subject_create
from webapp.tracklets.models import Tracklet

DEMO_CASE = "DEMO-1"


class Command(BaseCommand):
    help = "Create demo users (admin, investigator) and a demo camera."

    def handle(self, *args: Any, **options: Any) -> None:
        admin_pw = os.environ.get("DEMO_ADMIN_PASSWORD", "longview-admin")
        inv_pw = os.environ.get("DEMO_INVESTIGATOR_PASSWORD", "longview-investigator")
        user_create_with_role(username="admin", password=admin_pw, role="admin")
        investigator = user_create_with_role(username="investigator", password=inv_pw, role="investigator")
        gallery, _ = Gallery.objects.get_or_create(
            name="Town centre", defaults={"description": "Street cameras around the square"}
        )
        Camera.objects.get_or_create(
            name="Square north",
            defaults={"location": "North side of the square", "gallery": gallery, "description": "Demo camera"},
        )
        if not Case.objects.filter(reference=DEMO_CASE).exists():
            case_create(
                user=investigator, title="Demo: the town square", reference=DEMO_CASE,
                purpose="Demonstration of Longview on the demo street footage",
                retention_until=timezone.localdate() + timedelta(days=365),
            )
        case = Case.objects.get(reference=DEMO_CASE)
        longest = Tracklet.objects.filter(video__case_links__case=case).order_by("-num_frames", "pk").first()
        if longest is not None and not Subject.objects.filter(case=case).exists():
            subject = subject_create(
                user=investigator, case_id=case.pk, label="Demo subject", tracklet_id=longest.pk,
                notes="Made by the demo from the person seen longest: search with it, confirm or reject its hits.",
            )
            self.stdout.write(f"demo subject:      /subjects/{subject.pk}/")
        self.stdout.write(f"demo admin:        admin / {admin_pw}")
        self.stdout.write(f"demo investigator: investigator / {inv_pw}")
