"""Convolutions (plain, depthwise, with fused bias and activation) and max pooling on NHWC tensors,
with TensorFlow's padding conventions."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from reid_engine.tfjs.kernel import Kernel, UnsupportedOpError

if TYPE_CHECKING:
    from reid_engine.tfjs.graph import Node


def _window(node: Node, size_attr: str) -> tuple[tuple[int, int], tuple[int, int], tuple[int, ...]]:
    # (window size from size_attr, strides, padding spec) of a conv or pool node, NHWC attrs.
    hw = [v[1:3] if len(v) == 4 else (1, 1) for v in (node.attr_ints(size_attr), node.attr_ints("strides"))]
    mode = node.attr_str("padding", "VALID")
    pads = (-1,) if mode == "SAME" else node.attr_ints("explicit_paddings") if mode == "EXPLICIT" else ()
    return (hw[0][0], hw[0][1]), (hw[1][0], hw[1][1]), pads


def _pads(
    spec: tuple[int, ...], x: torch.Tensor, ksize: Sequence[int], stride: Sequence[int], dil: Sequence[int]
) -> list[int]:
    """(left, right, top, bottom) padding of an NHWC input: none, explicit, or TensorFlow's SAME."""
    if len(spec) == 8:  # EXPLICIT: (before, after) pairs per NHWC dimension
        return [spec[4], spec[5], spec[2], spec[3]]
    pads = [0, 0, 0, 0]
    for axis in (0, 1) if spec == (-1,) else ():
        size, k, s, d = x.shape[1 + axis], ksize[axis], stride[axis], dil[axis]
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        # TensorFlow puts the odd pixel of SAME padding after (bottom/right), unlike torch.
        pads[2 - 2 * axis], pads[3 - 2 * axis] = total // 2, total - total // 2
    return pads


_ACTIVATIONS: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "Relu": lambda y, alpha: F.relu_(y),
    "Relu6": lambda y, alpha: F.hardtanh_(y, 0.0, 6.0),
    "Elu": lambda y, alpha: F.elu_(y),
    "LeakyRelu": lambda y, alpha: F.leaky_relu_(y, alpha),
    "Sigmoid": lambda y, alpha: y.sigmoid_(),
}


def conv(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    depthwise = "Depthwise" in node.op
    fused = list(node.attr_strs("fused_ops"))
    activation = fused[1] if fused[:1] == ["BiasAdd"] and len(fused) == 2 else None
    if fused not in ([], ["BiasAdd"]) and activation not in _ACTIVATIONS:
        raise UnsupportedOpError(node.op, node.name, f"fused ops {fused}")
    if node.attr_str("data_format", "NHWC") != "NHWC":
        raise UnsupportedOpError(node.op, node.name, "only NHWC data")
    _, stride, padding = _window(node, "strides")
    dil, alpha = _window(node, "dilations")[0], node.attr_float("leakyrelu_alpha", 0.2)

    def prepare(w: torch.Tensor) -> torch.Tensor:
        # TF filters are HWIO (depthwise: H, W, C, multiplier); output channel c*M + m of a
        # depthwise conv is torch's group c, member m, which this reshape lays out.
        if depthwise:
            kh, kw, c, m = w.shape
            return w.reshape(kh, kw, c * m).permute(2, 0, 1).unsqueeze(1).contiguous()
        return w.permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)

    weight = prepare(consts[1]) if consts[1] is not None else None
    bias = consts[2] if fused and len(consts) > 2 else None
    # A 1x1 stride-1 convolution is a matrix product over NHWC pixels; as such it skips torch's
    # im2col fallback, which copies channels-last input to NCHW and back on every call.
    pointwise = not depthwise and stride == (1, 1) and len(padding) < 8
    matrix = (
        weight[:, :, 0, 0].t().contiguous()
        if weight is not None and pointwise and weight.shape[2:] == (1, 1)
        else None
    )

    def kernel(a: list[torch.Tensor]) -> torch.Tensor:
        x, w = a[0], weight if weight is not None else prepare(a[1])
        b = (bias if bias is not None else a[2]) if fused else None
        # Exported to ONNX, every convolution stays a Conv: the runtime fuses it with its bias and
        # activation and cancels the layout transposes between neighbours, which a Gemm blocks.
        if matrix is not None and not torch.onnx.is_in_onnx_export():
            flat = x.reshape(-1, x.shape[3])
            y = (torch.addmm(b, flat, matrix) if b is not None else flat @ matrix).reshape(*x.shape[:3], -1)
        else:
            left, right, top, bottom = _pads(padding, x, w.shape[2:], stride, dil)
            xc, sym = x.permute(0, 3, 1, 2), (top, left)
            if top != bottom or left != right:
                xc, sym = F.pad(xc, (left, right, top, bottom)), (0, 0)
            groups = x.shape[3] if depthwise else 1
            y = F.conv2d(xc, w, b, stride=stride, padding=sym, dilation=dil, groups=groups)
            y = y.permute(0, 2, 3, 1)
        return y if activation is None else _ACTIVATIONS[activation](y, alpha)

    return kernel


def max_pool(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    ksize, stride, padding = _window(node, "ksize")

    def kernel(a: list[torch.Tensor]) -> torch.Tensor:
        xc = F.pad(a[0].permute(0, 3, 1, 2), _pads(padding, a[0], ksize, stride, (1, 1)), value=-math.inf)
        return F.max_pool2d(xc, ksize, stride).permute(0, 2, 3, 1)

    return kernel
