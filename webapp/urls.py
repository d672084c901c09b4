"""URL routes: pages, the REST API under /api/, admin, and the OpenAPI schema."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from webapp.cameras.views import (
    CameraViewSet,
    GalleryViewSet,
    SitePlanImageView,
    SitePlanViewSet,
    WalkingTimeViewSet,
)
from webapp.cases.views import CaseViewSet, UserListView
from webapp.pages import cases as case_pages
from webapp.pages import sites as site_pages
from webapp.pages import subjects as subject_pages
from webapp.pages import views as pages
from webapp.search.views import PhotoSearchView, SearchDetailView, SearchView
from webapp.subjects.views import SubjectViewSet
from webapp.tracklets.views import (
    AttributeListView,
    TrackletViewSet,
    VideoTrackletsView,
    thumbnail,
    video_proxy,
)
from webapp.videos.views import VideoViewSet

router = DefaultRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("cameras", CameraViewSet, basename="camera")
router.register("galleries", GalleryViewSet, basename="gallery")
router.register("plans", SitePlanViewSet, basename="plan")
router.register("walking-times", WalkingTimeViewSet, basename="walking-time")
router.register("videos", VideoViewSet, basename="video")
router.register("tracklets", TrackletViewSet, basename="tracklet")
router.register("subjects", SubjectViewSet, basename="subject")


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", pages.dashboard, name="dashboard"),
    path("cases/", case_pages.case_list, name="case-list"),
    path("cases/<int:pk>/", case_pages.case_page, name="case-page"),
    path("videos/<int:pk>/", pages.video_detail, name="video-page"),
    path("subjects/<int:pk>/", subject_pages.subject_page, name="subject-page"),
    path("search/tracklet/<int:pk>/", pages.search_page, name="search-page"),
    path("search/describe/", pages.describe_page, name="describe-page"),
    path("sites/", site_pages.sites_page, name="sites-page"),
    path("media/tracklets/<int:pk>/thumbnail.jpg", thumbnail, name="tracklet-thumbnail"),
    path("media/videos/<int:pk>/review.mp4", video_proxy, name="video-proxy"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="longview/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/search/", SearchView.as_view(), name="search"),
    path("api/search/image/", PhotoSearchView.as_view(), name="search-image"),
    path("api/search/<int:pk>/", SearchDetailView.as_view(), name="search-detail"),
    path("api/users/", UserListView.as_view(), name="users"),
    path("api/attributes/", AttributeListView.as_view(), name="attributes"),
    path("api/videos/<int:pk>/tracklets/", VideoTrackletsView.as_view(), name="video-tracklets"),
    path("api/plans/<int:pk>/image", SitePlanImageView.as_view(), name="plan-image"),
    path("api/", include("webapp.subjects.export_urls")),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("healthz", healthz),
]

# Unmatched API paths (a negative id, a typo) answer JSON like the API views do.
handler404 = "webapp.core.errors.not_found"
