"""Tiny copies of the published layouts of PRCC, LTCC, VC-Clothes, CCVID and MEVID, written to disk.

Each builder writes real (8×4 px) images in the authors' folder structure and file naming, with a
handful of identities, and returns the root to load.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np


def write_image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((8, 4, 3), (40, 90, 160), np.uint8)
    if not cv2.imwrite(str(path), img):
        raise OSError(f"cannot write {path}")
    return path


def write_images(folder: Path, names: Iterable[str]) -> None:
    for name in names:
        write_image(folder / name)


def build_prcc(root: Path) -> Path:
    """Train: persons 1 and 2, each with 2 A, 1 B and 2 C images; val: person 1 (never read);
    test: persons 3 and 4, each with 2 images in A, 1 in B and 2 in C."""
    for pid in ("001", "002"):
        write_images(
            root / "rgb" / "train" / pid,
            ["A_cropped_rgb001.jpg", "A_cropped_rgb002.jpg", "B_cropped_rgb003.jpg"]
            + ["C_cropped_rgb004.jpg", "C_cropped_rgb005.jpg"],
        )
    write_images(root / "rgb" / "val" / "001", ["A_cropped_rgb101.jpg", "C_cropped_rgb102.jpg"])
    counts = {"A": 2, "B": 1, "C": 2}
    for cam, count in counts.items():
        for pid in ("003", "004"):
            write_images(root / "rgb" / "test" / cam / pid, [f"cropped_rgb{i:03d}.jpg" for i in range(count)])
    return root


LTCC_FILES = {
    # person 1 in outfits 1 and 2; person 2 in outfit 1 (same outfit number, another person).
    "train": ["001_1_c1_000101.png", "001_1_c2_000102.png", "001_2_c3_000103.png", "002_1_c1_000201.png"],
    "query": ["010_1_c4_001001.png", "011_2_c5_001101.png"],
    "test": ["010_1_c6_001002.png", "010_2_c4_001003.png", "011_1_c6_001102.png", "011_2_c7_001103.png"],
}


def build_ltcc(root: Path) -> Path:
    for split, names in LTCC_FILES.items():
        write_images(root / split, names)
    return root


VCCLOTHES_FILES = {
    "train": ["0001-01-01-01.jpg", "0001-02-01-02.jpg", "0001-04-02-01.jpg", "0002-03-01-01.jpg"],
    # person 7: same outfit on cameras 2 and 3, another on camera 4 (and camera 1 with the first).
    "query": ["0007-01-01-01.jpg", "0007-02-01-02.jpg", "0007-03-01-03.jpg", "0007-04-02-01.jpg"],
    "gallery": ["0007-01-01-04.jpg", "0007-02-01-05.jpg", "0007-03-01-06.jpg", "0007-04-02-02.jpg"],
}


def build_vcclothes(root: Path) -> Path:
    for split, names in VCCLOTHES_FILES.items():
        write_images(root / split, names)
    return root


CCVID_LISTS = {
    "train": [
        ("session1/001_01", "001", "u1_l1"),
        ("session3/001_02", "001", "u2_l1"),
        ("session1/002_01", "002", "u1_l1"),
    ],
    "query": [("session1/010_01", "010", "u1_l1")],
    "gallery": [("session2/010_04", "010", "u1_l1"), ("session3/010_05", "010", "u3_l2")],
}
CCVID_FRAMES = 3


def build_ccvid(root: Path) -> Path:
    for split, rows in CCVID_LISTS.items():
        lines = []
        for tracklet, pid, clothes in rows:
            write_images(root / tracklet, [f"{i:05d}.jpg" for i in range(1, CCVID_FRAMES + 1)])
            lines.append(f"{tracklet}\t{pid}\t{clothes}")
        (root / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def mevid_name(pid: int, outfit: int, cam: int, track: int, frame: int) -> str:
    return f"{pid:04d}O{outfit:03d}C{cam:03d}T{track:03d}F{frame:05d}.jpg"


def _sci(values: Iterable[int]) -> str:
    # MEVID's tables are numpy.savetxt output: every number in scientific notation.
    return " ".join(f"{v:.18e}" for v in values)


def _mevid_split(root: Path, split: str, tracks: list[tuple[int, int, int, int]], frames: int) -> None:
    """Write ``{split}_name.txt``, ``track_{split}_info.txt`` and the frames of ``tracks``.

    Each track is ``(pid, outfit, camera, track number)`` with ``frames`` frames; a pid of -1 writes a
    junk row pointing at the frames of the previous track.
    """
    names: list[str] = []
    rows: list[str] = []
    for pid, outfit, cam, track in tracks:
        if pid == -1:
            rows.append(_sci((len(names) - frames, len(names) - 1, -1, outfit, cam)))
            continue
        start = len(names)
        for f in range(frames):
            name = mevid_name(pid, outfit, cam, track, f)
            names.append(name)
            write_image(root / f"bbox_{split}" / f"{pid:04d}" / name)
        rows.append(_sci((start, len(names) - 1, pid, outfit, cam)))
    (root / f"{split}_name.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    (root / f"track_{split}_info.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")


MEVID_TRAIN = [(1, 1, 330, 0), (1, 2, 505, 1), (2, 1, 330, 2), (-1, 1, 330, 3)]
MEVID_TEST = [(201, 1, 330, 0), (201, 1, 507, 1), (201, 3, 436, 2), (202, 1, 330, 3), (202, 2, 329, 4)]
MEVID_QUERY_ROWS = (0, 3)
MEVID_FRAMES = 2


def build_mevid(root: Path) -> Path:
    _mevid_split(root, "train", MEVID_TRAIN, MEVID_FRAMES)
    _mevid_split(root, "test", MEVID_TEST, MEVID_FRAMES)
    (root / "query_IDX.txt").write_text(
        "\n".join(_sci((i,)) for i in MEVID_QUERY_ROWS) + "\n", encoding="utf-8"
    )
    return root
