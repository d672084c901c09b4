"""``reid eval-real`` and ``reid adapt`` end to end on a few seconds of the real street scene."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from reid_engine.cli import main
from reid_engine.pipeline import SHIPPED_REID_MODEL
from reid_engine.train.checkpoint import load_model


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def tiny_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "images"
    argv = ["synth", "images", "--out", str(out), "--seed", "4", "--ids", "8", "--outfits", "2"]
    assert main([*argv, "--per-visit", "2", "--height", "64", "--width", "32", "--quiet"]) == 0
    return out


@pytest.mark.slow
def test_eval_real_then_adapt_then_score_the_adapted_model(
    clip_factory: Callable[..., Path], data_dir: Path, tiny_synth: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LONGVIEW_DATA_DIR", str(data_dir))
    clip = clip_factory(0.0, 8.0)
    tracks = tmp_path / "tracks.npz"
    common = ["--min-duration", "2", "--gap", "0.4", "--json"]
    assert main(["eval-real", str(clip), "--save-tracks", str(tracks), "--crops-per-track", "8", "--quiet",
                 *common]) == 0
    baseline = json.loads(capsys.readouterr().out)
    assert baseline["tracks_used"] >= 2
    for lane in ("appearance", "identity"):
        pooled = baseline["lanes"][lane]["scores"]["pooled"]
        assert pooled["queries"] == baseline["tracks_used"]
        assert 0.0 <= pooled["rank1"] <= 100.0
    # The saved tracks give the same figures without detecting again.
    assert main(["eval-real", "--tracks", str(tracks), *common]) == 0
    assert json.loads(capsys.readouterr().out)["lanes"] == baseline["lanes"]

    out = tmp_path / "site.pt"
    settings = ["--adapt-set", "steps_per_epoch=2", "--adapt-set", "clusters_per_batch=2",
                "--adapt-set", "synth_ids_per_batch=2", "--adapt-set", "lr=1e-3"]
    argv = ["adapt", "--tracks", str(tracks), "--synth", str(tiny_synth), "--out", str(out), "--quiet", *settings]
    assert main([*argv, "--adapt-set", "epochs=1", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(first["epochs"]) == 1
    assert set(first["epochs"][0]["losses"]) == {"memory", "triplet", "synth_cc", "distill"}
    # Refuses to overwrite; resumes from the saved state to a longer schedule.
    assert main([*argv, "--adapt-set", "epochs=1"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main([*argv, "--adapt-set", "epochs=2", "--resume", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert [e["epoch"] for e in resumed["epochs"]] == [1, 2]
    assert resumed["epochs"][0] == first["epochs"][0]

    model, size_hw, meta = load_model(out)
    shipped, shipped_hw, _ = load_model(SHIPPED_REID_MODEL)
    assert size_hw == shipped_hw
    assert meta["adapted_from"].startswith("longview-reid.pt:")
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v.float(), shipped.state_dict()[k].float())]
    assert changed, "adaptation left every weight as it was"
    argv = ["eval-real", "--tracks", str(tracks), "--checkpoint", str(out), "--lane", "identity", *common]
    assert main(argv) == 0
    adapted = json.loads(capsys.readouterr().out)
    assert set(adapted["lanes"]) == {"identity"}
    assert adapted["lanes"]["identity"]["embedder"] != baseline["lanes"]["identity"]["embedder"]
    assert adapted["lanes"]["identity"]["scores"]["pooled"]["queries"] == baseline["tracks_used"]


def test_footage_commands_reject_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["eval-real", "--json"]) == 2
    assert "either videos or --tracks" in capsys.readouterr().err
    assert main(["eval-real", "--tracks", str(tmp_path / "none.npz")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["eval-real", "--tracks", str(tmp_path / "none.npz"), "--span", "0.7:0.2"]) == 2
    assert "--span" in capsys.readouterr().err
    (tmp_path / "junk.npz").write_bytes(b"not a file")
    assert main(["calibrate-footage", "--tracks", str(tmp_path / "junk.npz"), "--dry-run"]) == 2
    assert "tracks file" in capsys.readouterr().err
