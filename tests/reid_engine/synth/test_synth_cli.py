"""``reid synth``: JSON summary, loadable output and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reid_engine.cli import main
from reid_engine.data.synthcc import DatasetError, load_synthcc_images, load_synthcc_tracklets
from reid_engine.data.torch_dataset import ImageReidTorchDataset


def test_synth_images_prints_a_json_summary_and_writes_a_loadable_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "images"
    argv = ["synth", "images", "--out", str(out), "--seed", "1", "--ids", "4", "--outfits", "2"]
    rc = main([*argv, "--per-visit", "2", "--height", "64", "--width", "32", "--quiet", "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["images"] > 0
    assert summary["crops_per_s"] > 0
    ds = load_synthcc_images(out)
    assert len(ds.train) + len(ds.query) + len(ds.gallery) == summary["images"]
    assert ds.num_train_pids == 2
    rec = ds.query[0]
    assert rec.path.is_file()
    assert rec.mask_path is not None
    assert rec.mask_path.is_file()
    assert rec.keypoints is not None
    assert len(rec.keypoints) == 17
    assert rec.attributes is not None
    assert "upper_colour" in rec.attributes
    # Queries and gallery share identities, and train identities are held out of both.
    test_ids = {r.pid for r in ds.query} | {r.pid for r in ds.gallery}
    assert not test_ids & {r.pid for r in ds.train}
    # The generic torch wrapper reads SynthCC records like any other data set's.
    item = ImageReidTorchDataset(ds.relabelled_train(), size_hw=(64, 32), load_masks=True)[0]
    assert item["image"].shape == (3, 64, 32)
    assert item["mask"].shape == (64, 32)
    assert bool(item["attr_mask"].all())


def test_synth_tracklets_writes_a_loadable_video_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tracklets"
    argv = ["synth", "tracklets", "--out", str(out), "--ids", "3", "--outfits", "2", "--frames", "3"]
    assert main([*argv, "--height", "64", "--width", "32", "--quiet", "--json"]) == 0
    ds = load_synthcc_tracklets(out)
    assert all(len(t) == 3 and all(p.is_file() for p in t.paths) for t in ds.train)
    assert json.loads(capsys.readouterr().out)["tracklets"] == len(ds.train) + len(ds.query) + len(ds.gallery)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--ids", "1"], "--ids"),
        (["--ids", "x"], "--ids"),
        (["--occlusion", "2"], "--occlusion"),
        (["--protocol", "prcc", "--cameras", "4"], "3 cameras"),
    ],
)
def test_bad_flags_exit_2_with_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    try:
        rc = main(["synth", "images", "--out", str(tmp_path / "x"), "--quiet", *extra])
    except SystemExit as exc:
        rc = exc.code  # type: ignore[assignment]
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1


def test_refuses_a_non_empty_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("x")
    assert main(["synth", "images", "--out", str(tmp_path), "--ids", "2", "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err


def test_loader_rejects_a_folder_that_is_not_a_synthcc_set(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"meta\.json"):
        load_synthcc_images(tmp_path)
