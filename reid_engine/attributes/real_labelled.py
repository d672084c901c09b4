"""The real labelled set: people of real footage whose attributes were labelled by hand.

Each record names a video, the track the product's pipeline gives the person (its id, frame span and
box at a few frames) and one label per attribute in :data:`LABELLED_ATTRIBUTES`: a schema value,
``"cannot tell"`` (a careful person could not tell from the pixels) or ``"other"`` (visible, but none
of the schema's values, e.g. a sweater for ``upper_type``). Scoring skips the last two.

The set is for evaluation only. :func:`refuse_real_labelled` is called by every training data loader
(``reid_engine.attributes.training``), so the set cannot end up in a training run by mistake.

Layout: a folder (by default :data:`REAL_LABELLED_DIR`) of JSON files, one per video or still image
(``"still": true``; its records have one box, at frame 0)::

    {"kind": "longview-real-labelled/1", "video": "vtest.avi", "pipeline": {...},
     "labeller": "...", "tracks": [{"track_id": 3, "frames": [10, 250],
     "boxes": [{"frame": 10, "box": [x1, y1, x2, y2]}, ...], "labels": {"gender": "male", ...}}]}
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reid_engine.attributes.schema import SCHEMA, AttributeValue

FORMAT = "longview-real-labelled/1"
REAL_LABELLED_DIR = Path(__file__).resolve().parent.parent / "data" / "real_labelled"
"""The shipped set (``reid_engine/data/real_labelled``)."""

CANNOT_TELL = "cannot tell"
OTHER = "other"
LABELLED_ATTRIBUTES: tuple[str, ...] = (
    "gender",
    "age_group",
    "hair_length",
    "glasses",
    "hat",
    "backpack",
    "handbag",
    "shoulder_bag",
    "upper_type",
    "sleeve_length",
    "upper_colour",
    "lower_type",
    "lower_colour",
)
"""The attributes every record labels (each with a value, "cannot tell" or "other")."""

ANCHORS = 5
"""Boxes kept per track to re-find it: evenly spaced over its tracked frames, ends included."""


class RealLabelledError(ValueError):
    """The real labelled set is missing, malformed, or was handed to a training loader."""


@dataclass(frozen=True, slots=True)
class RealLabelledTrack:
    """One hand-labelled person.

    Attributes:
        video: the video's file name.
        track_id: the id the pipeline gave the track.
        frames: first and last tracked frame index.
        boxes: ``((frame, (x1, y1, x2, y2)), …)`` at a few frames, in frame pixels.
        attributes: the labels that can be scored, in schema form (binary as bool).
        cannot_tell: the attributes labelled "cannot tell".
        other: the attributes labelled "other" (outside the schema's values).
    """

    video: str
    track_id: int
    frames: tuple[int, int]
    boxes: tuple[tuple[int, tuple[float, float, float, float]], ...]
    attributes: Mapping[str, AttributeValue]
    cannot_tell: frozenset[str]
    other: frozenset[str]


@dataclass(frozen=True)
class RealLabelledSet:
    """Every record of the set, the pipeline each video was tracked with, and which sources are still
    images (one frame: their people are found by the pipeline's detector alone, not tracked)."""

    tracks: tuple[RealLabelledTrack, ...]
    pipelines: Mapping[str, Mapping[str, Any]]
    root: Path
    stills: frozenset[str] = frozenset()


def pipeline_fingerprint(config: Any) -> dict[str, Any]:
    """What fixes the tracks of a video: the engine version and the digest of the pipeline settings
    that detection and tracking depend on (the clothes-invariant lane and output sizes do not)."""
    from reid_engine import __version__

    settings = dataclasses.asdict(config)
    for key in ("identity_lane", "identity_embedder", "thumbnail_height", "proxy_width", "partial_every_s",
                "colour_names", "limits"):
        settings.pop(key, None)
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()
    return {"engine": __version__, "sample_fps": settings.get("sample_fps"),
            "detector": settings.get("detector", {}).get("kind"), "settings_sha256": digest[:16]}


def anchor_boxes(tracklet: Any, count: int = ANCHORS) -> list[dict[str, Any]]:
    """``count`` boxes of a tracklet, evenly spaced over its rows, as JSON-ready dictionaries."""
    n = len(tracklet.frame_indices)
    rows = sorted({round(i) for i in np.linspace(0, n - 1, min(count, n))})
    return [{"frame": int(tracklet.frame_indices[i]),
             "box": [round(float(v), 1) for v in tracklet.boxes_xyxy[i]]} for i in rows]


def _label(name: str, raw: Any, where: str) -> AttributeValue | str:
    if raw in (CANNOT_TELL, OTHER):
        return str(raw)
    attribute = SCHEMA[name]
    try:
        attribute.index_of(raw)
    except ValueError as exc:
        raise RealLabelledError(f"{where}: {exc}") from None
    return raw  # type: ignore[no-any-return]


def _track(video: str, raw: Mapping[str, Any], where: str) -> RealLabelledTrack:
    try:
        labels = raw["labels"]
        track_id = int(raw["track_id"])
        first, last = (int(v) for v in raw["frames"])
        boxes = tuple((int(b["frame"]), tuple(float(v) for v in b["box"])) for b in raw["boxes"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RealLabelledError(f"{where}: malformed record ({exc})") from None
    missing = [a for a in LABELLED_ATTRIBUTES if labels.get(a) is None]
    if missing:
        raise RealLabelledError(f"{where}: no label for {', '.join(missing)}")
    values = {name: _label(name, labels[name], where) for name in LABELLED_ATTRIBUTES}
    if not boxes or any(len(b) != 4 for _, b in boxes):
        raise RealLabelledError(f"{where}: needs at least one box of 4 numbers")
    return RealLabelledTrack(
        video=video,
        track_id=track_id,
        frames=(first, last),
        boxes=boxes,  # type: ignore[arg-type]
        attributes={k: v for k, v in values.items() if v not in (CANNOT_TELL, OTHER)},
        cannot_tell=frozenset(k for k, v in values.items() if v == CANNOT_TELL),
        other=frozenset(k for k, v in values.items() if v == OTHER),
    )


def load_real_labelled(root: str | Path = REAL_LABELLED_DIR) -> RealLabelledSet:
    """Read every ``*.json`` file of ``root`` (or the one file ``root``).

    Raises:
        RealLabelledError: no file, a file of another format, or a record without a valid label for
            every attribute of :data:`LABELLED_ATTRIBUTES`.
    """
    root = Path(root)
    files = sorted(root.glob("*.json")) if root.is_dir() else [root] if root.is_file() else []
    if not files:
        raise RealLabelledError(f"no real labelled set in {root}")
    tracks: list[RealLabelledTrack] = []
    pipelines: dict[str, Mapping[str, Any]] = {}
    stills: set[str] = set()
    for path in files:
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RealLabelledError(f"{path.name}: {exc}") from None
        if not isinstance(doc, dict) or doc.get("kind") != FORMAT:
            raise RealLabelledError(f"{path.name}: not a {FORMAT} file")
        video = str(doc.get("video", ""))
        pipelines[video] = doc.get("pipeline", {})
        if doc.get("still"):
            stills.add(video)
        tracks.extend(_track(video, t, f"{path.name} track {t.get('track_id')}") for t in doc.get("tracks", ()))
    if not tracks:
        raise RealLabelledError(f"the real labelled set in {root} has no tracks")
    return RealLabelledSet(tracks=tuple(tracks), pipelines=pipelines, root=root, stills=frozenset(stills))


def is_real_labelled(path: str | Path) -> bool:
    """Whether ``path`` is the shipped real labelled set or lies inside it, or is a copy of it (a
    real-labelled JSON file, or a folder holding one)."""
    p = Path(path).resolve()
    shipped = REAL_LABELLED_DIR.resolve()
    return p == shipped or shipped in p.parents or _marked(p)


def _marked(p: Path) -> bool:
    """A copy of the set elsewhere: a folder with a real-labelled JSON, or such a file itself."""
    candidates = [p] if p.is_file() else sorted(p.glob("*.json"))[:50] if p.is_dir() else []
    for f in candidates:
        try:
            head = f.read_text(errors="replace")[:200]
        except OSError:
            continue
        if FORMAT in head:
            return True
    return False


def refuse_real_labelled(root: str | Path, *, purpose: str = "training") -> None:
    """Raise when ``root`` is (or holds) the real labelled set: it must stay out of every training set.

    Raises:
        RealLabelledError: naming the folder and the purpose.
    """
    if is_real_labelled(root):
        raise RealLabelledError(
            f"{root} is the real labelled attribute set, which is for evaluation only and never for {purpose}"
        )


def match_tracks(
    labelled: Sequence[RealLabelledTrack], tracklets: Sequence[Any], *, min_iou: float = 0.5
) -> dict[int, Any]:
    """Find each labelled person among the tracklets of one run of the pipeline on its video.

    A tracklet matches a record when its boxes at the record's anchor frames overlap the recorded
    boxes with a mean IoU of at least ``min_iou`` (a frame the tracklet lacks counts 0); the best
    match wins and each tracklet serves one record at most.

    Returns:
        ``{index into labelled: tracklet}`` for the records found.
    """
    scored: list[tuple[float, int, int]] = []
    for i, rec in enumerate(labelled):
        for j, t in enumerate(tracklets):
            rows = {int(f): k for k, f in enumerate(t.frame_indices)}
            ious = [_iou(box, t.boxes_xyxy[rows[f]]) if f in rows else 0.0 for f, box in rec.boxes]
            score = float(np.mean(ious))
            if score >= min_iou:
                scored.append((score, i, j))
    found: dict[int, Any] = {}
    used: set[int] = set()
    for _, i, j in sorted(scored, key=lambda s: (-s[0], s[1], s[2])):
        if i not in found and j not in used:
            found[i] = tracklets[j]
            used.add(j)
    return found


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
