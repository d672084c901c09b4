"""The investigator's case pages: my cases, and one case with its footage, people, searches and members."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from webapp.accounts.roles import is_admin
from webapp.cameras.models import Camera
from webapp.cases import access
from webapp.cases.access import Capability
from webapp.cases.models import CaseRole
from webapp.core.exceptions import DomainError
from webapp.pages.context import SESSION_KEY
from webapp.search.models import SearchRecord
from webapp.subjects.models import Sighting, Subject
from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video
from webapp.videos.uploads import uploads_unfinished


def case_list(request: HttpRequest) -> HttpResponse:
    cases = access.listed_cases(request.user).annotate(footage=Count("video_links", distinct=True))
    mine = set(access.member_cases(request.user).values_list("pk", flat=True))
    return render(request, "longview/cases.html", {
        "cases": [(c, c.pk in mine) for c in cases],
        "is_admin": is_admin(request.user),
    })


def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        case = access.case_for(request.user, pk, Capability.VIEW)
    except DomainError as exc:
        raise Http404(exc.detail) from None
    request.session[SESSION_KEY] = case.pk
    caps = access.capabilities(request.user, case)
    videos = access.scope_videos(request.user, Video.objects.select_related("camera"), case=case)
    people = access.scope_tracklets(request.user, Tracklet.objects.all(), case=case).count()
    searches = SearchRecord.objects.filter(case=case).select_related("user")[:50]
    return render(request, "longview/case.html", {
        "case": case,
        "role": access.role_in(request.user, case),
        "can_upload": Capability.UPLOAD in caps,
        "can_manage": Capability.MANAGE in caps,
        "can_close": Capability.CLOSE in caps,
        "videos": videos.annotate(people=Count("tracklets"))[:500],
        "unfinished": uploads_unfinished(request.user, videos) if Capability.UPLOAD in caps else [],
        "people_count": people,
        "searches": searches,
        "subjects": Subject.objects.filter(case=case).select_related("created_by").annotate(
            confirmed=Count("sightings", filter=Q(sightings__decision=Sighting.Decision.CONFIRMED))),
        "members": case.members.select_related("user"),
        "roles": CaseRole.values,
        "cameras": Camera.objects.all(),
        "is_admin": is_admin(request.user),
        "chunk_bytes": settings.LONGVIEW["UPLOAD_CHUNK_BYTES"],
        "upload_expiry_hours": settings.LONGVIEW["UPLOAD_EXPIRY_HOURS"],
        "accept": ",".join(settings.LONGVIEW["ALLOWED_VIDEO_EXTENSIONS"]),
    })
