"""The attribute network MDFF-PAttr ships: a ReID backbone with one calibrated head per schema attribute.

``AttributeNet.forward`` returns per-attribute probabilities in the per-head layout of
:mod:`reid_engine.attributes.metrics` (``SCHEMA.head_sizes`` columns per attribute, so a binary
attribute takes two columns ``[p(no), p(yes)]``). A binary head has one logit ``z`` with
``p(yes) = sigmoid(z / T)``, which is the softmax of the class logits ``[0, z] / T``; the code treats
both kinds of head as softmax heads over :func:`class_logits`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reid_engine.attributes.schema import SCHEMA, Attribute
from reid_engine.config import config_from_dict
from reid_engine.errors import CheckpointError, ConfigError
from reid_engine.models.reid_net import ModelConfig, ReidNet, build_model
from reid_engine.train.checkpoint import atomic_save

MODEL_FORMAT = "longview-attribute-model/1"


def logit_size(attribute: Attribute) -> int:
    """Logits of an attribute's head: 1 for a binary attribute, one per class otherwise."""
    return 1 if attribute.kind == "binary" else attribute.num_classes


def class_logits(logits: torch.Tensor, attribute: Attribute) -> torch.Tensor:
    """A head's logits (N, logit_size) as class logits (N, num_classes): binary ``z`` → ``[0, z]``."""
    if attribute.kind == "binary":
        return torch.cat([torch.zeros_like(logits), logits], dim=1)
    return logits


def head_probabilities(logits: Sequence[torch.Tensor], temperatures: torch.Tensor) -> torch.Tensor:
    """Temperature-scaled class probabilities of every head, concatenated in schema order.

    Args:
        logits: one float (N, logit_size) tensor per schema attribute.
        temperatures: float (A,), one positive temperature per attribute.

    Returns:
        float (N, sum(SCHEMA.head_sizes)); each attribute's block sums to 1.
    """
    blocks = [
        torch.softmax(class_logits(z.float(), a) / temperatures[i], dim=1)
        for i, (a, z) in enumerate(zip(SCHEMA.attributes, logits, strict=True))
    ]
    return torch.cat(blocks, dim=1)


def split_heads(probabilities: torch.Tensor) -> list[torch.Tensor]:
    """Split (N, sum(head_sizes)) probabilities into one (N, C) block per attribute."""
    return list(torch.split(probabilities, list(SCHEMA.head_sizes), dim=-1))


class AttributeHeads(nn.Module):
    """One linear head per attribute on a shared feature (1 logit for binary, C for multi-class).

    Args:
        dim: size of the input feature.
        names: the attributes to predict, a subset of the schema (default all), kept in schema order.
    """

    def __init__(self, dim: int, names: Sequence[str] = SCHEMA.names) -> None:
        super().__init__()
        unknown = set(names) - set(SCHEMA.names)
        if unknown:
            raise ValueError(f"unknown attributes {sorted(unknown)}")
        self.names: tuple[str, ...] = tuple(n for n in SCHEMA.names if n in set(names))
        self.linear = nn.ModuleDict({n: nn.Linear(dim, logit_size(SCHEMA[n])) for n in self.names})
        for head in self.linear.values():
            if isinstance(head, nn.Linear):
                # Small initial logits: every head starts near the uniform prediction.
                nn.init.normal_(head.weight, std=0.001)
                nn.init.zeros_(head.bias)

    def forward(self, features: torch.Tensor) -> list[torch.Tensor]:
        """Logits of each head in :attr:`names` order, float (N, logit_size) each."""
        return [self.linear[n](features) for n in self.names]


class AttributeNet(nn.Module):
    """A :class:`ReidNet` trunk (backbone, pooling, BNNeck) with one head per schema attribute.

    ``forward`` maps ImageNet-normalised images (N, 3, H, W) to float (N, sum(SCHEMA.head_sizes))
    probabilities, scaled by the per-attribute temperatures fitted at calibration (1 before).
    """

    temperatures: torch.Tensor

    def __init__(self, trunk: ReidNet) -> None:
        super().__init__()
        self.trunk = trunk
        self.heads = AttributeHeads(trunk.embed_dim)
        self.register_buffer("temperatures", torch.ones(len(SCHEMA)))

    @property
    def config(self) -> ModelConfig:
        return self.trunk.config

    @property
    def feature_dim(self) -> int:
        return int(self.trunk.embed_dim)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The shared feature every head reads: the trunk's BNNeck output, float (N, D)."""
        return self.trunk.features(images).neck

    def logits(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Raw (uncalibrated) logits of every attribute head, in schema order."""
        return self.heads(self.features(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Calibrated per-attribute probabilities, float (N, sum(SCHEMA.head_sizes))."""
        return head_probabilities(self.logits(images), self.temperatures)


def build_attribute_net(config: ModelConfig, *, data_dir: Path | None = None) -> AttributeNet:
    """Build an attribute network on the backbone ``config`` describes.

    Raises:
        ValueError: the configuration is inconsistent, or pretrained weights need a data folder.
        ResourceMissingError: the pretrained weight file is missing or corrupt.
    """
    return AttributeNet(build_model(config, data_dir=data_dir))


@torch.no_grad()
def predict_tracklet(model: AttributeNet, crops: torch.Tensor, *, batch_size: int = 64) -> torch.Tensor:
    """Attribute probabilities of one tracklet: the mean over its crops (temporal average pooling).

    Args:
        model: an attribute network, normally in eval mode.
        crops: float (T, 3, H, W) ImageNet-normalised crops of one person, T ≥ 1.
        batch_size: crops per forward pass.

    Returns:
        float (sum(SCHEMA.head_sizes),); each attribute's block re-normalised to sum to 1.

    Raises:
        ValueError: when ``crops`` is empty or not (T, 3, H, W).
    """
    if crops.ndim != 4 or crops.shape[0] == 0 or crops.shape[1] != 3:
        raise ValueError(f"expected (T, 3, H, W) crops with T >= 1, got {tuple(crops.shape)}")
    device = next(model.parameters()).device
    probs = torch.cat([model(crops[i : i + batch_size].to(device)) for i in range(0, len(crops), batch_size)])
    mean = probs.mean(dim=0)
    # The mean of distributions already sums to 1; re-normalising removes float drift per head.
    return torch.cat([b / b.sum().clamp(min=1e-12) for b in split_heads(mean)])


def _schema_signature() -> list[list[Any]]:
    return [[a.name, a.kind, list(a.values)] for a in SCHEMA.attributes]


def save_attribute_model(path: Path, model: AttributeNet, *, size_hw: tuple[int, int], meta: dict[str, Any]) -> None:
    """Write the attribute model: architecture, input size, schema, weights (with temperatures) and ``meta``."""
    atomic_save(
        {
            "format": MODEL_FORMAT,
            "model_config": dataclasses.asdict(model.config),
            "size_hw": list(size_hw),
            "schema": _schema_signature(),
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "meta": meta,
        },
        path,
    )


def load_attribute_model(
    path: str | Path, *, device: torch.device | str = "cpu"
) -> tuple[AttributeNet, tuple[int, int], dict[str, Any]]:
    """Load a model written by :func:`save_attribute_model`.

    Returns:
        ``(model in eval mode on device, input size (H, W), meta)``.

    Raises:
        CheckpointError: missing, unreadable or foreign file, a schema other than the code's, or
            weights that do not fit the architecture.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"attribute model not found: {path}")
    try:
        # weights_only: a file from elsewhere cannot run code when loaded.
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise CheckpointError(f"{path} is not a readable checkpoint: {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, dict) or obj.get("format") != MODEL_FORMAT:
        found = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(f"{path} is not a Longview attribute model (format {found!r})")
    if obj.get("schema") != _schema_signature():
        raise CheckpointError(f"{path} was trained on another attribute schema than this version's")
    try:
        config = config_from_dict(ModelConfig, dict(obj["model_config"]))
        # The weights come from the file; an ImageNet initialisation would be overwritten anyway.
        model = build_attribute_net(dataclasses.replace(config, pretrained=False))
        model.load_state_dict(obj["state_dict"], strict=True)
        size_hw = (int(obj["size_hw"][0]), int(obj["size_hw"][1]))
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise CheckpointError(f"{path} is incomplete or from another version: {exc}") from None
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the architecture: {str(exc).splitlines()[0]}") from None
    if not bool((model.temperatures > 0).all()):
        raise CheckpointError(f"{path} holds non-positive temperatures")
    return model.to(device).eval(), size_hw, dict(obj.get("meta") or {})
