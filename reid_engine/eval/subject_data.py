"""SynthCC sets for the subject evaluation, embedded in both lanes by the product's own embedders.

Each set is generated once per seed (almost every identity held out: the evaluation trains nothing)
and embedded once; both steps leave a finished file behind and are skipped when it exists, so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reid_engine.data.base import ImageRecord
from reid_engine.data.synthcc import load_synthcc_images
from reid_engine.embed import Embedder, build_embedder
from reid_engine.eval.extract import Features

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SubjectSetSpec:
    """Sizes of one generated SynthCC image set (``reid synth images`` flags of the same names).

    ``train_fraction`` is as small as the generator allows (one identity): the models are the
    shipped ones, so every other identity serves as query and gallery.
    """

    ids: int = 100
    outfits: int = 3
    cameras: int = 4
    per_visit: int = 4
    train_fraction: float = 0.01

    def folder_name(self, seed: int) -> str:
        """The set's folder name: the seed and every size, so two sizes never share a folder."""
        return (f"seed{seed}-ids{self.ids}-o{self.outfits}-c{self.cameras}-v{self.per_visit}"
                f"-t{self.train_fraction:g}")


def ensure_set(parent: Path, seed: int, spec: SubjectSetSpec) -> Path:
    """The folder of the set for ``seed``, generated into ``parent`` unless already there.

    A set is written to a temporary folder and renamed when complete, so a folder that exists is
    always whole.
    """
    from reid_engine.synth.image_set import ImageSetConfig, generate_image_set

    out = parent / spec.folder_name(seed)
    if (out / "meta.json").exists():
        return out
    partial = parent / f"{out.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    config = ImageSetConfig(seed=seed, ids=spec.ids, outfits=spec.outfits, cameras=spec.cameras,
                            per_visit=spec.per_visit, train_fraction=spec.train_fraction)
    logger.info("generating %s", out)
    generate_image_set(partial, config)
    partial.rename(out)
    return out


def product_embedders(*, device: str = "cpu", data_dir: Path) -> tuple[Embedder, Embedder]:
    """The appearance and identity embedders ingest uses by default (``PipelineConfig``)."""
    from reid_engine.pipeline import PipelineConfig

    config = PipelineConfig()
    return (build_embedder(config.embedder, device=device, data_dir=data_dir),
            build_embedder(config.identity_embedder, device=device, data_dir=data_dir))


def _read_rgb(record: ImageRecord) -> np.ndarray:
    image = cv2.imread(str(record.path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read {record.path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _embed(embedder: Embedder, records: tuple[ImageRecord, ...], chunk: int = 256) -> np.ndarray:
    out = np.zeros((len(records), embedder.dim), np.float32)
    for start in range(0, len(records), chunk):
        part = records[start : start + chunk]
        out[start : start + len(part)] = embedder.embed([_read_rgb(r) for r in part])
    return out


def _labels(records: tuple[ImageRecord, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([r.pid for r in records], np.int64), np.array([r.camid for r in records], np.int64),
            np.array([r.clothes_id for r in records], np.int64))


def set_features(root: Path, appearance: Embedder, identity: Embedder) -> tuple[Features, Features]:
    """Both lanes' query and gallery features of the set in ``root``, row-aligned, from a cache.

    The cache file (in ``root``) is named by both embedders, whose names carry their weights'
    checksums: other weights never read stale vectors.
    """
    cache = root / f"features-{appearance.name}-{identity.name}.npz"
    lanes: list[Features] = []
    if cache.exists():
        with np.load(cache) as data:
            labels = [data[k] for k in ("q_pids", "g_pids", "q_camids", "g_camids", "q_clothes", "g_clothes")]
            return (Features(data["appearance_query"], data["appearance_gallery"], *labels),
                    Features(data["identity_query"], data["identity_gallery"], *labels))
    dataset = load_synthcc_images(root)
    qp, qc, qk = _labels(dataset.query)
    gp, gc, gk = _labels(dataset.gallery)
    for embedder in (appearance, identity):
        logger.info("embedding %s with %s", root.name, embedder.name)
        lanes.append(Features(_embed(embedder, dataset.query), _embed(embedder, dataset.gallery),
                              qp, gp, qc, gc, qk, gk))
    partial = cache.with_suffix(".partial.npz")
    np.savez(partial, appearance_query=lanes[0].query, appearance_gallery=lanes[0].gallery,
             identity_query=lanes[1].query, identity_gallery=lanes[1].gallery, q_pids=qp, g_pids=gp,
             q_camids=qc, g_camids=gc, q_clothes=qk, g_clothes=gk)
    partial.rename(cache)
    return lanes[0], lanes[1]
