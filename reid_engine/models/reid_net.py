"""The ReID network: a backbone, pooling and a BNNeck; ``forward`` returns the inference embedding.

Every training method (baselines and the seed methods) wraps this one network: their extra heads
and auxiliary streams live in the training code, so what ships is always backbone → pool → neck.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from reid_engine.models.mobilenetv2 import InvertedResidual, MobileNetV2
from reid_engine.models.pretrained import MOBILENETV2_IMAGENET, load_pretrained
from reid_engine.models.resnet import ResNet

BackboneName = Literal["resnet18", "resnet50", "mobilenetv2"]


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Architecture of a ReID network.

    Attributes:
        backbone: ``resnet18`` / ``resnet50`` (last stride and IBN options) or ``mobilenetv2`` (the light
            backbone for CPU ingest; the only one with ImageNet weights offline).
        pretrained: initialise the backbone from ImageNet weights (mobilenetv2 only).
        last_stride: 1 keeps twice the spatial resolution in the last stage.
        ibn: IBN-a normalisation in the early ResNet stages.
        pooling: ``avg`` or ``gem`` (generalised mean, p = 3).
        embed_dim: size of the embedding; 0 keeps the backbone's channel count, otherwise a linear
            reduction is added before the neck.
        frozen_stages: early backbone stages kept at their initial weights, with batch-norm statistics
            fixed (ResNet: stem, layer1, …; MobileNetV2: stem + first block, then its six stages).
            Cuts CPU training time when the backbone starts from ImageNet.
    """

    backbone: BackboneName = "mobilenetv2"
    pretrained: bool = True
    last_stride: int = 1
    ibn: bool = False
    pooling: Literal["avg", "gem"] = "avg"
    embed_dim: int = 0
    frozen_stages: int = 0

    def __post_init__(self) -> None:
        if self.backbone not in ("resnet18", "resnet50", "mobilenetv2"):
            raise ValueError(f"unknown backbone {self.backbone!r} (resnet18, resnet50, mobilenetv2)")
        if self.pretrained and self.backbone != "mobilenetv2":
            raise ValueError(f"no pretrained weights for {self.backbone}; set pretrained = false")
        if self.ibn and self.backbone == "mobilenetv2":
            raise ValueError("ibn applies to ResNet backbones only")
        if self.last_stride not in (1, 2):
            raise ValueError("last_stride must be 1 or 2")
        if self.pooling not in ("avg", "gem"):
            raise ValueError("pooling must be avg or gem")
        if self.embed_dim < 0:
            raise ValueError("embed_dim must be 0 or positive")
        if not 0 <= self.frozen_stages <= 4:
            raise ValueError("frozen_stages must be between 0 and 4")


@dataclass(frozen=True, slots=True)
class ReidFeatures:
    """Intermediate outputs that training losses need.

    Attributes:
        fmap: float (N, C, h, w) last backbone feature map.
        pooled: float (N, D) pooled (and reduced) feature, before the neck (metric losses use it).
        neck: float (N, D) after the BNNeck (identity classifiers use it; the embedding is its L2
            normalisation).
    """

    fmap: torch.Tensor
    pooled: torch.Tensor
    neck: torch.Tensor


class GeM(nn.Module):
    """Generalised-mean pooling (Radenović et al., 2018) with a fixed exponent."""

    def __init__(self, p: float = 3.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.p = p
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool (N, C, H, W) → (N, C)."""
        pooled = F.adaptive_avg_pool2d(x.clamp(min=self.eps).pow(self.p), 1)
        return pooled.pow(1.0 / self.p).flatten(1)


class ReidNet(nn.Module):
    """Backbone → pooling → (reduction) → BNNeck (Luo et al., 2019).

    ``forward`` returns the L2-normalised embedding, float (N, D); :meth:`features` returns what the
    training losses need.
    """

    def __init__(self, config: ModelConfig, backbone: nn.Module, channels: int) -> None:
        super().__init__()
        self.config = config
        self.backbone = backbone
        self.pool: nn.Module = GeM() if config.pooling == "gem" else nn.AdaptiveAvgPool2d(1)
        dim = config.embed_dim or channels
        self.reduce: nn.Module = (
            nn.Sequential(nn.Linear(channels, dim, bias=False), nn.BatchNorm1d(dim), nn.ReLU(inplace=True))
            if config.embed_dim
            else nn.Identity()
        )
        self.neck = nn.BatchNorm1d(dim)
        # The BNNeck's shift is frozen at zero so the normalised feature stays centred for cosine
        # distance (Luo et al., section 3.3).
        self.neck.bias.requires_grad_(False)
        nn.init.ones_(self.neck.weight)
        nn.init.zeros_(self.neck.bias)
        self.channels = channels
        self.embed_dim = dim
        self.frozen: list[nn.Module] = []

    def freeze(self, modules: list[nn.Module]) -> None:
        """Keep ``modules`` at their current weights and batch-norm statistics."""
        self.frozen = modules
        for m in modules:
            m.requires_grad_(False)
        self.train(self.training)

    def train(self, mode: bool = True) -> ReidNet:
        """Set training mode; frozen modules stay in eval mode so their statistics do not drift."""
        super().train(mode)
        for m in self.frozen:
            m.eval()
        return self

    def features(self, images: torch.Tensor) -> ReidFeatures:
        """Compute the feature map, the pooled feature and the neck feature of (N, 3, H, W) images."""
        fmap = self.backbone(images)
        pooled = self.reduce(self.pool(fmap).flatten(1))
        return ReidFeatures(fmap=fmap, pooled=pooled, neck=self.neck(pooled))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Embed ImageNet-normalised images (N, 3, H, W) → float (N, D), unit L2 norm."""
        return F.normalize(self.features(images).neck, dim=1)


def build_model(config: ModelConfig, *, data_dir: Path | None = None) -> ReidNet:
    """Build a ReID network; pretrained backbones load their weights from ``data_dir``.

    Raises:
        ValueError: the configuration is inconsistent, or pretrained weights need a data folder.
        ResourceMissingError: the pretrained weight file is missing or corrupt.
    """
    backbone: nn.Module
    match config.backbone:
        case "resnet18" | "resnet50":
            backbone = ResNet(18 if config.backbone == "resnet18" else 50, last_stride=config.last_stride,
                              ibn=config.ibn)
            channels = int(backbone.out_channels)
        case "mobilenetv2":
            mnet = MobileNetV2()
            if config.pretrained:
                if data_dir is None:
                    raise ValueError("pretrained mobilenetv2 needs the data folder holding its weights")
                hint = f"run the project's set-up script, which takes it from {MOBILENETV2_IMAGENET.origin}"
                load_pretrained(mnet, data_dir / MOBILENETV2_IMAGENET.relpath,
                                sha256=MOBILENETV2_IMAGENET.sha256, hint=hint)
            if config.last_stride == 1:
                # The first block of the 160-channel stage carries the last stride-2 depthwise conv.
                block = mnet.features[14]
                depthwise = block.conv[3] if isinstance(block, InvertedResidual) else None
                if not isinstance(depthwise, nn.Conv2d):
                    raise RuntimeError("unexpected MobileNetV2 layout")
                depthwise.stride = (1, 1)
            backbone, channels = mnet, MobileNetV2.out_channels
        case _:
            raise ValueError(f"unknown backbone {config.backbone!r}")
    net = ReidNet(config, backbone, channels)
    if config.frozen_stages:
        net.freeze(_stages(backbone)[: config.frozen_stages])
    return net


def _stages(backbone: nn.Module) -> list[nn.Module]:
    if isinstance(backbone, ResNet):
        stem = nn.ModuleList([backbone.conv1, backbone.bn1])
        return [stem, backbone.layer1, backbone.layer2, backbone.layer3]
    if isinstance(backbone, MobileNetV2):
        f = backbone.features
        if not isinstance(f, nn.Sequential):
            raise TypeError("unexpected MobileNetV2 layout")
        # Stem + first block, then the 24-, 32- and 64-channel stages (the paper's Table 2 rows).
        return [nn.ModuleList([f[0], f[1]]), f[2:4], f[4:7], f[7:11]]
    raise ValueError(f"cannot freeze stages of {type(backbone).__name__}")
