"""``manage.py rebuild_index`` rebuilds every shard of both lanes from the database."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command

from tests.webapp.factories import brute_force, build_world, case_filters, make_investigator
from webapp.search import index
from webapp.search.filters import SearchQuery
from webapp.search.services import search_now
from webapp.tracklets.models import Tracklet

pytestmark = pytest.mark.django_db


def test_rebuild_index_replaces_damaged_snapshots_and_searches_match_the_database() -> None:
    world = build_world(per_camera=6)
    rng = np.random.default_rng(3)
    for t in Tracklet.objects.all()[:10]:
        v = rng.normal(size=8)
        t.identity_embedding = (v / np.linalg.norm(v)).astype(np.float32).tobytes()
        t.save(update_fields=["identity_embedding"])
    snapshots = Path(settings.INDEX_DIR)
    snapshots.mkdir(parents=True, exist_ok=True)
    (snapshots / "appearance-default.faiss").write_bytes(b"damaged")
    out = StringIO()
    call_command("rebuild_index", stdout=out)
    text = out.getvalue()
    assert "appearance: shard default: 6 vectors" in text
    assert "identity:" in text
    names = sorted(p.name for p in snapshots.glob("*.faiss"))
    assert "appearance-default.faiss" in names
    assert any(name.startswith("identity-") for name in names)
    assert (snapshots / "appearance-default.faiss").read_bytes() != b"damaged"
    # A process starting afresh loads the new snapshots and ranks exactly as the database does.
    index.index_forget()
    query = world.tracklets["A"][0]
    result = search_now(user=make_investigator(), query=SearchQuery(tracklet=query.pk, k=10, filters=case_filters()))
    assert [h["tracklet"] for h in result["hits"]] == brute_force(query, 10, {})
