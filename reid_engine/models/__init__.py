"""Neural network definitions in plain torch and the loading of their pretrained weights."""

from __future__ import annotations

from reid_engine.models.inference import fuse_conv_bn
from reid_engine.models.mobilenetv2 import MobileNetV2
from reid_engine.models.pretrained import MOBILENETV2_IMAGENET, WeightFile, load_pretrained, load_state_dict

__all__ = [
    "MOBILENETV2_IMAGENET",
    "MobileNetV2",
    "WeightFile",
    "fuse_conv_bn",
    "load_pretrained",
    "load_state_dict",
]
