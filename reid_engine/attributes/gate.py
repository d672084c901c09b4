"""Which attributes the product estimates: those the shipped predictor got right on real people.

``reid eval-attributes --dataset real-labelled --write-gate FILE`` writes the file from its scores
(:mod:`reid_engine.attributes.real_scoring`); the shipped one is :data:`SHIPPED_GATE`, next to the
weights. The web side reads it to store, show, filter and search only the attributes that passed; the
others are "not estimated". A missing or unreadable file estimates nothing: without evidence nothing
is shown. Nothing here imports more than the standard library and the schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reid_engine.attributes.schema import SCHEMA

GATE_FORMAT = "longview-attribute-gate/1"
SHIPPED_GATE = Path(__file__).resolve().parent.parent / "weights" / "attribute_gate.json"


@dataclass(frozen=True)
class AttributeGate:
    """The outcome of the real-set check.

    Attributes:
        estimated: the attributes that passed, in schema order.
        predictor: what was scored (``"colour-namer"``, ``"network"``).
        figures: per schema attribute, the evaluation's row (mA, baseline, interval, n, reason).
        error: why the file could not be read, when it could not (then nothing is estimated).
    """

    estimated: tuple[str, ...] = ()
    predictor: str = ""
    figures: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    error: str = ""

    def is_estimated(self, name: str) -> bool:
        return name in self.estimated

    def describe(self) -> list[dict[str, Any]]:
        """Every schema attribute with whether it is estimated and its figures, for the API."""
        out = []
        for a in SCHEMA.attributes:
            row = dict(self.figures.get(a.name, {}))
            out.append({
                "attribute": a.name,
                "kind": a.kind,
                "values": [True, False] if a.kind == "binary" else list(a.values),
                "description": a.description,
                "estimated": self.is_estimated(a.name),
                "mA": row.get("mA"),
                "baseline_mA": row.get("baseline_mA"),
                "ci": row.get("ci"),
                "n": row.get("n"),
                "reason": row.get("reason") or ("no evaluation on the real labelled set" if not row else ""),
            })
        return out


def gate_document(rows: Sequence[Mapping[str, Any]], *, predictor: str, command: str,
                  labelled_set: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON the gate file holds, from the score rows (``AttributeRealScore.as_dict()``)."""
    return {
        "kind": GATE_FORMAT,
        "predictor": predictor,
        "command": command,
        "labelled_set": dict(labelled_set),
        "estimated": [r["attribute"] for r in rows if r["passed"]],
        "attributes": {r["attribute"]: dict(r) for r in rows},
    }


def load_gate(path: str | Path = SHIPPED_GATE) -> AttributeGate:
    """Read a gate file; a missing or malformed one gives a gate that estimates nothing."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return AttributeGate(error=f"{Path(path).name}: {exc}")
    if not isinstance(doc, dict) or doc.get("kind") != GATE_FORMAT:
        return AttributeGate(error=f"{Path(path).name}: not a {GATE_FORMAT} file")
    names = set(SCHEMA.names)
    estimated = set(doc.get("estimated") or ()) & names
    figures = {k: v for k, v in (doc.get("attributes") or {}).items() if k in names and isinstance(v, dict)}
    return AttributeGate(
        estimated=tuple(n for n in SCHEMA.names if n in estimated),
        predictor=str(doc.get("predictor", "")),
        figures=figures,
    )
