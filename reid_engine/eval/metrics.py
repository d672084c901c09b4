"""CMC Rank-k and mAP with the junk rules of the clothes-changing ReID literature.

The rules follow the reference evaluation of CAL (``evaluate`` / ``evaluate_with_clothes``), so numbers
are comparable with published ones:

- ``general``: gallery items of the query's identity seen by the query's camera are junk.
- ``cc`` (clothes-changing): also junk are items of the query's identity in the query's clothes; a
  correct match is the same identity in different clothes (and another camera).
- ``sc`` (same-clothes): also junk are items of the query's identity in different clothes.

Junk items are removed from the ranking before scoring; a query left with no correct match is skipped
and counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

logger = logging.getLogger(__name__)

Protocol = Literal["general", "cc", "sc"]


@dataclass(frozen=True, slots=True)
class EvalResult:
    """Scores of one evaluation.

    Attributes:
        cmc: float64 (G,), CMC curve; ``cmc[k-1]`` is Rank-k accuracy in [0, 1].
        mAP: mean average precision in [0, 1].
        num_queries: queries scored.
        num_skipped: queries skipped because no correct match remained after junk removal.
    """

    cmc: np.ndarray
    mAP: float
    num_queries: int
    num_skipped: int

    def rank(self, k: int) -> float:
        """Rank-k accuracy (``k`` counts from 1); the last CMC value when ``k`` exceeds the gallery."""
        if k < 1:
            raise ValueError("k counts from 1")
        if self.cmc.size == 0:
            return 0.0
        return float(self.cmc[min(k, self.cmc.size) - 1])

    def summary(self, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float | int]:
        """Rank-k and mAP as a flat dictionary, for JSON reports."""
        out: dict[str, float | int] = {f"rank{k}": self.rank(k) for k in ks}
        out["mAP"] = self.mAP
        out["num_queries"] = self.num_queries
        out["num_skipped"] = self.num_skipped
        return out


def cosine_distance(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """``1 - cosine similarity`` between rows of ``query`` (Q, D) and ``gallery`` (G, D); float32 (Q, G)."""
    q = np.asarray(query, dtype=np.float32)
    g = np.asarray(gallery, dtype=np.float32)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    g = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    return np.asarray(1.0 - q @ g.T, dtype=np.float32)


def _ap_cmc(order: np.ndarray, good: np.ndarray, junk: np.ndarray) -> tuple[float, np.ndarray]:
    cmc = np.zeros(order.size, dtype=np.float64)
    kept = order[~np.isin(order, junk)]
    hits = np.flatnonzero(np.isin(kept, good))
    # Once a correct match is found every deeper rank counts as found, to the end of the full curve.
    cmc[hits[0] :] = 1.0
    # Non-interpolated AP: mean of the precision at each correct match's rank.
    precision = np.arange(1, hits.size + 1, dtype=np.float64) / (hits + 1)
    return float(precision.mean()), cmc


def evaluate(
    distmat: np.ndarray,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray,
    g_camids: np.ndarray,
    q_clothes: np.ndarray | None = None,
    g_clothes: np.ndarray | None = None,
    *,
    protocol: Protocol = "general",
) -> EvalResult:
    """Score a query × gallery distance matrix.

    Args:
        distmat: (Q, G) distances, smaller is closer (e.g. :func:`cosine_distance`). Ties keep
            gallery order.
        q_pids, g_pids: identity labels, (Q,) and (G,).
        q_camids, g_camids: camera labels.
        q_clothes, g_clothes: clothes labels; required by the ``cc`` and ``sc`` protocols.
        protocol: ``"general"``, ``"cc"`` or ``"sc"`` (see the module docstring).

    Returns:
        The CMC curve and mAP averaged over the scored queries.

    Raises:
        ValueError: on mismatched shapes, an unknown protocol or missing clothes labels.
    """
    dist = np.asarray(distmat, dtype=np.float64)
    if dist.ndim != 2:
        raise ValueError(f"distmat must be 2-D, got shape {dist.shape}")
    nq, ng = dist.shape
    q_pids, q_camids = np.asarray(q_pids), np.asarray(q_camids)
    g_pids, g_camids = np.asarray(g_pids), np.asarray(g_camids)
    if q_pids.shape != (nq,) or q_camids.shape != (nq,):
        raise ValueError("query labels must have one entry per distmat row")
    if g_pids.shape != (ng,) or g_camids.shape != (ng,):
        raise ValueError("gallery labels must have one entry per distmat column")
    if protocol not in ("general", "cc", "sc"):
        raise ValueError(f"unknown protocol {protocol!r} (general, cc, sc)")
    if protocol != "general" and (q_clothes is None or g_clothes is None):
        raise ValueError(f"protocol {protocol!r} needs clothes labels")
    qc = np.zeros(nq, dtype=np.int64) if q_clothes is None else np.asarray(q_clothes)
    gc = np.zeros(ng, dtype=np.int64) if g_clothes is None else np.asarray(g_clothes)
    if qc.shape != (nq,) or gc.shape != (ng,):
        raise ValueError("clothes labels must have one entry per distmat row / column")

    order_all = np.argsort(dist, axis=1, kind="stable")
    cmc_sum = np.zeros(ng, dtype=np.float64)
    ap_sum = 0.0
    skipped = 0
    for i in range(nq):
        same_id = g_pids == q_pids[i]
        junk = same_id & (g_camids == q_camids[i])
        good = same_id & ~junk
        if protocol != "general":
            same_clothes = gc == qc[i]
            if protocol == "cc":
                junk |= same_id & same_clothes
                good &= ~same_clothes
            else:
                junk |= same_id & ~same_clothes
                good &= same_clothes
        if not good.any():
            skipped += 1
            continue
        ap, cmc = _ap_cmc(order_all[i], np.flatnonzero(good), np.flatnonzero(junk))
        cmc_sum += cmc
        ap_sum += ap
    scored = nq - skipped
    if skipped:
        logger.info("%s of %s queries have no correct match under protocol %s", skipped, nq, protocol)
    if scored == 0:
        return EvalResult(cmc=np.zeros(ng), mAP=0.0, num_queries=0, num_skipped=skipped)
    return EvalResult(cmc=cmc_sum / scored, mAP=ap_sum / scored, num_queries=scored, num_skipped=skipped)
