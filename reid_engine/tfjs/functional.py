"""TensorFlow's semantics of a few ops as plain functions on torch tensors: exp with subnormals
flushed, ``strided_slice`` with every mask, ``gather_nd``, ``top_k`` with TensorFlow's tie order,
and ``ResizeBilinear`` with its three coordinate conventions."""

from __future__ import annotations

from collections.abc import Sequence

import torch

# Just above ln of the smallest normal float32: below it exp() gives subnormals, which TensorFlow's
# CPU kernels flush to zero and which send torch's vectorised exp (and every later op on the result)
# down a path some 40 times slower. Exactly ln(FLT_MIN) is still on the slow path, hence the rounding.
_EXP_FLOOR = -87.33


def exp(x: torch.Tensor) -> torch.Tensor:
    """``exp`` as TensorFlow's CPU kernels give it: results below the smallest normal float32 are 0."""
    if not x.is_floating_point():
        return torch.exp(x)
    return torch.exp(x.clamp(min=_EXP_FLOOR)).masked_fill_(x < _EXP_FLOOR, 0.0)


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
