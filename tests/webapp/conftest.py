"""Web tests run in-process against a throw-away database and media folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.webapp.factories import join_case
from webapp.accounts.services import user_create_with_role
from webapp.cameras.models import Camera
from webapp.search.index import index_forget


@pytest.fixture(autouse=True)
def _isolated_storage(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INDEX_DIR = tmp_path / "index"
    # Pushes to browsers go to an in-process layer here; the end-to-end tests use real Redis.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # The production hasher takes half a second per password: too slow for a fixture every test uses.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    index_forget()
    cache.clear()  # rate-limit and failed-login counters


@pytest.fixture
def models_in_data_dir(settings: Any, data_dir: Path) -> None:
    """Workers in these tests load the real models that set-up put in the data folder."""
    settings.DATA_DIR = data_dir


@pytest.fixture
def investigator(db: None) -> User:
    """An investigator who works in the tests' case (``factories.the_case``)."""
    return join_case(user_create_with_role(username="ivy", password="pw-ivy-123", role="investigator"))


@pytest.fixture
def admin_user(db: None) -> User:
    return user_create_with_role(username="ada", password="pw-ada-123", role="admin")


@pytest.fixture
def camera(db: None) -> Camera:
    return Camera.objects.create(name="Gate", location="East gate")


@pytest.fixture
def client_for() -> Any:
    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


def write_gate(path: Path, estimated: list[str]) -> Path:
    """A gate file (``reid_engine.attributes.gate``) estimating exactly ``estimated``."""
    from reid_engine.attributes.gate import GATE_FORMAT

    path.write_text(json.dumps({"kind": GATE_FORMAT, "predictor": "test", "estimated": estimated, "attributes": {}}))
    return path


@pytest.fixture
def every_attribute_estimated(settings: Any, tmp_path: Path) -> None:
    """For tests of the search machinery on any schema attribute, not of which ones the product estimates."""
    from reid_engine.attributes.schema import SCHEMA

    gate = write_gate(tmp_path / "gate-all.json", list(SCHEMA.names))
    settings.LONGVIEW = {**settings.LONGVIEW, "ATTRIBUTE_GATE": str(gate)}
