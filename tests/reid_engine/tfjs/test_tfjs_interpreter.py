"""The TF.js interpreter's ops against hand-computed references, and a tiny graph end to end."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from reid_engine.tfjs import (
    GraphModel,
    GraphRunner,
    Node,
    TfjsModelError,
    UnsupportedOpError,
    decode_weights,
    load_graph_model,
)
from reid_engine.tfjs.ops import build_kernel, gather_nd, resize_bilinear, strided_slice, top_k


def make_node(op: str, n_inputs: int = 1, **attrs: Any) -> Node:
    """A node with attributes written the way GraphDef JSON writes them."""
    encoded: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, bool):
            encoded[key] = {"b": value}
        elif isinstance(value, int):
            encoded[key] = {"i": str(value)}
        elif isinstance(value, float):
            encoded[key] = {"f": value}
        elif isinstance(value, str):
            encoded[key] = {"s": base64.b64encode(value.encode()).decode()}
        elif value and isinstance(value[0], str):
            encoded[key] = {"list": {"s": [base64.b64encode(v.encode()).decode() for v in value]}}
        else:
            encoded[key] = {"list": {"i": [str(v) for v in value]}}
    return Node(name=op.lower(), op=op, inputs=tuple((f"in{i}", 0) for i in range(n_inputs)), attrs=encoded)


def run_node(node: Node, *inputs: torch.Tensor) -> Any:
    return build_kernel(node, [None] * len(inputs))(list(inputs))


X = torch.arange(4 * 5 * 6).reshape(4, 5, 6)
XN = X.numpy()


@pytest.mark.parametrize(
    ("begin", "end", "strides", "masks", "expected"),
    [
        ([1, 0], [3, 5], [1, 2], {}, XN[1:3, 0:5:2]),
        ([-100, 0], [100, 0], [1, 1], {"end_mask": 2}, XN[-100:100, :]),
        ([3, 0], [0, 0], [-2, 1], {"end_mask": 2}, XN[3:0:-2, :]),
        ([0], [0], [-1], {"begin_mask": 1, "end_mask": 1}, XN[::-1]),
        ([2, 1], [0, 0], [1, 1], {"shrink_axis_mask": 1, "end_mask": 2}, XN[2, 1:]),
        ([-1], [0], [1], {"shrink_axis_mask": 1}, XN[-1]),
        ([0, 0, 1], [0, 0, 3], [1, 1, 1], {"begin_mask": 3, "end_mask": 3, "new_axis_mask": 2}, XN[:, None, 1:3]),
        ([0, 2], [0, 0], [1, 1], {"ellipsis_mask": 1, "shrink_axis_mask": 2}, XN[..., 2]),
        ([0, 0, 1], [0, 0, 0], [1, 1, 1], {"ellipsis_mask": 1, "new_axis_mask": 2, "shrink_axis_mask": 4}, XN[..., None, 1]),
    ],
)  # fmt: skip
def test_strided_slice_follows_tensorflow_masks(
    begin: list[int], end: list[int], strides: list[int], masks: dict[str, int], expected: np.ndarray
) -> None:
    out = strided_slice(X, begin, end, strides, **masks)
    np.testing.assert_array_equal(out.numpy(), expected)
    node = make_node("StridedSlice", 4, **masks)
    as_op = run_node(node, X, torch.tensor(begin), torch.tensor(end), torch.tensor(strides))
    np.testing.assert_array_equal(as_op.numpy(), expected)


def test_strided_slice_as_movenet_uses_it() -> None:
    # strided_slice_6 of MoveNet: begin_mask 0b101, end_mask 0b001, new_axis_mask 0b010 on (1, 3).
    shape = torch.tensor([[384, 512, 3]], dtype=torch.int32)
    out = strided_slice(shape, [0, 0, 0], [0, 0, 2], [1, 1, 1], begin_mask=5, end_mask=1, new_axis_mask=2)
    assert out.tolist() == [[[384, 512]]]


def test_strided_slice_rejects_an_index_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        strided_slice(X, [4], [5], [1], shrink_axis_mask=1)


def test_resize_bilinear_matches_hand_computed_values_for_each_convention() -> None:
    row = torch.tensor([0.0, 10.0]).reshape(1, 1, 2, 1)
    # 2 -> 4 pixels. Half-pixel: sources -0.25, 0.25, 0.75, 1.25 (clamped at the ends).
    half = resize_bilinear(row, (1, 4), half_pixel_centers=True)
    np.testing.assert_allclose(half.reshape(-1).numpy(), [0.0, 2.5, 7.5, 10.0])
    # Align corners: sources 0, 1/3, 2/3, 1.
    corners = resize_bilinear(row, (1, 4), align_corners=True)
    np.testing.assert_allclose(corners.reshape(-1).numpy(), [0.0, 10 / 3, 20 / 3, 10.0], rtol=1e-6)
    # Legacy (neither): sources 0, 0.5, 1, 1.5.
    legacy = resize_bilinear(row, (1, 4))
    np.testing.assert_allclose(legacy.reshape(-1).numpy(), [0.0, 5.0, 10.0, 10.0])


def test_resize_bilinear_half_pixel_equals_torch_interpolate_in_2d() -> None:
    images = torch.rand(2, 5, 7, 3, generator=torch.Generator().manual_seed(0))
    node = make_node("ResizeBilinear", 2, align_corners=False, half_pixel_centers=True)
    out = run_node(node, images, torch.tensor([10, 14], dtype=torch.int32))
    reference = torch.nn.functional.interpolate(
        images.permute(0, 3, 1, 2), size=(10, 14), mode="bilinear", align_corners=False
    ).permute(0, 2, 3, 1)
    np.testing.assert_allclose(out.numpy(), reference.numpy(), atol=1e-6)


def test_gather_nd_indexes_leading_dimensions() -> None:
    params = torch.arange(24.0).reshape(2, 3, 4)
    rows = gather_nd(params, torch.tensor([[0, 1], [1, 2]], dtype=torch.int32))
    np.testing.assert_array_equal(rows.numpy(), [[4, 5, 6, 7], [20, 21, 22, 23]])
    points = gather_nd(params, torch.tensor([[[1, 0, 3]], [[0, 2, 0]]]))
    np.testing.assert_array_equal(points.numpy(), [[15], [8]])


def test_top_k_is_sorted_and_breaks_ties_by_lower_index() -> None:
    values, indices = top_k(torch.tensor([[1.0, 3.0, 3.0, 2.0, 3.0], [5.0, 4.0, 3.0, 2.0, 1.0]]), 3)
    np.testing.assert_array_equal(values.numpy(), [[3, 3, 3], [5, 4, 3]])
    np.testing.assert_array_equal(indices.numpy(), [[1, 2, 4], [0, 1, 2]])
    assert indices.dtype == torch.int32


def direct_conv(x: np.ndarray, w: np.ndarray, stride: int, pads: tuple[int, int, int, int]) -> np.ndarray:
    """Textbook NHWC convolution: x (1, H, W, C), w (kh, kw, C, O), pads (top, bottom, left, right)."""
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, _, out_c = w.shape
    out_h = (xp.shape[1] - kh) // stride + 1
    out_w = (xp.shape[2] - kw) // stride + 1
    out = np.zeros((1, out_h, out_w, out_c))
    for i in range(out_h):
        for j in range(out_w):
            patch = xp[0, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[0, i, j] = np.tensordot(patch, w, axes=([0, 1, 2], [0, 1, 2]))
    return out


def test_fused_conv_same_stride_2_matches_a_direct_convolution() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 7, 8, 3)).astype(np.float32)
    w = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    bias = rng.normal(size=4).astype(np.float32)
    node = make_node("_FusedConv2D", 3, strides=[1, 2, 2, 1], padding="SAME", fused_ops=["BiasAdd", "Relu6"])
    consts = [None, torch.from_numpy(w), torch.from_numpy(bias)]
    out = build_kernel(node, consts)([torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(bias)])
    # SAME, stride 2: height 7 -> 4 needs 2 rows (1 before, 1 after); width 8 -> 4 needs 1
    # column, which TensorFlow puts after.
    expected = np.clip(direct_conv(x, w, 2, (1, 1, 0, 1)) + bias, 0.0, 6.0)
    assert out.shape == (1, 4, 4, 4)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-5)


def test_pointwise_and_depthwise_convs_match_direct_convolutions() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 6, 5, 3)).astype(np.float32)
    w1 = rng.normal(size=(1, 1, 3, 8)).astype(np.float32)
    node = make_node("Conv2D", 2, strides=[1, 1, 1, 1], padding="VALID")
    out = build_kernel(node, [None, torch.from_numpy(w1)])([torch.from_numpy(x), torch.from_numpy(w1)])
    np.testing.assert_allclose(out.numpy(), direct_conv(x, w1, 1, (0, 0, 0, 0)), atol=1e-5)
    # Depthwise with channel multiplier 2: output channel c * 2 + m filters input channel c.
    wd = rng.normal(size=(3, 3, 3, 2)).astype(np.float32)
    node = make_node("DepthwiseConv2dNative", 2, strides=[1, 1, 1, 1], padding="SAME")
    out = run_node(node, torch.from_numpy(x), torch.from_numpy(wd))
    dense = np.zeros((3, 3, 3, 6), dtype=np.float32)
    for c in range(3):
        for m in range(2):
            dense[:, :, c, c * 2 + m] = wd[:, :, c, m]
    np.testing.assert_allclose(out.numpy(), direct_conv(x, dense, 1, (1, 1, 1, 1)), atol=1e-5)


def test_conv_with_an_unsupported_fused_op_names_it() -> None:
    node = make_node("_FusedConv2D", 3, strides=[1, 1, 1, 1], padding="SAME", fused_ops=["BiasAdd", "Prelu"])
    with pytest.raises(UnsupportedOpError, match="Prelu"):
        build_kernel(node, [None, None, None])


def test_exp_flushes_subnormal_results_to_zero() -> None:
    out = run_node(make_node("Exp"), torch.tensor([-1.0, -87.0, -90.0, -1000.0]))
    assert out[0].item() == pytest.approx(np.exp(-1.0))
    assert out[1].item() > 0.0
    assert out[2].item() == 0.0
    assert out[3].item() == 0.0


def test_decode_weights_reads_float16_int32_bool_and_affine_uint8() -> None:
    half = np.array([[0.5, -1.25], [3.0, 65504.0]], dtype=np.float16)
    ints = np.array([7, -3, 2**30], dtype="<i4")
    flags = np.array([1, 0, 1], dtype=np.uint8)
    quant = np.array([0, 128, 255], dtype=np.uint8)
    buffer = half.astype("<f2").tobytes() + ints.tobytes() + flags.tobytes() + quant.tobytes()
    specs = [
        {"name": "h", "shape": [2, 2], "dtype": "float32", "quantization": {"dtype": "float16"}},
        {"name": "i", "shape": [3], "dtype": "int32"},
        {"name": "b", "shape": [3], "dtype": "bool"},
        {"name": "q", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
    ]  # fmt: skip
    out = decode_weights(specs, buffer)
    assert out["h"].dtype == np.float32
    np.testing.assert_array_equal(out["h"], half.astype(np.float32))
    np.testing.assert_array_equal(out["i"], ints)
    np.testing.assert_array_equal(out["b"], [True, False, True])
    np.testing.assert_allclose(out["q"], [-1.0, 63.0, 126.5])
    with pytest.raises(TfjsModelError, match="bytes"):
        decode_weights(specs, buffer + b"\0")
    with pytest.raises(TfjsModelError, match="past the end"):
        decode_weights(specs, buffer[:-1])


def write_tiny_model(folder: Path) -> Path:
    """y = relu(x * 2 + [1, -5]) as a TF.js graph model with its constants in a weight shard."""
    nodes = [
        {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"}}},
        {"name": "two", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
        {"name": "offset", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
        {"name": "scaled", "op": "Mul", "input": ["x", "two"]},
        {"name": "shifted", "op": "AddV2", "input": ["scaled", "offset", "^two"]},
        {"name": "relu", "op": "Relu", "input": ["shifted"]},
        {"name": "Identity", "op": "Identity", "input": ["relu:0"]},
    ]
    weights = [
        {"name": "two", "shape": [], "dtype": "float32"},
        {"name": "offset", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}},
    ]
    doc = {
        "format": "graph-model",
        "modelTopology": {"node": nodes},
        "weightsManifest": [{"paths": ["tiny.bin"], "weights": weights}],
        "signature": {"inputs": {"x": {"name": "x:0"}}, "outputs": {"y": {"name": "Identity:0"}}},
    }
    (folder / "tiny.bin").write_bytes(
        np.float32(2.0).tobytes() + np.array([1.0, -5.0], dtype="<f2").tobytes()
    )
    (folder / "model.json").write_text(json.dumps(doc))
    return folder / "model.json"


def test_a_tiny_graph_model_loads_and_runs(tmp_path: Path) -> None:
    model = load_graph_model(write_tiny_model(tmp_path))
    assert model.inputs == ("x:0",)
    assert model.outputs == ("Identity:0",)
    runner = GraphRunner(model)
    (y,) = runner.run({"x:0": torch.tensor([[1.0, 2.0], [3.0, 4.0]])})
    np.testing.assert_array_equal(y.numpy(), [[3.0, 0.0], [7.0, 3.0]])
    # Intermediates are released between runs; a second run must not depend on the first.
    (y2,) = runner.run({"x": torch.tensor([[0.0, 10.0]])})
    np.testing.assert_array_equal(y2.numpy(), [[1.0, 15.0]])
    with pytest.raises(ValueError, match="not fed"):
        runner.run({})


def test_a_missing_shard_or_an_unknown_op_is_reported(tmp_path: Path) -> None:
    path = write_tiny_model(tmp_path)
    model = load_graph_model(path)
    nodes = tuple(Node(n.name, "Einsum", n.inputs, n.attrs) if n.op == "Relu" else n for n in model.nodes)
    with pytest.raises(UnsupportedOpError, match="Einsum"):
        GraphRunner(
            GraphModel(nodes=nodes, weights=model.weights, inputs=model.inputs, outputs=model.outputs)
        )
    (tmp_path / "tiny.bin").unlink()
    with pytest.raises(TfjsModelError, match="cannot be read"):
        load_graph_model(path)
