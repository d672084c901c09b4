"""TensorFlow op semantics in torch, for the ops TF.js graph models use.

Each op has a builder that reads the node's attributes once (and converts constant convolution
weights to torch's layout) and returns a kernel run on every call. Image tensors stay NHWC as in
TensorFlow; convolutions view them as channels-last NCHW, which costs no copy. This module holds the
table of ops and the small builders; the kernel types are in :mod:`reid_engine.tfjs.kernel`, the
ops with TensorFlow-specific semantics in :mod:`reid_engine.tfjs.functional`, convolutions and
pooling in :mod:`reid_engine.tfjs.conv`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from reid_engine.tfjs.conv import conv, max_pool
from reid_engine.tfjs.functional import exp, gather_nd, resize_bilinear, strided_slice, top_k
from reid_engine.tfjs.kernel import Builder, Kernel, Outputs, UnsupportedOpError, ints

if TYPE_CHECKING:
    from reid_engine.tfjs.graph import Node

__all__ = [
    "Builder",
    "Kernel",
    "Outputs",
    "UnsupportedOpError",
    "build_kernel",
    "gather_nd",
    "resize_bilinear",
    "strided_slice",
    "top_k",
]


def build_kernel(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    """Build the kernel that computes ``node``.

    Args:
        node: the graph node.
        consts: for each input, its tensor when the input is a constant, else None.

    Returns:
        A callable taking the node's input tensors and returning its output(s).

    Raises:
        UnsupportedOpError: the op, or one of its settings, is not implemented.
    """
    builder = _BUILDERS.get(node.op)
    if builder is None:
        raise UnsupportedOpError(node.op, node.name)
    return builder(node, consts)


def _elementwise(fn: Callable[..., torch.Tensor]) -> Builder:
    return lambda node, consts: lambda a: fn(*a)


def _cast(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    dtype = node.attr_dtype("DstT")
    return lambda a: a[0].to(dtype)


def _select(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    def kernel(a: list[torch.Tensor]) -> torch.Tensor:
        cond, x, y = a
        # Select (v1) with a vector condition picks whole rows of higher-rank operands.
        if node.op == "Select" and cond.dim() == 1 and x.dim() > 1:
            cond = cond.reshape(-1, *([1] * (x.dim() - 1)))
        return torch.where(cond, x, y)

    return kernel


def _shape(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    dtype = node.attr_dtype("out_type") if "out_type" in node.attrs else torch.int32
    numel = node.op == "Size"
    return lambda a: torch.tensor(a[0].numel() if numel else a[0].shape, dtype=dtype, device=a[0].device)


def _squeeze(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    dims = node.attr_ints("squeeze_dims") or node.attr_ints("axis")

    def kernel(a: list[torch.Tensor]) -> torch.Tensor:
        shape = a[0].shape
        drop = {d % len(shape) for d in dims} if dims else {i for i, n in enumerate(shape) if n == 1}
        return a[0].reshape([n for i, n in enumerate(shape) if i not in drop])

    return kernel


def _reduce(fn: Callable[[torch.Tensor, list[int], bool], torch.Tensor]) -> Builder:
    def build(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
        keep = node.attr_bool("keep_dims")

        def kernel(a: list[torch.Tensor]) -> torch.Tensor:
            axes = sorted({d % max(a[0].dim(), 1) for d in ints(a[1])})
            return fn(a[0], axes, keep) if axes else a[0]

        return kernel

    return build


def _argmax(node: Node) -> Kernel:
    dtype = node.attr_dtype("output_type") if "output_type" in node.attrs else torch.int64
    # torch.argmax returns the first of equal maxima, as TensorFlow does.
    return lambda a: torch.argmax(a[0], dim=int(a[1])).to(dtype)


def _fill(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    return lambda a: a[1].reshape(()).expand(ints(a[0])).clone()


def _range(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    dtype = node.attr_dtype("Tidx")
    return lambda a: torch.arange(a[0].item(), a[1].item(), a[2].item(), dtype=dtype, device=a[0].device)


def _strided_slice(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    masks = {
        k: node.attr_int(k)
        for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")
    }
    return lambda a: strided_slice(a[0], ints(a[1]), ints(a[2]), ints(a[3]), **masks)


def _resize_bilinear(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    align, half = node.attr_bool("align_corners"), node.attr_bool("half_pixel_centers")
    return lambda a: resize_bilinear(a[0], ints(a[1]), align_corners=align, half_pixel_centers=half)


# fmt: off
_ELEMENTWISE: dict[str, Callable[..., torch.Tensor]] = {
    "Identity": lambda x: x, "Abs": torch.abs, "Exp": exp, "Reciprocal": torch.reciprocal,
    "Sigmoid": torch.sigmoid, "Relu": torch.relu, "Relu6": lambda x: x.clamp(0.0, 6.0),
    "Add": torch.add, "AddV2": torch.add, "Sub": torch.sub, "Mul": torch.mul, "RealDiv": torch.div,
    "FloorDiv": lambda a, b: torch.div(a, b, rounding_mode="floor"), "Maximum": torch.maximum,
    "Minimum": torch.minimum, "SquaredDifference": lambda a, b: torch.square(a - b),
    "Less": torch.lt, "Greater": torch.gt, "GreaterEqual": torch.ge, "Equal": torch.eq,
    "LogicalAnd": torch.logical_and, "AddN": lambda *xs: sum(xs[1:], xs[0]),
}
_BUILDERS: dict[str, Builder] = {
    **{op: _elementwise(fn) for op, fn in _ELEMENTWISE.items()},
    "Cast": _cast, "Select": _select, "SelectV2": _select, "Shape": _shape,
    "Size": _shape, "Squeeze": _squeeze,
    "Fill": _fill, "Range": _range, "StridedSlice": _strided_slice, "ResizeBilinear": _resize_bilinear,
    "Conv2D": conv, "_FusedConv2D": conv, "DepthwiseConv2dNative": conv,
    "FusedDepthwiseConv2dNative": conv, "MaxPool": max_pool,
    "Sum": _reduce(lambda x, d, k: x.sum(dim=d, keepdim=k, dtype=x.dtype)),
    "Max": _reduce(lambda x, d, k: x.amax(dim=d, keepdim=k)),
    "ArgMax": lambda node, consts: _argmax(node),
    "Pack": lambda node, consts: lambda a: torch.stack(a, dim=node.attr_int("axis")),
    "Unpack": lambda node, consts: lambda a: a[0].unbind(node.attr_int("axis")),
    "Split": lambda node, consts: lambda a: a[1].tensor_split(node.attr_int("num_split"), dim=int(a[0])),
    "Reshape": lambda node, consts: lambda a: a[0].reshape(ints(a[1])),
    "ExpandDims": lambda node, consts: lambda a: a[0].unsqueeze(int(a[1])),
    "ConcatV2": lambda node, consts: lambda a: torch.cat(a[:-1], dim=int(a[-1])),
    "Tile": lambda node, consts: lambda a: a[0].repeat(ints(a[1])),
    "GatherNd": lambda node, consts: lambda a: gather_nd(a[0], a[1]),
    "TopKV2": lambda node, consts: lambda a: top_k(a[0], int(a[1])),
}
# fmt: on
