"""Which attributes the product estimates, from the engine's real-set check (``reid_engine.attributes.gate``).

An attribute the shipped predictor did not get right on the hand-labelled real people is "not
estimated": it is not stored at ingest, not shown on cards, not offered on the describe page, and a
search or filter on it is refused. Every web-side reader goes through this module.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from reid_engine.attributes.gate import SHIPPED_GATE, AttributeGate, load_gate
from reid_engine.attributes.schema import SCHEMA


def _gate_path() -> Path:
    configured = settings.LONGVIEW.get("ATTRIBUTE_GATE")
    return Path(configured) if configured else SHIPPED_GATE


@lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int) -> AttributeGate:
    return load_gate(path)


def attribute_gate() -> AttributeGate:
    """The gate in force (re-read when its file changes)."""
    path = _gate_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = -1
    return _read(str(path), mtime)


def is_estimated(name: str) -> bool:
    return attribute_gate().is_estimated(name)


def estimated_only(probabilities: dict[str, dict[str, float]] | None) -> dict[str, dict[str, float]]:
    """``{attribute: {value: p}}`` without the attributes that are not estimated."""
    gate = attribute_gate()
    return {k: v for k, v in (probabilities or {}).items() if gate.is_estimated(k)}


def describable() -> list[dict[str, Any]]:
    """The estimated attributes with their values, in schema order, for the describe page's form."""
    gate = attribute_gate()
    return [
        {"name": a.name, "label": a.description, "kind": a.kind,
         "values": ["yes", "no"] if a.kind == "binary" else list(a.values)}
        for a in SCHEMA.attributes if gate.is_estimated(a.name)
    ]
