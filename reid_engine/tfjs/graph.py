"""Load a TF.js graph model (``model.json`` + weight shards) and run it with torch.

The JSON holds a TensorFlow GraphDef whose ``Const`` nodes carry no values; their tensors are packed,
in manifest order, in the binary shards the ``weightsManifest`` lists.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reid_engine.errors import ReidEngineError
from reid_engine.tfjs.ops import Kernel, build_kernel

logger = logging.getLogger(__name__)

_TF_DTYPES: dict[str, torch.dtype] = {
    "DT_FLOAT": torch.float32,
    "DT_HALF": torch.float16,
    "DT_DOUBLE": torch.float64,
    "DT_INT32": torch.int32,
    "DT_INT64": torch.int64,
    "DT_UINT8": torch.uint8,
    "DT_BOOL": torch.bool,
}
_MANIFEST_DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
    "bool": np.dtype("u1"),
}
_QUANTISED_DTYPES: dict[str, np.dtype] = {
    "float16": np.dtype("<f2"),
    "uint8": np.dtype("u1"),
    "uint16": np.dtype("<u2"),
}


class TfjsModelError(ReidEngineError):
    """A TF.js model file is malformed: bad JSON, a weight manifest that does not match its shards."""


@dataclass(frozen=True, slots=True)
class Node:
    """One GraphDef node.

    Attributes:
        name: unique node name.
        op: TensorFlow op type (``"_FusedConv2D"``, ``"StridedSlice"``, …).
        inputs: data inputs as (producer node name, output index); control inputs are dropped
            because an inference graph has no side effects to order.
        attrs: the node's ``attr`` mapping exactly as the JSON has it.
    """

    name: str
    op: str
    inputs: tuple[tuple[str, int], ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def attr_int(self, key: str, default: int = 0) -> int:
        """An integer attribute (GraphDef JSON writes int64 values as strings)."""
        value = self.attrs.get(key)
        return default if value is None else int(value.get("i", 0))

    def attr_ints(self, key: str, default: Sequence[int] = ()) -> tuple[int, ...]:
        """A list-of-integers attribute."""
        value = self.attrs.get(key)
        if value is None:
            return tuple(default)
        return tuple(int(v) for v in value.get("list", {}).get("i", []))

    def attr_float(self, key: str, default: float = 0.0) -> float:
        """A float attribute."""
        value = self.attrs.get(key)
        return default if value is None else float(value.get("f", 0.0))

    def attr_bool(self, key: str, default: bool = False) -> bool:
        """A boolean attribute."""
        value = self.attrs.get(key)
        return default if value is None else bool(value.get("b", False))

    def attr_str(self, key: str, default: str = "") -> str:
        """A string attribute (base64 in the JSON)."""
        value = self.attrs.get(key)
        return default if value is None else base64.b64decode(value.get("s", "")).decode()

    def attr_strs(self, key: str) -> tuple[str, ...]:
        """A list-of-strings attribute."""
        value = self.attrs.get(key, {})
        return tuple(base64.b64decode(s).decode() for s in value.get("list", {}).get("s", []))

    def attr_dtype(self, key: str) -> torch.dtype:
        """A ``type`` attribute as a torch dtype."""
        name = self.attrs.get(key, {}).get("type", "DT_FLOAT")
        if name not in _TF_DTYPES:
            raise TfjsModelError(f"node {self.name}: unsupported dtype {name}")
        return _TF_DTYPES[name]


@dataclass(frozen=True, slots=True)
class GraphModel:
    """A loaded graph model.

    Attributes:
        nodes: every node, in file order.
        weights: decoded constant tensors by node name (float32, int32 or bool numpy arrays).
        inputs: names of the tensors to feed (``"input:0"``).
        outputs: names of the tensors the signature returns (``"Identity:0"``).
    """

    nodes: tuple[Node, ...]
    weights: Mapping[str, np.ndarray]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def decode_weights(specs: Sequence[Mapping[str, Any]], buffer: bytes) -> dict[str, np.ndarray]:
    """Decode one weight group of a TF.js manifest from its concatenated shards.

    Args:
        specs: the group's ``weights`` entries (``name``, ``shape``, ``dtype`` and an optional
            ``quantization`` with ``dtype`` float16, uint8 or uint16, plus ``scale`` and ``min``
            for the integer kinds).
        buffer: the group's shards concatenated in ``paths`` order.

    Returns:
        Arrays by weight name, in the manifest ``dtype`` (bool weights as numpy bool).

    Raises:
        TfjsModelError: an unsupported dtype, or a buffer that does not match the manifest.
    """
    out: dict[str, np.ndarray] = {}
    offset = 0
    for spec in specs:
        name, dtype = str(spec["name"]), str(spec["dtype"])
        shape = tuple(int(d) for d in spec.get("shape", []))
        count = int(np.prod(shape, dtype=np.int64))
        if dtype not in _MANIFEST_DTYPES:
            raise TfjsModelError(f"weight {name}: unsupported dtype {dtype}")
        quant = spec.get("quantization")
        stored = _MANIFEST_DTYPES[dtype]
        if quant is not None:
            if quant.get("dtype") not in _QUANTISED_DTYPES:
                raise TfjsModelError(f"weight {name}: unsupported quantisation {quant.get('dtype')}")
            stored = _QUANTISED_DTYPES[quant["dtype"]]
        size = count * stored.itemsize
        if offset + size > len(buffer):
            raise TfjsModelError(f"weight {name} runs past the end of the weight data")
        raw = np.frombuffer(buffer, dtype=stored, count=count, offset=offset)
        offset += size
        if quant is not None and quant["dtype"] != "float16":
            # Affine integer quantisation: value = q * scale + min, computed in float32 as TF.js does.
            values = raw.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
            raw = np.round(values) if dtype != "float32" else values
        target = np.dtype(bool) if dtype == "bool" else _MANIFEST_DTYPES[dtype].newbyteorder("=")
        out[name] = raw.astype(target).reshape(shape)
    if offset != len(buffer):
        raise TfjsModelError(f"weight data has {len(buffer)} bytes but the manifest describes {offset}")
    return out


def load_graph_model(model_json: str | Path, *, shard_files: Mapping[str, Path] | None = None) -> GraphModel:
    """Read a TF.js graph model and its weight shards.

    Args:
        model_json: the ``model.json`` file.
        shard_files: where each shard the manifest names really is; shards not listed are read
            from the JSON file's folder, as TF.js does.

    Returns:
        The model, with every constant decoded.

    Raises:
        TfjsModelError: the files are missing, malformed, or not a graph model.
    """
    model_json = Path(model_json)
    try:
        doc = json.loads(model_json.read_text(encoding="utf-8"))
        topology = doc["modelTopology"]
        manifest = doc["weightsManifest"]
        raw_nodes = topology["node"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TfjsModelError(f"{model_json} is not a TF.js graph model: {exc}") from None
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        try:
            paths = [Path((shard_files or {}).get(p, model_json.parent / p)) for p in group["paths"]]
            buffer = b"".join(path.read_bytes() for path in paths)
            weights.update(decode_weights(group["weights"], buffer))
        except OSError as exc:
            raise TfjsModelError(f"weight shard of {model_json} cannot be read: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise TfjsModelError(f"{model_json} has a malformed weight manifest: {exc}") from None
    nodes = tuple(_parse_node(n) for n in raw_nodes)
    missing = [n.name for n in nodes if n.op == "Const" and n.name not in weights]
    if missing:
        raise TfjsModelError(f"{model_json}: constant {missing[0]} has no weight data")
    signature = doc.get("signature") or {}
    inputs = tuple(v["name"] for v in signature.get("inputs", {}).values())
    outputs = tuple(v["name"] for v in signature.get("outputs", {}).values())
    if not inputs:
        inputs = tuple(f"{n.name}:0" for n in nodes if n.op == "Placeholder")
    if not outputs:
        consumed = {src for n in nodes for src, _ in n.inputs}
        outputs = tuple(f"{n.name}:0" for n in nodes if n.name not in consumed and n.op != "Const")
    logger.info("loaded %s: %d nodes, %d weights", model_json.name, len(nodes), len(weights))
    return GraphModel(nodes=nodes, weights=weights, inputs=inputs, outputs=outputs)


def _parse_node(raw: Mapping[str, Any]) -> Node:
    inputs = tuple(_tensor_ref(i) for i in raw.get("input", []) if not i.startswith("^"))
    return Node(name=raw["name"], op=raw["op"], inputs=inputs, attrs=raw.get("attr", {}))


def _tensor_ref(name: str) -> tuple[str, int]:
    node, sep, index = name.rpartition(":")
    if sep and index.isdigit():
        return node, int(index)
    return name, 0


class GraphRunner:
    """Executes a :class:`GraphModel` with torch on one device.

    The execution order, the kernels (with convolution weights already in torch layout) and the
    step after which each intermediate tensor can be released are all fixed once, here.

    Args:
        model: the loaded model.
        device: where weights live and the graph runs; the CPU by default.

    Raises:
        UnsupportedOpError: the graph uses an op (or an op setting) this interpreter lacks.
        TfjsModelError: the graph is malformed (a dangling input or a cycle).
    """

    def __init__(self, model: GraphModel, *, device: torch.device | None = None) -> None:
        self.device = device or torch.device("cpu")
        self.input_names = model.inputs
        self.output_names = model.outputs
        by_name = {n.name: n for n in model.nodes}
        self._outputs = [_tensor_ref(name) for name in model.outputs]
        self._feeds = {_tensor_ref(name)[0] for name in model.inputs}
        order = _topological_order(by_name, [name for name, _ in self._outputs])
        self._consts: dict[str, tuple[torch.Tensor, ...]] = {}
        for name in order:
            if by_name[name].op == "Const":
                self._consts[name] = (torch.from_numpy(np.array(model.weights[name])).to(self.device),)
        self._steps: list[tuple[Node, Kernel, tuple[str, ...]]] = []
        last_use: dict[str, int] = {}
        computed = [by_name[n] for n in order if n not in self._consts and n not in self._feeds]
        for step, node in enumerate(computed):
            for src, _ in node.inputs:
                last_use[src] = step
        keep = {name for name, _ in self._outputs}
        release: dict[int, list[str]] = {}
        for name, step in last_use.items():
            if name not in self._consts and name not in keep:
                release.setdefault(step, []).append(name)
        for step, node in enumerate(computed):
            consts = [self._consts[src][i] if src in self._consts else None for src, i in node.inputs]
            kernel = build_kernel(node, consts)
            self._steps.append((node, kernel, tuple(release.get(step, ()))))

    def run(self, feeds: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
        """Run the graph once.

        Args:
            feeds: a tensor for every input, keyed by tensor name (``"input:0"``) or node name.

        Returns:
            The signature's output tensors, in signature order.

        Raises:
            ValueError: an input is not fed.
        """
        values: dict[str, tuple[torch.Tensor, ...]] = dict(self._consts)
        for name in self._feeds:
            tensor = feeds.get(name, feeds.get(f"{name}:0"))
            if tensor is None:
                raise ValueError(f"graph input {name!r} was not fed")
            values[name] = (tensor.to(self.device),)
        with torch.inference_mode():
            for node, kernel, release in self._steps:
                args = [values[src][i] for src, i in node.inputs]
                result = kernel(args)
                values[node.name] = result if isinstance(result, tuple) else (result,)
                for name in release:
                    del values[name]
        return [values[name][i] for name, i in self._outputs]


def _topological_order(by_name: Mapping[str, Node], targets: Sequence[str]) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}
    for target in targets:
        # Iterative depth-first search: the graph is deep enough to trouble Python's recursion limit.
        stack: list[tuple[str, bool]] = [(target, False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                state[name] = 2
                order.append(name)
                continue
            if state.get(name) == 2:
                continue
            if state.get(name) == 1:
                raise TfjsModelError(f"the graph has a cycle through {name}")
            if name not in by_name:
                raise TfjsModelError(f"the graph refers to a missing node {name}")
            state[name] = 1
            stack.append((name, True))
            stack.extend((src, False) for src, _ in reversed(by_name[name].inputs) if state.get(src) != 2)
    return order
