"""Checkpoints: the resumable training state and the inference model file (``model.pt``)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from reid_engine.config import config_from_dict
from reid_engine.errors import CheckpointError, ConfigError
from reid_engine.models.reid_net import ModelConfig, ReidNet, build_model

MODEL_FORMAT = "longview-reid-model/1"
STATE_FORMAT = "longview-reid-train/1"


def atomic_save(obj: dict[str, Any], path: Path) -> None:
    """``torch.save`` to a temporary file, fsync, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as fh:
        torch.save(obj, fh)
        fh.flush()
        os.fsync(fh.fileno())
    Path(tmp).replace(path)


def save_model(path: Path, model: ReidNet, *, size_hw: tuple[int, int], meta: dict[str, Any]) -> None:
    """Write the inference model: architecture, input size, weights and free-form ``meta`` (JSON-like)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    atomic_save(
        {
            "format": MODEL_FORMAT,
            "model_config": dataclasses.asdict(model.config),
            "size_hw": list(size_hw),
            "state_dict": state,
            "meta": meta,
        },
        path,
    )


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        # weights_only: a checkpoint from elsewhere cannot run code when loaded.
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise CheckpointError(f"{path} is not a readable checkpoint: {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path} is not a Longview checkpoint")
    return obj


def load_model(path: str | Path, *, device: torch.device | str = "cpu") -> tuple[ReidNet, tuple[int, int], dict[str, Any]]:
    """Load an inference model written by :func:`save_model` (or the ``model`` part of a training state).

    Returns:
        ``(model in eval mode on device, input size (H, W), meta)``.

    Raises:
        CheckpointError: missing, unreadable or foreign file, or weights that do not fit the architecture.
    """
    path = Path(path)
    obj = _read(path)
    if obj.get("format") not in (MODEL_FORMAT, STATE_FORMAT):
        raise CheckpointError(f"{path} is not a Longview ReID model (format {obj.get('format')!r})")
    try:
        config = config_from_dict(ModelConfig, dict(obj["model_config"]))
        # The weights come from the file; an ImageNet initialisation would be overwritten anyway.
        model = build_model(dataclasses.replace(config, pretrained=False))
        model.load_state_dict(obj["state_dict"], strict=True)
        size_hw = (int(obj["size_hw"][0]), int(obj["size_hw"][1]))
    except (KeyError, TypeError, ConfigError) as exc:
        raise CheckpointError(f"{path} is incomplete or from another version: {exc}") from None
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the architecture: {str(exc).splitlines()[0]}") from None
    meta = obj.get("meta") or {}
    return model.to(device).eval(), size_hw, dict(meta)


def load_state(path: Path) -> dict[str, Any]:
    """Read a resumable training state written by the training loop."""
    obj = _read(path)
    if obj.get("format") != STATE_FORMAT:
        raise CheckpointError(f"{path} is not a Longview training state")
    return obj
