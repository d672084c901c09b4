"""ResNet-18/50 backbones in plain torch, with the ReID options: last stride 1 and IBN-a.

He et al., "Deep Residual Learning for Image Recognition" (CVPR 2016). Last stride 1 (Luo et al.,
"Bag of Tricks and a Strong Baseline for Deep Person Re-identification", 2019) doubles the final
feature map (16×8 for a 256×128 crop), which helps part-level cues. IBN-a (Pan et al., "Two at
Once: Enhancing Learning and Generalization Capacities via IBN-Net", ECCV 2018) replaces half of the
first normalisation in the blocks of stages 1–3 by instance normalisation, which removes
appearance (colour, contrast) variance — the kind a change of clothes or camera brings.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

ResNetDepth = Literal[18, 50]


class IBN(nn.Module):
    """Instance norm on the first ``ratio`` of the channels, batch norm on the rest (IBN-a)."""

    def __init__(self, channels: int, ratio: float = 0.5) -> None:
        super().__init__()
        self.split = int(channels * ratio)
        self.instance = nn.InstanceNorm2d(self.split, affine=True)
        self.batch = nn.BatchNorm2d(channels - self.split)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise (N, C, H, W) → (N, C, H, W)."""
        a, b = torch.split(x, [self.split, x.shape[1] - self.split], dim=1)
        return torch.cat((self.instance(a.contiguous()), self.batch(b.contiguous())), dim=1)


def _norm(channels: int, ibn: bool) -> nn.Module:
    return IBN(channels) if ibn else nn.BatchNorm2d(channels)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inp: int, planes: int, stride: int, ibn: bool, downsample: nn.Module | None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = _norm(planes, ibn)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual block: (N, inp, H, W) → (N, planes, H / stride, W / stride)."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inp: int, planes: int, stride: int, ibn: bool, downsample: nn.Module | None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 1, bias=False)
        self.bn1 = _norm(planes, ibn)
        # Stride on the 3×3 convolution ("ResNet v1.5"), as the common ImageNet checkpoints do.
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual block: (N, inp, H, W) → (N, 4 * planes, H / stride, W / stride)."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """ResNet feature extractor; ``forward`` returns the last feature map.

    Args:
        depth: 18 (basic blocks, 512 channels out) or 50 (bottlenecks, 2048 channels out).
        last_stride: stride of stage 4; 1 keeps a 16×8 map for a 256×128 input.
        ibn: use IBN-a in stages 1–3.
    """

    def __init__(self, depth: ResNetDepth = 50, *, last_stride: int = 1, ibn: bool = False) -> None:
        super().__init__()
        if depth not in (18, 50):
            raise ValueError(f"ResNet depth must be 18 or 50, got {depth}")
        if last_stride not in (1, 2):
            raise ValueError(f"last_stride must be 1 or 2, got {last_stride}")
        block: type[BasicBlock] | type[Bottleneck] = BasicBlock if depth == 18 else Bottleneck
        layers = (2, 2, 2, 2) if depth == 18 else (3, 4, 6, 3)
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self._inp = 64
        self.layer1 = self._stage(block, 64, layers[0], 1, ibn)
        self.layer2 = self._stage(block, 128, layers[1], 2, ibn)
        self.layer3 = self._stage(block, 256, layers[2], 2, ibn)
        # IBN-Net keeps stage 4 pure batch norm: its features must stay discriminative.
        self.layer4 = self._stage(block, 512, layers[3], last_stride, False)
        self.out_channels = 512 * block.expansion
        self._init_weights()

    def _stage(
        self, block: type[BasicBlock] | type[Bottleneck], planes: int, n: int, stride: int, ibn: bool
    ) -> nn.Sequential:
        downsample: nn.Module | None = None
        if stride != 1 or self._inp != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self._inp, planes * block.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        blocks: list[nn.Module] = [block(self._inp, planes, stride, ibn, downsample)]
        self._inp = planes * block.expansion
        blocks += [block(self._inp, planes, 1, ibn, None) for _ in range(1, n)]
        return nn.Sequential(*blocks)

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d | nn.InstanceNorm2d) and m.weight is not None:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # Zero-init the last norm of each residual branch: every block starts as the identity, which
        # makes training from scratch markedly more stable (Goyal et al., 2017).
        for m in self.modules():
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)
            elif isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute features.

        Args:
            x: float (N, 3, H, W), ImageNet-normalised.

        Returns:
            float (N, out_channels, H / 16, W / 16) with last stride 1, else H / 32, W / 32.
        """
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return x
