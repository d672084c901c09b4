"""The engine knows nothing of the web, the web process never loads torch, and the web apps import
each other in one direction only."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WEB_FRAMEWORKS = ("django", "rest_framework", "channels", "daphne", "celery", "webapp", "drf_spectacular")


def _run(code: str, **env: str) -> dict:
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


def _app_imports() -> dict[str, set[str]]:
    """For each app of ``webapp`` (``webapp/<app>/``), the other apps it imports anywhere in its
    modules, function-level imports and ``TYPE_CHECKING`` blocks included."""
    graph: dict[str, set[str]] = {}
    for path in sorted((REPO / "webapp").glob("*/**/*.py")):
        app = path.relative_to(REPO / "webapp").parts[0]
        graph.setdefault(app, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                is_app = parts[0] == "webapp" and len(parts) > 1 and (REPO / "webapp" / parts[1]).is_dir()
                if is_app and parts[1] != app:
                    graph[app].add(parts[1])
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(app: str) -> list[str] | None:
        state[app] = 1
        stack.append(app)
        for other in sorted(graph.get(app, ())):
            if state.get(other) == 1:
                return [*stack[stack.index(other) :], other]
            if other not in state and (found := visit(other)):
                return found
        stack.pop()
        state[app] = 2
        return None

    for app in sorted(graph):
        if app not in state and (found := visit(app)):
            return found
    return None


def test_web_apps_import_each_other_without_a_cycle() -> None:
    graph = _app_imports()
    assert {"core", "videos", "tracklets", "search", "pages"} <= graph.keys()
    cycle = _cycle(graph)
    assert cycle is None, "apps import each other in a circle: " + " -> ".join(cycle or [])


def test_core_is_a_leaf() -> None:
    assert _app_imports()["core"] == set()


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
