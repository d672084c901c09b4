"""Loaders of the published PRCC, LTCC, VC-Clothes, CCVID and MEVID layouts, and the name registry."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from ccreid_layouts import (
    CCVID_FRAMES,
    MEVID_FRAMES,
    build_ccvid,
    build_ltcc,
    build_mevid,
    build_prcc,
    build_vcclothes,
    mevid_name,
    write_image,
)

from reid_engine.data import (
    DATASETS,
    DatasetError,
    ImageRecord,
    ImageReidDataset,
    TrackletRecord,
    VideoReidDataset,
    load_dataset,
)
from reid_engine.eval import evaluate

Row = tuple[str, int, int, int]


def _rows(records: tuple[ImageRecord, ...], root: Path) -> set[Row]:
    return {(r.path.relative_to(root).as_posix(), r.pid, r.camid, r.clothes_id) for r in records}


def _tracks(records: tuple[TrackletRecord, ...], root: Path) -> list[Row]:
    """(folder of the frames, pid, camid, clothes_id) per tracklet, in split order."""
    return [(r.paths[0].parent.relative_to(root).as_posix(), r.pid, r.camid, r.clothes_id) for r in records]


def _assert_clothes_belong_to_one_identity(ds: ImageReidDataset | VideoReidDataset) -> None:
    owner: dict[int, int] = {}
    for r in (*ds.train, *ds.query, *ds.gallery):
        assert owner.setdefault(r.clothes_id, r.pid) == r.pid, f"clothes {r.clothes_id} shared"
        assert r.attributes is None


def _one_line_error(load: Callable[[], object], match: str) -> None:
    with pytest.raises(DatasetError, match=match) as info:
        load()
    assert "\n" not in str(info.value)


# --- PRCC ---------------------------------------------------------------------------------------


def test_prcc_labels_cameras_and_clothes_as_cal_does(tmp_path: Path) -> None:
    root = build_prcc(tmp_path / "prcc")
    ds = load_dataset("prcc", root)
    assert isinstance(ds, ImageReidDataset)
    assert ds.name == "prcc"
    # Rooms A and B share one outfit per person, room C is another; val is not read.
    assert _rows(ds.train, root) == {
        (f"rgb/train/00{p}/{name}", p, cam, clothes)
        for p, ab, c in ((1, 0, 1), (2, 2, 3))
        for name, cam, clothes in (
            ("A_cropped_rgb001.jpg", 0, ab),
            ("A_cropped_rgb002.jpg", 0, ab),
            ("B_cropped_rgb003.jpg", 1, ab),
            ("C_cropped_rgb004.jpg", 2, c),
            ("C_cropped_rgb005.jpg", 2, c),
        )
    }
    assert _rows(ds.gallery, root) == {
        (f"rgb/test/A/00{p}/cropped_rgb00{i}.jpg", p, 0, ab) for p, ab in ((3, 4), (4, 6)) for i in (0, 1)
    }
    assert _rows(ds.query, root) == {
        ("rgb/test/B/003/cropped_rgb000.jpg", 3, 1, 4),
        ("rgb/test/B/004/cropped_rgb000.jpg", 4, 1, 6),
    } | {(f"rgb/test/C/00{p}/cropped_rgb00{i}.jpg", p, 2, c) for p, c in ((3, 5), (4, 7)) for i in (0, 1)}
    assert ds.meta["query_camids"] == {"sc": 1, "cc": 2}
    assert ds.meta["eval_protocols"] == ["sc", "cc"]
    _assert_clothes_belong_to_one_identity(ds)


def test_prcc_sc_and_cc_protocols_score_camera_b_and_camera_c_queries(tmp_path: Path) -> None:
    ds = load_dataset("prcc", build_prcc(tmp_path / "prcc"))
    q_pids = np.array([r.pid for r in ds.query])
    g_pids = np.array([r.pid for r in ds.gallery])
    dist = (q_pids[:, None] != g_pids[None, :]).astype(np.float32)
    labels = (
        q_pids,
        g_pids,
        np.array([r.camid for r in ds.query]),
        np.array([r.camid for r in ds.gallery]),
        np.array([r.clothes_id for r in ds.query]),
        np.array([r.clothes_id for r in ds.gallery]),
    )
    sc = evaluate(dist, *labels, protocol="sc")
    cc = evaluate(dist, *labels, protocol="cc")
    # 2 camera-B queries (same clothes as the camera-A gallery) and 4 camera-C queries (changed clothes).
    assert (sc.num_queries, sc.num_skipped) == (2, 4)
    assert (cc.num_queries, cc.num_skipped) == (4, 2)
    assert sc.rank(1) == cc.rank(1) == 1.0


def test_prcc_rejects_an_image_name_without_a_camera_letter(tmp_path: Path) -> None:
    root = build_prcc(tmp_path / "prcc")
    write_image(root / "rgb" / "train" / "001" / "D_cropped_rgb009.jpg")
    _one_line_error(lambda: load_dataset("prcc", root), "D_cropped_rgb009.jpg")


def test_prcc_rejects_an_identity_folder_that_is_not_a_number(tmp_path: Path) -> None:
    root = build_prcc(tmp_path / "prcc")
    write_image(root / "rgb" / "test" / "A" / "person7" / "cropped_rgb000.jpg")
    _one_line_error(lambda: load_dataset("prcc", root), "person7")


def test_prcc_without_the_test_camera_c_folder_names_it(tmp_path: Path) -> None:
    root = build_prcc(tmp_path / "prcc")
    shutil.rmtree(root / "rgb" / "test" / "C")
    _one_line_error(lambda: load_dataset("prcc", root), r"missing folder .*test/C")


# --- LTCC ---------------------------------------------------------------------------------------


def test_ltcc_reads_pid_clothes_and_camera_from_file_names(tmp_path: Path) -> None:
    root = build_ltcc(tmp_path / "LTCC_ReID")
    ds = load_dataset("ltcc", root)
    assert isinstance(ds, ImageReidDataset)
    # Outfit "1" of person 1 and outfit "1" of person 2 are different clothes.
    assert _rows(ds.train, root) == {
        ("train/001_1_c1_000101.png", 1, 1, 0),
        ("train/001_1_c2_000102.png", 1, 2, 0),
        ("train/001_2_c3_000103.png", 1, 3, 1),
        ("train/002_1_c1_000201.png", 2, 1, 2),
    }
    assert _rows(ds.query, root) == {
        ("query/010_1_c4_001001.png", 10, 4, 3),
        ("query/011_2_c5_001101.png", 11, 5, 6),
    }
    assert _rows(ds.gallery, root) == {
        ("test/010_1_c6_001002.png", 10, 6, 3),
        ("test/010_2_c4_001003.png", 10, 4, 4),
        ("test/011_1_c6_001102.png", 11, 6, 5),
        ("test/011_2_c7_001103.png", 11, 7, 6),
    }
    assert ds.summary()["train"] == {"items": 4, "ids": 2, "clothes": 3, "cameras": 3}
    _assert_clothes_belong_to_one_identity(ds)


def test_ltcc_relabelled_train_has_contiguous_labels(tmp_path: Path) -> None:
    ds = load_dataset("ltcc", build_ltcc(tmp_path / "LTCC_ReID"))
    train = ds.relabelled_train()
    assert sorted({r.pid for r in train}) == [0, 1]
    assert sorted({r.clothes_id for r in train}) == [0, 1, 2]
    assert [r.camid for r in train] == [r.camid for r in ds.train]


def test_ltcc_rejects_a_png_off_the_naming_pattern(tmp_path: Path) -> None:
    root = build_ltcc(tmp_path / "LTCC_ReID")
    write_image(root / "test" / "010-1-c6.png")
    _one_line_error(lambda: load_dataset("ltcc", root), r"010-1-c6\.png")


def test_ltcc_given_the_parent_folder_names_the_missing_split(tmp_path: Path) -> None:
    build_ltcc(tmp_path / "LTCC_ReID")
    _one_line_error(lambda: load_dataset("ltcc", tmp_path), r"missing folder .*train")


def test_ltcc_split_without_png_images_is_an_error(tmp_path: Path) -> None:
    root = build_ltcc(tmp_path / "LTCC_ReID")
    for path in (root / "query").iterdir():
        path.unlink()
    write_image(root / "query" / "010_1_c4_001001.jpg")
    _one_line_error(lambda: load_dataset("ltcc", root), r"query holds no \.png images")


# --- VC-Clothes ---------------------------------------------------------------------------------


def test_vcclothes_reads_labels_and_cuts_test_cameras_as_cal(tmp_path: Path) -> None:
    root = build_vcclothes(tmp_path / "VC-Clothes")
    full = load_dataset("vcclothes", root)
    assert _rows(full.train, root) == {
        ("train/0001-01-01-01.jpg", 1, 1, 0),
        ("train/0001-02-01-02.jpg", 1, 2, 0),
        ("train/0001-04-02-01.jpg", 1, 4, 1),
        ("train/0002-03-01-01.jpg", 2, 3, 2),
    }
    assert _rows(full.query, root) == {
        ("query/0007-01-01-01.jpg", 7, 1, 3),
        ("query/0007-02-01-02.jpg", 7, 2, 3),
        ("query/0007-03-01-03.jpg", 7, 3, 3),
        ("query/0007-04-02-01.jpg", 7, 4, 4),
    }
    assert len(full.gallery) == 4
    assert full.meta["eval_protocols"] == ["general", "sc", "cc"]
    _assert_clothes_belong_to_one_identity(full)

    sc, cc = load_dataset("vcclothes-sc", root), load_dataset("vcclothes-cc", root)
    assert (sc.name, cc.name) == ("vcclothes-sc", "vcclothes-cc")
    assert {r.camid for r in (*sc.query, *sc.gallery)} == {2, 3}
    assert {r.camid for r in (*cc.query, *cc.gallery)} == {3, 4}
    assert (len(sc.query), len(sc.gallery), len(cc.query), len(cc.gallery)) == (2, 2, 2, 2)
    # Same clothes in the sc pair, a change of clothes across the cc pair.
    assert {r.clothes_id for r in sc.query} == {3}
    assert {r.clothes_id for r in cc.query} == {3, 4}
    assert sc.train == cc.train == full.train
    assert sc.meta["eval_protocols"] == ["general"]


def test_vcclothes_rejects_a_jpg_off_the_naming_pattern(tmp_path: Path) -> None:
    root = build_vcclothes(tmp_path / "VC-Clothes")
    write_image(root / "gallery" / "0007_01_01_09.jpg")
    _one_line_error(lambda: load_dataset("vcclothes", root), "0007_01_01_09.jpg")


# --- CCVID --------------------------------------------------------------------------------------


def test_ccvid_reads_lists_frames_and_session_cameras(tmp_path: Path) -> None:
    root = build_ccvid(tmp_path / "CCVID")
    ds = load_dataset("ccvid", root)
    assert isinstance(ds, VideoReidDataset)
    # Camera = walk index; session 3 is moved past the twelve walks of sessions 1-2, as CAL does.
    assert _tracks(ds.train, root) == [
        ("session1/001_01", 1, 1, 0),
        ("session3/001_02", 1, 14, 1),
        ("session1/002_01", 2, 1, 2),
    ]
    assert _tracks(ds.query, root) == [("session1/010_01", 10, 1, 3)]
    assert _tracks(ds.gallery, root) == [("session2/010_04", 10, 4, 3), ("session3/010_05", 10, 17, 4)]
    first = ds.train[0]
    assert [p.name for p in first.paths] == [f"{i:05d}.jpg" for i in range(1, CCVID_FRAMES + 1)]
    assert all(p.is_file() for p in first.paths)
    _assert_clothes_belong_to_one_identity(ds)
    assert sorted({r.clothes_id for r in ds.relabelled_train()}) == [0, 1, 2]


def test_ccvid_without_a_list_file_names_it(tmp_path: Path) -> None:
    root = build_ccvid(tmp_path / "CCVID")
    (root / "gallery.txt").unlink()
    _one_line_error(lambda: load_dataset("ccvid", root), r"missing file .*gallery\.txt")


def test_ccvid_rejects_a_malformed_list_line_with_its_line_number(tmp_path: Path) -> None:
    root = build_ccvid(tmp_path / "CCVID")
    with (root / "query.txt").open("a", encoding="utf-8") as f:
        f.write("session1/011_01 011\n")
    _one_line_error(lambda: load_dataset("ccvid", root), r"query\.txt:2")


def test_ccvid_with_a_listed_tracklet_folder_missing_names_it(tmp_path: Path) -> None:
    root = build_ccvid(tmp_path / "CCVID")
    shutil.rmtree(root / "session2" / "010_04")
    _one_line_error(lambda: load_dataset("ccvid", root), r"missing folder .*010_04")


# --- MEVID --------------------------------------------------------------------------------------


def test_mevid_reads_tracks_query_rows_and_drops_junk_rows(tmp_path: Path) -> None:
    root = build_mevid(tmp_path / "mevid")
    ds = load_dataset("mevid", root)
    assert isinstance(ds, VideoReidDataset)
    assert _tracks(ds.train, root) == [
        ("bbox_train/0001", 1, 330, 0),
        ("bbox_train/0001", 1, 505, 1),
        ("bbox_train/0002", 2, 330, 2),
    ]
    assert _tracks(ds.query, root) == [("bbox_test/0201", 201, 330, 3), ("bbox_test/0202", 202, 330, 5)]
    assert _tracks(ds.gallery, root) == [
        ("bbox_test/0201", 201, 507, 3),
        ("bbox_test/0201", 201, 436, 4),
        ("bbox_test/0202", 202, 329, 6),
    ]
    assert [p.name for p in ds.gallery[1].paths] == [
        mevid_name(201, 3, 436, 2, f) for f in range(MEVID_FRAMES)
    ]
    assert all(p.is_file() for r in (*ds.train, *ds.query, *ds.gallery) for p in r.paths)
    assert ds.meta["dropped_tracks"] == {"train": 1, "test": 0}
    _assert_clothes_belong_to_one_identity(ds)


def test_mevid_finds_annotations_in_the_unpacked_annotation_folder(tmp_path: Path) -> None:
    root = build_mevid(tmp_path / "mevid")
    ann = root / "mevid-v1-annotation-data"
    ann.mkdir()
    for name in (
        "train_name.txt",
        "test_name.txt",
        "track_train_info.txt",
        "track_test_info.txt",
        "query_IDX.txt",
    ):
        (root / name).rename(ann / name)
    ds = load_dataset("mevid", root)
    assert (len(ds.train), len(ds.query), len(ds.gallery)) == (3, 2, 3)


@pytest.mark.parametrize(
    ("file", "line", "match"),
    [
        ("track_test_info.txt", "0 1 201 one 330", r"track_test_info\.txt:6: 'one' is not a number"),
        (
            "track_test_info.txt",
            "0 1 201 1",
            r"track_test_info\.txt:6: expected 'START END PID OUTFIT CAMERA'",
        ),
        ("track_test_info.txt", "0 99 201 1 330", r"track_test_info\.txt:6: frames 0\.\.99 lie outside"),
        (
            "track_test_info.txt",
            "0 3 201 1 330",
            r"track_test_info\.txt:6: frames 0\.\.3 mix people or cameras",
        ),
        ("query_IDX.txt", "7", r"query_IDX\.txt:3: row 7 is outside"),
        ("test_name.txt", "0201_c330_f0.jpg", r"test_name\.txt:11: '0201_c330_f0\.jpg' is not named"),
    ],
)
def test_mevid_rejects_malformed_annotation_lines(tmp_path: Path, file: str, line: str, match: str) -> None:
    root = build_mevid(tmp_path / "mevid")
    with (root / file).open("a", encoding="utf-8") as f:
        f.write(line + "\n")
    _one_line_error(lambda: load_dataset("mevid", root), match)


def test_mevid_without_query_rows_file_names_it(tmp_path: Path) -> None:
    root = build_mevid(tmp_path / "mevid")
    (root / "query_IDX.txt").unlink()
    _one_line_error(lambda: load_dataset("mevid", root), r"missing file .*query_IDX\.txt")


# --- registry -----------------------------------------------------------------------------------


def test_unknown_dataset_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="unknown data set 'market1501'") as info:
        load_dataset("market1501", tmp_path)
    assert all(name in str(info.value) for name in DATASETS)


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_reports_a_missing_root_as_a_dataset_error(tmp_path: Path, name: str) -> None:
    _one_line_error(lambda: load_dataset(name, tmp_path / "absent"), "absent")


def test_a_file_given_as_root_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "prcc.zip").write_bytes(b"PK")
    _one_line_error(lambda: load_dataset("prcc", tmp_path / "prcc.zip"), "prcc.zip is not a folder")
