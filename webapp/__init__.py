"""Longview's web application: investigator UI, REST API, websockets and Celery tasks."""

from __future__ import annotations

from webapp.celery import app as celery_app

__all__ = ["celery_app"]
