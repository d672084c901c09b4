"""Worker-side access to the engine: models are loaded once per worker process, lazily.

Loading happens on first use inside the (already forked) child, never in the parent: FAISS and
torch thread pools do not survive a fork.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from reid_engine.pipeline import Pipeline

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_pipeline: Pipeline | None = None


def get_pipeline() -> Pipeline:
    """The worker process's pipeline (detector, tracker, embedders), built on first use."""
    global _pipeline
    with _lock:
        if _pipeline is None:
            # Imported here, not at the top: the web process imports this module and must never load torch.
            import torch

            from reid_engine.config import load_config
            from reid_engine.pipeline import PipelineConfig, build_pipeline

            # Two OpenMP threads fighting over a busy core make a forward pass 100x slower than one:
            # size torch's pool to the cores this worker process may use.
            torch.set_num_threads(settings.LONGVIEW["ENGINE_THREADS"])

            config = load_config(PipelineConfig, settings.LONGVIEW["PIPELINE_CONFIG"])
            _pipeline = build_pipeline(
                config, device=settings.LONGVIEW["ENGINE_DEVICE"], data_dir=settings.DATA_DIR
            )
            logger.info("pipeline loaded: %s, %s", _pipeline.detector.name, _pipeline.embedder.name)
        return _pipeline

