"""Routes of the evidence export API (included under /api/)."""

from __future__ import annotations

from django.urls import path

from webapp.subjects.export_views import ExportDetailView, ExportDownloadView, SubjectExportsView

urlpatterns = [
    path("subjects/<int:pk>/exports/", SubjectExportsView.as_view(), name="subject-exports"),
    path("exports/<int:pk>/", ExportDetailView.as_view(), name="export-detail"),
    path("exports/<int:pk>/download", ExportDownloadView.as_view(), name="export-download"),
]
