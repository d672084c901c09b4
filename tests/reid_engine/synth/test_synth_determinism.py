"""Same seed → byte-identical files, whatever the number of workers; another seed → other files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from reid_engine.synth.image_set import ImageSetConfig, generate_image_set
from reid_engine.synth.tracklet_set import TrackletSetConfig, generate_tracklet_set


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _images(out: Path, seed: int, workers: int = 1, fmt: str = "png") -> dict[str, str]:
    cfg = ImageSetConfig(
        seed=seed, ids=4, outfits=2, cameras=3, per_visit=2, height=64, width=32, image_format=fmt
    )  # type: ignore[arg-type]
    generate_image_set(out, cfg, workers=workers)
    return _digest(out)


def test_same_seed_gives_byte_identical_png_images_masks_and_metadata(tmp_path: Path) -> None:
    a = _images(tmp_path / "a", seed=5)
    b = _images(tmp_path / "b", seed=5)
    assert a == b
    assert any(name.endswith(".png") and name.startswith("train/") for name in a)
    assert "meta.json" in a
    assert "annotations/query.jsonl" in a


def test_output_does_not_depend_on_the_number_of_workers(tmp_path: Path) -> None:
    assert _images(tmp_path / "one", seed=2, fmt="jpg") == _images(
        tmp_path / "two", seed=2, workers=2, fmt="jpg"
    )


def test_another_seed_gives_other_images(tmp_path: Path) -> None:
    a = _images(tmp_path / "a", seed=1)
    b = _images(tmp_path / "b", seed=2)
    assert a["meta.json"] != b["meta.json"]
    shared = set(a) & set(b)
    assert any(a[k] != b[k] for k in shared if k.endswith(".png"))


def test_tracklet_set_is_deterministic(tmp_path: Path) -> None:
    cfg = TrackletSetConfig(
        seed=3, ids=3, outfits=2, cameras=2, frames=3, height=64, width=32, image_format="png"
    )
    generate_tracklet_set(tmp_path / "a", cfg)
    generate_tracklet_set(tmp_path / "b", cfg)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
