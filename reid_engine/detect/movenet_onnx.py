"""MoveNet MultiPose run by onnxruntime, from an ONNX file exported once from our TF.js interpreter.

Set-up runs ``python -m reid_engine.detect.export_movenet`` (``scripts/setup.sh`` does): it loads the
checked TF.js graph, traces :class:`reid_engine.tfjs.GraphRunner` with ``torch.onnx.export`` at each
input size asked for, and writes ``<data>/models/movenet-onnx/movenet-multipose-<W>x<H>-p<K>.onnx``
with a manifest (``.json``) naming the digests of its source files and of itself. The interpreter
stays the reference; ``tests/reid_engine/detect/test_movenet_onnx.py`` checks parity on real frames.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reid_engine.errors import ResourceMissingError
from reid_engine.models.pretrained import file_sha256

if TYPE_CHECKING:
    import torch

    from reid_engine.detect.movenet import MoveNetConfig
    from reid_engine.tfjs import GraphRunner

logger = logging.getLogger(__name__)

EXPORT_HINT = "run scripts/setup.sh (or python -m reid_engine.detect.export_movenet) to export it"
# Input sizes set-up exports: 4:3 and 16:9 frames, landscape, at the default 512 long side.
DEFAULT_SIZES = ((512, 384), (512, 288))
_OPSET = 17


def onnx_path(data_dir: Path, width: int, height: int, max_people: int) -> Path:
    """Where the exported graph for one network input size lives."""
    return (
        Path(data_dir) / "models" / "movenet-onnx" / f"movenet-multipose-{width}x{height}-p{max_people}.onnx"
    )


def _source_digest(config: MoveNetConfig) -> str:
    return f"{config.model_sha256}:{config.weights_sha256}"


def export_onnx(runner: GraphRunner, config: MoveNetConfig, dest: Path, width: int, height: int) -> Path:
    """Trace ``runner`` at one input size into ``dest`` (written atomically) and its manifest.

    Args:
        runner: the interpreter, built from the checked TF.js files with ``config.max_people``.
        config: the detector settings the runner was built with.
        dest: the ``.onnx`` file to write.
        width: network input width.
        height: network input height.

    Returns:
        ``dest``.
    """
    import torch

    class _Graph(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return runner.run({"input": x})[0]

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(f".tmp{os.getpid()}")
    example = torch.zeros((1, height, width, 3), dtype=torch.int32)
    torch.onnx.export(
        _Graph(),
        (example,),
        str(tmp),
        dynamo=False,
        opset_version=_OPSET,
        input_names=["input"],
        output_names=["output"],
    )
    manifest = {
        "source": _source_digest(config),
        "sha256": file_sha256(tmp),
        "input": [width, height],
        "max_people": config.max_people,
        "opset": _OPSET,
    }
    tmp.replace(dest)
    dest.with_suffix(".json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return dest


def is_current(path: Path, config: MoveNetConfig) -> bool:
    """Whether ``path`` exists, matches its manifest and was exported from ``config``'s files."""
    manifest_path = path.with_suffix(".json")
    if not (path.is_file() and manifest_path.is_file()):
        return False
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        return bool(
            manifest.get("source") == _source_digest(config)
            and manifest.get("max_people") == config.max_people
            and manifest.get("sha256") == file_sha256(path)
        )
    except (OSError, ValueError):
        return False


class OnnxGraph:
    """One exported MoveNet graph in an onnxruntime session.

    Args:
        path: the exported ``.onnx`` file (its manifest is checked first).
        config: the detector settings it must have been exported from.
        num_threads: onnxruntime intra-op threads; 0 keeps its choice.
        device: ``cuda`` selects the CUDA execution provider when onnxruntime has it.

    Raises:
        ResourceMissingError: the file is missing, stale, altered or cannot be loaded.
    """

    def __init__(
        self, path: Path, config: MoveNetConfig, *, num_threads: int = 0, device: torch.device | None = None
    ) -> None:
        import onnxruntime as ort

        from reid_engine.detect.onnx_yolo import _ort_errors, _providers

        if not is_current(path, config):
            raise ResourceMissingError(f"exported MoveNet graph {path} is missing or stale: {EXPORT_HINT}")
        options = ort.SessionOptions()
        # Spinning worker threads wait for work by burning a core: on a shared CPU that starves
        # the decoder and the other processes, and measured here doubled the detector's time.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if num_threads > 0:
            options.intra_op_num_threads = int(num_threads)
            options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=options, providers=_providers(device, ort.get_available_providers())
            )
        except _ort_errors() as exc:
            raise ResourceMissingError(f"exported MoveNet graph {path} cannot be loaded: {exc}") from None
        self.provider = str(self._session.get_providers()[0])

    def run(self, batch: np.ndarray) -> np.ndarray:
        """The graph's (1, people, 56) output for one int32 (1, H, W, 3) image."""
        out: Any = self._session.run(None, {"input": batch})[0]
        return np.asarray(out)
