"""Loading weight files: checksum verification and one-line errors for missing or wrong files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from reid_engine.errors import ResourceMissingError
from reid_engine.models import MobileNetV2, load_pretrained, load_state_dict
from reid_engine.models.mobilenetv2 import InvertedResidual


def save_small_state(path: Path) -> str:
    torch.manual_seed(0)
    torch.save(InvertedResidual(8, 8, 1, 2).state_dict(), path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_load_state_dict_returns_tensors_when_the_checksum_matches(tmp_path: Path) -> None:
    path = tmp_path / "block.pt"
    digest = save_small_state(path)
    state = load_state_dict(path, sha256=digest.upper())
    block = InvertedResidual(8, 8, 1, 2)
    block.load_state_dict(state)
    assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_missing_weight_file_raises_resource_missing_with_a_one_line_hint(tmp_path: Path) -> None:
    with pytest.raises(ResourceMissingError, match=r"not found.*fetch it") as info:
        load_pretrained(MobileNetV2(), tmp_path / "nope.pt", sha256="0" * 64, hint="fetch it")
    assert "\n" not in str(info.value)


def test_wrong_checksum_raises_resource_missing(tmp_path: Path) -> None:
    path = tmp_path / "block.pt"
    digest = save_small_state(path)
    with pytest.raises(ResourceMissingError, match="sha256") as info:
        load_state_dict(path, sha256="f" * 64)
    assert "\n" not in str(info.value)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ResourceMissingError, match="sha256"):
        load_state_dict(path, sha256=digest)


def test_a_directory_in_place_of_the_file_counts_as_missing(tmp_path: Path) -> None:
    with pytest.raises(ResourceMissingError, match="not found"):
        load_state_dict(tmp_path, sha256="0" * 64)


def test_a_checksummed_file_that_is_not_a_state_dict_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "list.pt"
    torch.save([1, 2, 3], path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ResourceMissingError, match="not a state dict"):
        load_state_dict(path, sha256=digest)
