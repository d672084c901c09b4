"""The investigator's pages; live parts are filled in by each page's script over the websocket."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from reid_engine.attributes.schema import COLOURS, SCHEMA
from webapp.accounts.roles import is_admin, is_investigator
from webapp.audit.ledger import audit_record, client_address_of
from webapp.audit.models import Action
from webapp.cases import access
from webapp.cases.models import Case
from webapp.core.exceptions import DomainError
from webapp.pages.context import SESSION_KEY, current_case
from webapp.search.lanes import APPEARANCE, IDENTITY
from webapp.tracklets.estimated import describable, is_estimated
from webapp.tracklets.selectors import tracklet_card, tracklets_of_video, tracklets_visible_to
from webapp.videos.models import Video
from webapp.videos.services import video_delete_refusal


def require_role(request: HttpRequest) -> None:
    if not is_investigator(request.user):
        raise PermissionDenied("your account has no role yet; ask an admin")


def search_settings() -> dict[str, Any]:
    """What a search page's script needs from the server: how many results to ask for, the
    probability a colour filter asks for, and the lanes' names."""
    return {
        "k": settings.LONGVIEW["SEARCH_K"],
        "colour_min_probability": settings.LONGVIEW["COLOUR_MIN_PROBABILITY"],
        "lanes": {"appearance": APPEARANCE.wire, "identity": IDENTITY.wire},
    }


def dashboard(request: HttpRequest) -> HttpResponse:
    """My open cases, with their footage; the way into each."""
    require_role(request)
    cases = (
        access.member_cases(request.user)
        .filter(status=Case.Status.OPEN)
        .annotate(footage=Count("video_links", distinct=True))
        .order_by("-created_at")
    )
    return render(request, "longview/dashboard.html", {"cases": cases, "is_admin": is_admin(request.user)})


def _case_in_use(request: HttpRequest, video_id: int) -> Case:
    """The case through which the user looks at footage: the one they work in, if it holds it."""
    try:
        case = access.case_of_video(request.user, video_id, request.GET.get("case") or request.session.get(SESSION_KEY))
    except DomainError:
        raise Http404("no such video") from None
    request.session[SESSION_KEY] = case.pk
    return case


def video_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request)
    video = access.scope_videos(request.user, Video.objects.select_related("camera")).filter(pk=pk).first()
    if video is None:
        raise Http404("no such video")
    case = _case_in_use(request, video.pk)
    audit_record(action=Action.VIDEO_VIEW, user=request.user, case_id=case.pk, object_type="video",
                 object_ids=[video.pk], client_address=client_address_of(request))
    people = [tracklet_card(t) for t in tracklets_of_video(user=request.user, video_id=video.pk)]
    can_delete = video_delete_refusal(user=request.user, video=video) is None
    return render(request, "longview/video.html",
                  {"video": video, "people": people, "case": case, "can_delete": can_delete})


def search_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request)
    tracklet = tracklets_visible_to(request.user).select_related("camera", "video").filter(pk=pk).first()
    if tracklet is None:
        raise Http404("no such person")
    case = _case_in_use(request, tracklet.video_id)
    audit_record(action=Action.PERSON_VIEW, user=request.user, case_id=case.pk, object_type="tracklet",
                 object_ids=[tracklet.pk], client_address=client_address_of(request))
    return render(
        request,
        "longview/search.html",
        {
            "query": tracklet_card(tracklet),
            "colours": COLOURS,
            "estimated": {n: is_estimated(n) for n in SCHEMA.names},
            "search_settings": search_settings(),
            "case": case,
        },
    )


def describe_page(request: HttpRequest) -> HttpResponse:
    require_role(request)
    if request.GET.get("case"):
        try:
            case = access.case_for(request.user, request.GET["case"], access.Capability.VIEW)
        except DomainError:
            raise Http404("no such case") from None
        request.session[SESSION_KEY] = case.pk
    else:
        found = current_case(request)
        if found is None:
            return redirect("dashboard")
        case = found
    return render(
        request,
        "longview/search_describe.html",
        {
            "describable": describable(),
            "not_estimated": [n for n in SCHEMA.names if not is_estimated(n)],
            "search_settings": search_settings(),
            "case": case,
        },
    )
