"""What the loaders of published data-set layouts share: checked paths, listings, outfit numbering."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reid_engine.data.base import ImageRecord, TrackletRecord
from reid_engine.data.synthcc import DatasetError


@dataclass(frozen=True, slots=True)
class Item:
    """One parsed image or tracklet before its clothes label is numbered.

    Attributes:
        paths: the image file, or the frames of a tracklet in temporal order.
        pid, camid: identity and camera labels as the data set writes them.
        outfit: the data set's own outfit label, unique only within one identity.
    """

    paths: tuple[Path, ...]
    pid: int
    camid: int
    outfit: str


def require_root(root: str | Path, dataset: str) -> Path:
    """The data set's folder, or a DatasetError saying it is missing."""
    path = Path(root)
    if not path.is_dir():
        state = "is not a folder" if path.exists() else "does not exist"
        raise DatasetError(f"{dataset} folder {path} {state}")
    return path


def nonempty(items: list[Item], source: Path, what: str = "images") -> list[Item]:
    """``items``, or a DatasetError when a split is empty (most often: the wrong folder was given)."""
    if not items:
        raise DatasetError(f"{source} holds no {what}")
    return items


def require_dir(path: Path) -> Path:
    if not path.is_dir():
        raise DatasetError(f"missing folder {path}")
    return path


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise DatasetError(f"missing file {path}")
    return path


def files(folder: Path, suffix: str) -> list[Path]:
    """Files of ``folder`` ending in ``suffix`` (case-insensitive), sorted by name."""
    require_dir(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(suffix))


def subdirs(folder: Path) -> list[Path]:
    require_dir(folder)
    return sorted(p for p in folder.iterdir() if p.is_dir())


def read_lines(path: Path) -> list[tuple[int, str]]:
    """Non-blank lines of a text file with their 1-based line numbers."""
    require_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not a UTF-8 text file ({exc.reason})") from None
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _outfit_order(key: tuple[int, str]) -> tuple[int, int, int, str]:
    # Numeric outfit labels sort as numbers ("2" before "10"), so clothes ids follow the data set's order.
    pid, outfit = key
    return (pid, 0, int(outfit), "") if outfit.isdigit() else (pid, 1, 0, outfit)


def number_outfits(*groups: Iterable[Item]) -> dict[tuple[int, str], int]:
    """Number every ``(pid, outfit)`` pair of the data set ``0..N-1`` in sorted order.

    Keying on the identity as well as the outfit label keeps clothes ids unique within the data set:
    data sets number outfits per person ("clothes 1" of person 3 is not "clothes 1" of person 7).
    """
    keys = {(item.pid, item.outfit) for group in groups for item in group}
    return {key: i for i, key in enumerate(sorted(keys, key=_outfit_order))}


def image_records(items: Sequence[Item], outfits: Mapping[tuple[int, str], int]) -> tuple[ImageRecord, ...]:
    return tuple(
        ImageRecord(path=it.paths[0], pid=it.pid, camid=it.camid, clothes_id=outfits[(it.pid, it.outfit)])
        for it in items
    )


def tracklet_records(
    items: Sequence[Item], outfits: Mapping[tuple[int, str], int]
) -> tuple[TrackletRecord, ...]:
    return tuple(
        TrackletRecord(paths=it.paths, pid=it.pid, camid=it.camid, clothes_id=outfits[(it.pid, it.outfit)])
        for it in items
    )
