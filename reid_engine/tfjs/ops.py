"""TensorFlow op semantics in torch, for the ops TF.js graph models use.

Each op has a builder that reads the node's attributes once (and converts constant convolution
weights to torch's layout) and returns a kernel run on every call. Image tensors stay NHWC as in
TensorFlow; convolutions view them as channels-last NCHW, which costs no copy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from reid_engine.errors import ReidEngineError

if TYPE_CHECKING:
    from reid_engine.tfjs.graph import Node

Outputs = torch.Tensor | tuple[torch.Tensor, ...]
Kernel = Callable[[list[torch.Tensor]], Outputs]
Builder = Callable[["Node", list["torch.Tensor | None"]], Kernel]


class UnsupportedOpError(ReidEngineError):
    """The graph uses an op, or an op setting, that the interpreter does not implement."""

    def __init__(self, op: str, node: str, detail: str = "") -> None:
        self.op = op
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"TF.js op {op!r} is not supported{suffix}; used by node {node!r}")


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


def _ints(t: torch.Tensor) -> list[int]:
    return [int(v) for v in t.reshape(-1).tolist()]


def _elementwise(fn: Callable[..., torch.Tensor]) -> Builder:
    return lambda node, consts: lambda a: fn(*a)


# Just above ln of the smallest normal float32: below it exp() gives subnormals, which TensorFlow's
# CPU kernels flush to zero and which send torch's vectorised exp (and every later op on the result)
# down a path some 40 times slower. Exactly ln(FLT_MIN) is still on the slow path, hence the rounding.
_EXP_FLOOR = -87.33


def _exp(x: torch.Tensor) -> torch.Tensor:
    if not x.is_floating_point():
        return torch.exp(x)
    return torch.exp(x.clamp(min=_EXP_FLOOR)).masked_fill_(x < _EXP_FLOOR, 0.0)


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
            axes = sorted({d % max(a[0].dim(), 1) for d in _ints(a[1])})
            return fn(a[0], axes, keep) if axes else a[0]

        return kernel

    return build


def _argmax(node: Node) -> Kernel:
    dtype = node.attr_dtype("output_type") if "output_type" in node.attrs else torch.int64
    # torch.argmax returns the first of equal maxima, as TensorFlow does.
    return lambda a: torch.argmax(a[0], dim=int(a[1])).to(dtype)


def _fill(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    return lambda a: a[1].reshape(()).expand(_ints(a[0])).clone()


def _range(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    dtype = node.attr_dtype("Tidx")
    return lambda a: torch.arange(a[0].item(), a[1].item(), a[2].item(), dtype=dtype, device=a[0].device)


def strided_slice(
    x: torch.Tensor,
    begin: Sequence[int],
    end: Sequence[int],
    strides: Sequence[int],
    *,
    begin_mask: int = 0,
    end_mask: int = 0,
    ellipsis_mask: int = 0,
    new_axis_mask: int = 0,
    shrink_axis_mask: int = 0,
) -> torch.Tensor:
    """``tf.strided_slice`` with all five masks, negative strides included.

    The sparse spec is expanded to one entry per input dimension the way TensorFlow's
    ``BuildDenseSpec`` does: an ellipsis covers every dimension the later entries (new axes aside)
    do not name, and a spec without an ellipsis ends with an implicit one.

    Raises:
        ValueError: a zero stride, or a shrunk index out of range.
    """
    n = len(begin)
    if not ellipsis_mask:
        ellipsis_mask, n = 1 << n, n + 1
        begin, end, strides = [*begin, 0], [*end, 0], [*strides, 1]
    ellipsis_at = (ellipsis_mask & -ellipsis_mask).bit_length() - 1
    new_after = sum(1 for i in range(ellipsis_at + 1, n) if new_axis_mask >> i & 1)
    index: list[slice] = []
    flips: list[int] = []
    final: list[int | None] = []  # per output dim: the input dim it comes from, or None (new axis)
    dim = 0
    for i in range(n):
        if ellipsis_mask >> i & 1:
            stop = min(x.dim() - (n - i - 1 - new_after), x.dim())
            for d in range(dim, stop):
                index.append(slice(None))
                final.append(d)
            dim = max(dim, stop)
        elif new_axis_mask >> i & 1:
            final.append(None)
        else:
            size, b, step = x.shape[dim], int(begin[i]), int(strides[i])
            if step == 0:
                raise ValueError("strided_slice: stride 0")
            if shrink_axis_mask >> i & 1:
                b = b + size if b < 0 else b
                if not 0 <= b < size:
                    raise ValueError(f"strided_slice: index {begin[i]} out of range for size {size}")
                index.append(slice(b, b + 1))
            else:
                sl = slice(
                    None if begin_mask >> i & 1 else b, None if end_mask >> i & 1 else int(end[i]), step
                )
                start, stop, step = sl.indices(size)
                if step < 0:
                    # torch slices only forwards: flip the dimension and walk it with a positive step.
                    flips.append(dim)
                    start, stop, step = size - 1 - start, size - 1 - stop, -step
                index.append(slice(start, max(start, stop), step))
                final.append(dim)
            dim += 1
    if flips:
        x = x.flip(flips)
    y = x[tuple(index)]
    return y.reshape([1 if d is None else y.shape[d] for d in final])


def _strided_slice(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    masks = {
        k: node.attr_int(k)
        for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")
    }
    return lambda a: strided_slice(a[0], _ints(a[1]), _ints(a[2]), _ints(a[3]), **masks)


def gather_nd(params: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """``tf.gather_nd`` without batch dimensions: index the leading ``indices.shape[-1]`` dims."""
    idx = indices.long()
    return params[tuple(idx[..., k] for k in range(idx.shape[-1]))]


def top_k(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``tf.math.top_k`` along the last axis, sorted; equal values keep their lower index first.

    Returns:
        (values, int32 indices).
    """
    if torch.onnx.is_in_onnx_export():
        # ONNX TopK breaks ties by the lower index, as TensorFlow does; a stable sort cannot be
        # exported.
        values, indices = torch.topk(x, k, dim=-1, largest=True, sorted=True)
        return values, indices.to(torch.int32)
    # A stable descending sort gives TensorFlow's tie order, which torch.topk does not promise.
    values, indices = torch.sort(x, dim=-1, descending=True, stable=True)
    return values[..., :k], indices[..., :k].to(torch.int32)


def _source_coords(
    out_size: int, in_size: int, align_corners: bool, half_pixel: bool, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # TensorFlow's CalculateResizeScale and its legacy / half-pixel scalers, in float32 as TF does.
    scale = (in_size - 1) / (out_size - 1) if align_corners and out_size > 1 else in_size / out_size
    pos = torch.arange(out_size, dtype=torch.float32, device=device)
    src = (pos + 0.5) * scale - 0.5 if half_pixel else pos * scale
    floor = torch.floor(src)
    lower = floor.clamp(min=0).long()
    upper = torch.ceil(src).clamp(max=in_size - 1).long()
    return lower, upper, src - floor


def resize_bilinear(
    images: torch.Tensor,
    size: Sequence[int],
    *,
    align_corners: bool = False,
    half_pixel_centers: bool = False,
) -> torch.Tensor:
    """``ResizeBilinear`` on NHWC images, with TensorFlow's three coordinate conventions.

    Args:
        images: (N, H, W, C).
        size: (new_height, new_width).
        align_corners: map corner pixel centres onto each other.
        half_pixel_centers: sample at pixel centres (TF2 and Keras ``UpSampling2D``).

    Returns:
        float32 (N, new_height, new_width, C).
    """
    x = images.float()
    y0, y1, fy = _source_coords(int(size[0]), x.shape[1], align_corners, half_pixel_centers, x.device)
    x0, x1, fx = _source_coords(int(size[1]), x.shape[2], align_corners, half_pixel_centers, x.device)
    top, bottom = x.index_select(1, y0), x.index_select(1, y1)
    fx = fx.reshape(1, 1, -1, 1)
    top = top.index_select(2, x0) + (top.index_select(2, x1) - top.index_select(2, x0)) * fx
    bottom = bottom.index_select(2, x0) + (bottom.index_select(2, x1) - bottom.index_select(2, x0)) * fx
    return top + (bottom - top) * fy.reshape(1, -1, 1, 1)


def _resize_bilinear(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    align, half = node.attr_bool("align_corners"), node.attr_bool("half_pixel_centers")
    return lambda a: resize_bilinear(a[0], _ints(a[1]), align_corners=align, half_pixel_centers=half)


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


def _conv(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
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


def _max_pool(node: Node, consts: list[torch.Tensor | None]) -> Kernel:
    ksize, stride, padding = _window(node, "ksize")

    def kernel(a: list[torch.Tensor]) -> torch.Tensor:
        xc = F.pad(a[0].permute(0, 3, 1, 2), _pads(padding, a[0], ksize, stride, (1, 1)), value=-math.inf)
        return F.max_pool2d(xc, ksize, stride).permute(0, 2, 3, 1)

    return kernel


# fmt: off
_ELEMENTWISE: dict[str, Callable[..., torch.Tensor]] = {
    "Identity": lambda x: x, "Abs": torch.abs, "Exp": _exp, "Reciprocal": torch.reciprocal,
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
    "Conv2D": _conv, "_FusedConv2D": _conv, "DepthwiseConv2dNative": _conv,
    "FusedDepthwiseConv2dNative": _conv, "MaxPool": _max_pool,
    "Sum": _reduce(lambda x, d, k: x.sum(dim=d, keepdim=k, dtype=x.dtype)),
    "Max": _reduce(lambda x, d, k: x.amax(dim=d, keepdim=k)),
    "ArgMax": lambda node, consts: _argmax(node),
    "Pack": lambda node, consts: lambda a: torch.stack(a, dim=node.attr_int("axis")),
    "Unpack": lambda node, consts: lambda a: a[0].unbind(node.attr_int("axis")),
    "Split": lambda node, consts: lambda a: a[1].tensor_split(node.attr_int("num_split"), dim=int(a[0])),
    "Reshape": lambda node, consts: lambda a: a[0].reshape(_ints(a[1])),
    "ExpandDims": lambda node, consts: lambda a: a[0].unsqueeze(int(a[1])),
    "ConcatV2": lambda node, consts: lambda a: torch.cat(a[:-1], dim=int(a[-1])),
    "Tile": lambda node, consts: lambda a: a[0].repeat(_ints(a[1])),
    "GatherNd": lambda node, consts: lambda a: gather_nd(a[0], a[1]),
    "TopKV2": lambda node, consts: lambda a: top_k(a[0], int(a[1])),
}
# fmt: on
