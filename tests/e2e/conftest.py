"""Real servers for end-to-end tests: Redis, a Celery worker, daphne (:mod:`tests.stack`), and headless Chromium.

Each runs as its own process against a fresh data folder and SQLite database, exactly as
``make run`` starts them; the tests talk to them only over HTTP and websockets.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack import (
    ADMIN,
    INVESTIGATOR,
    REPO,
    VENV_BIN,
    Stack,
    _wait_for,
    free_port,
    postgres_database,
    running_stack,
)

__all__ = ["ADMIN", "INVESTIGATOR", "REPO", "VENV_BIN", "Stack", "_wait_for", "free_port", "postgres_database"]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[Stack]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run `make setup`")
    with running_stack(tmp_path_factory.mktemp("stack"), data_dir / "models") as running:
        yield running
        # Whatever the journeys did, the audit ledger's chain must still be whole.
        check = running.verify_audit()
        assert check.returncode == 0, check.stderr
        (running.logs / "verify_audit.log").write_text(check.stdout)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make setup`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    yield pg
    artifacts = REPO / "test-artifacts"
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        artifacts.mkdir(exist_ok=True)
        pg.screenshot(path=str(artifacts / f"{request.node.name}.png"), full_page=True)
        for log in stack.logs.glob("*.log"):
            shutil.copy(log, artifacts / f"{request.node.name}-{log.name}")
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def login(page: Any, stack: Stack, user: tuple[str, str] = INVESTIGATOR) -> None:
    page.goto(stack.url + "/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("button[type=submit]")
    page.wait_for_selector(".topbar nav")


def open_case(page: Any, stack: Stack, case_id: int) -> None:
    """Open a case's page: it becomes the case the pages work in."""
    page.goto(f"{stack.url}/cases/{case_id}/")
    page.wait_for_selector("#case-page")
