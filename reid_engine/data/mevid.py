"""MEVID as its authors distribute it (MARS-style name lists, track tables and ``bbox_*`` folders).

Parsing follows the loaders of the MEVID repository (Kitware/MEVID: ``AP3D/tools/data_manager.py`` and
CAL's MEVID loader there); layout in docs/datasets.md.
"""

from __future__ import annotations

import re
from pathlib import Path

from reid_engine.data._ondisk import (
    Item,
    nonempty,
    number_outfits,
    read_lines,
    require_dir,
    require_root,
    tracklet_records,
)
from reid_engine.data.base import VideoReidDataset
from reid_engine.data.synthcc import DatasetError

ANNOTATION_DIR = "mevid-v1-annotation-data"
"""Where the annotation archive unpacks; its files may also lie directly in the root."""

# 0201O003C330T004F00192.jpg: person 0201, their outfit 003, camera 330, tracklet 004, frame 00192.
# The fixed widths let a name's person (name[:4]) and camera (name[9:12]) be read by slicing.
_NAME = re.compile(r"^(\d{4})O(\d{3})C(\d{3})T(\d{3})F(\d{5})\.jpg$")


def _annotation_dir(root: Path) -> Path:
    if (root / "track_test_info.txt").is_file() or not (root / ANNOTATION_DIR).is_dir():
        return root
    return root / ANNOTATION_DIR


def _int(token: str, path: Path, n: int) -> int:
    # The tables come out of numpy.savetxt, whose default writes 201 as "2.010000000000000000e+02".
    try:
        value = float(token)
    except ValueError:
        raise DatasetError(f"{path}:{n}: {token!r} is not a number") from None
    if not value.is_integer():
        raise DatasetError(f"{path}:{n}: {token!r} is not a whole number")
    return int(value)


def _names(path: Path) -> list[str]:
    """The frame names of a name list, each checked against the naming rule."""
    names = []
    for n, name in read_lines(path):
        if _NAME.match(name) is None:
            raise DatasetError(f"{path}:{n}: {name!r} is not named like 0201O003C330T004F00192.jpg")
        names.append(name)
    return names


def _tracks(path: Path) -> list[tuple[int, tuple[int, int, int, int, int]]]:
    rows = []
    for n, line in read_lines(path):
        parts = line.split()
        if len(parts) != 5:
            raise DatasetError(f"{path}:{n}: expected 'START END PID OUTFIT CAMERA', got {line[:80]!r}")
        start, end, pid, outfit, cam = (_int(p, path, n) for p in parts)
        rows.append((n, (start, end, pid, outfit, cam)))
    return rows


def _items(
    root: Path, ann: Path, split: str, rows: list[tuple[int, tuple[int, int, int, int, int]]]
) -> tuple[list[Item | None], int]:
    """One item per table row (None for the rows the reference code drops), and how many were dropped."""
    names_path, info_path = ann / f"{split}_name.txt", ann / f"track_{split}_info.txt"
    names = _names(names_path)
    bbox = require_dir(root / f"bbox_{split}")
    items: list[Item | None] = []
    folders: dict[str, Path] = {}
    for n, (start, end, pid, outfit, cam) in rows:
        # Ranges are 0-based and inclusive. MARS's junk identity -1 and empty ranges are skipped, as
        # MEVID's own loaders do.
        if pid == -1 or end < start:
            items.append(None)
            continue
        if start < 0 or end >= len(names):
            raise DatasetError(f"{info_path}:{n}: frames {start}..{end} lie outside {names_path.name}")
        frames = names[start : end + 1]
        # The checks of MEVID's AP3D loader: one track, one person and one camera.
        if len({(name[:4], name[9:12]) for name in frames}) != 1:
            raise DatasetError(f"{info_path}:{n}: frames {start}..{end} mix people or cameras")
        # One Path per person folder, joined per frame: MEVID has millions of frames.
        folder = folders.setdefault(frames[0][:4], bbox / frames[0][:4])
        paths = tuple(folder / name for name in frames)
        items.append(Item(paths, pid, cam, str(outfit)))
    return items, sum(it is None for it in items)


def _query_rows(path: Path, num_rows: int) -> set[int]:
    rows = set()
    for n, line in read_lines(path):
        for token in line.split():
            i = _int(token, path, n)
            if not 0 <= i < num_rows:
                raise DatasetError(f"{path}:{n}: row {i} is outside the {num_rows} test tracks")
            rows.add(i)
    return rows


def load_mevid(root: str | Path) -> VideoReidDataset:
    """Read MEVID.

    ``track_{train,test}_info.txt`` hold one tracklet per row (first and last index into
    ``{train,test}_name.txt``, identity, outfit, camera); ``query_IDX.txt`` lists the 0-based rows of
    the test table that form the query, every other test row is gallery. Frames live in
    ``bbox_{train,test}/<first 4 characters of the name>/``. MEVID's scripts report the ``general``
    protocol as the overall result, and ``sc`` / ``cc`` on the outfit labels.

    Args:
        root: the MEVID folder holding ``bbox_train/``, ``bbox_test/`` and the five annotation files
            (directly or in ``mevid-v1-annotation-data/``).

    Raises:
        DatasetError: on a missing file or folder, a malformed table line, a frame name off the naming
            rule, or a track whose frames mix people or cameras.
    """
    root = require_root(root, "MEVID")
    ann = _annotation_dir(root)
    train_rows = _tracks(ann / "track_train_info.txt")
    test_rows = _tracks(ann / "track_test_info.txt")
    query_rows = _query_rows(ann / "query_IDX.txt", len(test_rows))
    train, train_dropped = _items(root, ann, "train", train_rows)
    test, test_dropped = _items(root, ann, "test", test_rows)
    train_items = nonempty([it for it in train if it is not None], ann / "track_train_info.txt", "tracks")
    query = nonempty(
        [it for i, it in enumerate(test) if it is not None and i in query_rows],
        ann / "query_IDX.txt",
        "query tracks",
    )
    gallery = nonempty(
        [it for i, it in enumerate(test) if it is not None and i not in query_rows],
        ann / "track_test_info.txt",
        "gallery tracks",
    )
    outfits = number_outfits(train_items, query, gallery)
    return VideoReidDataset(
        name="mevid",
        train=tracklet_records(train_items, outfits),
        query=tracklet_records(query, outfits),
        gallery=tracklet_records(gallery, outfits),
        meta={
            "source": "MEVID (Davila et al., WACV 2023); parsing as the loaders of Kitware/MEVID",
            "dropped_tracks": {"train": train_dropped, "test": test_dropped},
            "eval_protocols": ["general", "sc", "cc"],
        },
    )
