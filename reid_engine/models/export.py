"""ONNX export of a ReID model, with a parity check against PyTorch."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from reid_engine.errors import ReidEngineError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParityReport:
    """How far ONNX Runtime's embeddings are from PyTorch's on the same inputs.

    Attributes:
        max_abs_diff: largest absolute difference of any embedding component.
        min_cosine: smallest cosine similarity between paired embeddings.
        batch: images compared.
    """

    max_abs_diff: float
    min_cosine: float
    batch: int


def export_onnx(model: nn.Module, path: Path, *, size_hw: tuple[int, int], opset: int = 17) -> None:
    """Write ``model`` (images (N, 3, H, W) → embeddings (N, D)) as ONNX with a dynamic batch axis."""
    model = model.eval().cpu()
    dummy = torch.zeros(1, 3, *size_hw)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with warnings.catch_warnings():
        # The TorchScript-based exporter is deprecated upstream but needs no extra packages and
        # handles these plain convolutional graphs exactly.
        warnings.simplefilter("ignore", DeprecationWarning)
        # Tracing notes constant shapes (fine: only the batch axis varies) and that instance norm
        # uses per-image statistics at inference (that is what IBN means).
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*instance_norm.*", category=UserWarning)
        torch.onnx.export(
            model, (dummy,), str(tmp), dynamo=False, opset_version=opset,
            input_names=["images"], output_names=["embeddings"],
            dynamic_axes={"images": {0: "batch"}, "embeddings": {0: "batch"}},
        )
    tmp.replace(path)
    logger.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)


def check_parity(
    model: nn.Module, path: Path, *, size_hw: tuple[int, int], batch: int = 4, seed: int = 0,
    tolerance: float = 1e-4,
) -> ParityReport:
    """Run the same random images through PyTorch and ONNX Runtime and compare the embeddings.

    Raises:
        ReidEngineError: the outputs differ by more than ``tolerance`` (max absolute difference).
    """
    import onnxruntime as ort

    gen = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, *size_hw, generator=gen)
    with torch.no_grad():
        expected = model.eval().cpu()(images).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    actual = session.run(None, {"images": images.numpy()})[0]
    if actual.shape != expected.shape:
        raise ReidEngineError(f"ONNX output shape {actual.shape} differs from PyTorch's {expected.shape}")
    diff = float(np.abs(actual - expected).max())
    cos = float(np.min(np.sum(actual * expected, axis=1)
                       / np.maximum(np.linalg.norm(actual, axis=1) * np.linalg.norm(expected, axis=1), 1e-12)))
    report = ParityReport(max_abs_diff=diff, min_cosine=cos, batch=batch)
    if diff > tolerance:
        raise ReidEngineError(f"ONNX export differs from PyTorch: max |diff| {diff:.2e} > {tolerance:.0e}")
    return report
