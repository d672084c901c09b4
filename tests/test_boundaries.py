"""The engine knows nothing of the web, and the web process never loads torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WEB_FRAMEWORKS = ("django", "rest_framework", "channels", "daphne", "celery", "webapp", "drf_spectacular")


def _run(code: str, **env: str) -> dict:
    import os

    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
        env={**os.environ, **env},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_reid_engine_imports_no_web_framework() -> None:
    code = """
import importlib, json, pkgutil, sys
import reid_engine
for mod in pkgutil.walk_packages(reid_engine.__path__, "reid_engine."):
    if not mod.name.endswith("__main__"):
        importlib.import_module(mod.name)
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""
    loaded = set(_run(code))
    assert "reid_engine" in loaded
    assert "torch" in loaded
    assert not loaded & set(WEB_FRAMEWORKS)


def test_web_process_never_imports_torch() -> None:
    code = """
import importlib, json, pkgutil, sys
import django
django.setup()
import webapp, webapp.asgi, webapp.urls
for mod in pkgutil.walk_packages(webapp.__path__, "webapp."):
    if ".migrations." in mod.name:
        continue
    importlib.import_module(mod.name)
from django.test import Client
client = Client()
client.get("/accounts/login/")
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""
    loaded = set(_run(code, DJANGO_SETTINGS_MODULE="webapp.settings"))
    assert "webapp" in loaded
    assert "django" in loaded
    assert "torch" not in loaded
