"""The simulated investigator: what searching with a subject's confirmed sightings gains.

Every query starts a subject. Each round the investigator looks at the ``look`` best not-yet-judged
items of each lane's current ranking (appearance lane first; an item already judged in this round
is skipped), confirms up to ``confirm`` of the subject's true sightings (same identity, whatever the
clothes) and rejects up to ``reject`` others, per lane. The subject is then searched as the product
does (:mod:`reid_engine.index.subject`): the query and every confirmed sighting, grouped into
outfits by their appearance vectors, one query per outfit and lane, rankings fused, rejected
sightings as negatives. The single-query search is the same code with the query alone and no
negatives.

Scoring is fair to the single query: every judged item leaves the gallery of **both** rankings of
that round, and each ranking is scored by :func:`reid_engine.eval.metrics.evaluate` under the
clothes-changing protocol relative to the original query (a true match is its identity in other
clothes; its identity in its clothes, or seen by its camera, is left out). A query with no such
match left in the gallery is skipped for both. Scored are each lane's ranking and ``both``, the
reciprocal-rank fusion of the two lanes with the usual constant (:data:`LANES_RRF_K`), fixed so that
the subject settings only change how each lane is searched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reid_engine.eval.extract import Features
from reid_engine.eval.metrics import evaluate
from reid_engine.index.subject import SubjectQueryConfig, fuse, outfit_queries, outfits, push_down_negatives

LANES = ("appearance", "identity")
RANKINGS = ("appearance", "identity", "both")
METHODS = ("single", "subject")
LANES_RRF_K = 60
"""The constant of the reciprocal-rank fusion of the two lanes' rankings into ``both``."""
VERSION = 1
"""Changes whenever the simulation or its scoring does: cached results name it."""


@dataclass(frozen=True, kw_only=True)
class InvestigatorConfig:
    """How the simulated investigator judges hits.

    Attributes:
        look: items of each lane's ranking looked at per round (the best not yet judged).
        confirm: true sightings confirmed per lane and round, at most.
        reject: false hits rejected per lane and round, at most.
        rounds: rounds of judging; round 0 (nothing judged) is scored too.
    """

    look: int = 10
    confirm: int = 3
    reject: int = 3
    rounds: int = 3

    def __post_init__(self) -> None:
        if self.look < 1 or self.confirm < 0 or self.reject < 0 or self.rounds < 0:
            raise ValueError("look must be >= 1; confirm, reject and rounds >= 0")


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def lane_order(positives: np.ndarray, appearance: np.ndarray, gallery: np.ndarray,
               negatives: np.ndarray, config: SubjectQueryConfig,
               items: np.ndarray | None = None) -> np.ndarray:
    """A subject's full ranking of gallery items in one lane, best first.

    Args:
        positives: float (P, D), the lane's vectors of the confirmed sightings (query included), P >= 1.
        appearance: float (P, Da), their appearance vectors, which define the outfits.
        gallery: float (G, D), the lane's vectors, unit length.
        negatives: float (R, D), the lane's vectors of the rejected sightings (R may be 0).
        config: outfits, fusion and negatives.
        items: the rows of ``gallery`` to rank (default all).

    Returns:
        int64, a permutation of ``items``: the fused ``config.candidates`` of each outfit query with
        the negatives' look-alikes pushed down, then the rest by their best cosine to any outfit
        query (the order the index would continue in).
    """
    items = np.arange(len(gallery)) if items is None else np.asarray(items, np.int64)
    if len(items) == 0:
        return np.zeros(0, np.int64)
    queries = outfit_queries(positives, outfits(appearance, config.outfit_threshold))
    sims = (queries @ gallery.T)[:, items]
    n = min(config.candidates, len(items))
    rankings = []
    for row in sims:
        top = np.argsort(-row, kind="stable")[:n]
        rankings.append(list(zip(top.tolist(), row[top].tolist(), strict=True)))
    ranked = [item for item, _ in fuse(rankings, method=config.fusion, rrf_k=config.rrf_k)]
    ranked, _ = push_down_negatives(ranked, gallery[items[ranked]], positives, negatives,
                                    margin=config.negative_margin, floor=config.negative_floor)
    rest = np.ones(len(items), bool)
    rest[ranked] = False
    tail = np.flatnonzero(rest)
    tail = tail[np.argsort(-sims.max(axis=0)[tail], kind="stable")]
    return items[np.concatenate([np.asarray(ranked, np.int64), tail])]


def fuse_lanes(orders: list[np.ndarray], rrf_k: int) -> np.ndarray:
    """Reciprocal-rank fusion of full rankings of the same items (as :func:`fuse` with ``rrf``,
    vectorised): ``Σ 1 / (rrf_k + rank + 1)``, ties to the lower id."""
    ids = np.sort(orders[0])
    score = np.zeros(len(ids))
    for order in orders:
        rank = np.empty(len(order), np.float64)
        rank[np.searchsorted(ids, order)] = np.arange(len(order))
        score += 1.0 / (rrf_k + rank + 1.0)
    return ids[np.lexsort((ids, -score))]


def _judge(g_pids: np.ndarray, pid: int, current: dict[str, np.ndarray], left: np.ndarray,
           confirmed: list[int], rejected: list[int], config: InvestigatorConfig) -> None:
    """One round of judging: the ``look`` best items still in the gallery of each lane's ranking,
    lane by lane; items judged leave ``left``."""
    for lane in LANES:
        yes = no = 0
        for item in current[lane][left[current[lane]]][: config.look].tolist():
            if not left[item]:
                continue  # judged a moment ago in the other lane
            if g_pids[item] == pid and yes < config.confirm:
                confirmed.append(item)
                yes += 1
                left[item] = False
            elif g_pids[item] != pid and no < config.reject:
                rejected.append(item)
                no += 1
                left[item] = False


def _score(f: Features, qi: int, items: np.ndarray, orders: dict[str, dict[str, np.ndarray]],
           tally: _Tally, rnd: int) -> None:
    """Score each ranking of query ``qi`` over the gallery ``items`` under the cc protocol."""
    position = np.empty(len(f.g_pids), np.int64)
    for method in METHODS:
        by_ranking = dict(orders[method])
        by_ranking["both"] = fuse_lanes([by_ranking[lane] for lane in LANES], LANES_RRF_K)
        for ranking, order in by_ranking.items():
            position[order] = np.arange(len(order))
            dist = position[items][None, :].astype(np.float64)
            res = evaluate(dist, f.q_pids[qi : qi + 1], f.g_pids[items], f.q_camids[qi : qi + 1],
                           f.g_camids[items], f.q_clothes[qi : qi + 1], f.g_clothes[items], protocol="cc")
            tally.add((rnd, ranking, method), res.rank(1), res.mAP, res.num_queries == 0)


class _Tally:
    """Sums of Rank-1 and AP per (round, ranking, method)."""

    def __init__(self, rounds: int) -> None:
        self.sums = {(r, k, m): [0.0, 0.0, 0, 0] for r in range(rounds + 1) for k in RANKINGS for m in METHODS}

    def add(self, key: tuple[int, str, str], rank1: float, ap: float, skipped: bool) -> None:
        s = self.sums[key]
        if skipped:
            s[3] += 1
        else:
            s[0] += rank1
            s[1] += ap
            s[2] += 1

    def summary(self, key: tuple[int, str, str]) -> dict[str, float | int]:
        r1, ap, n, skipped = self.sums[key]
        return {"rank1": r1 / n if n else 0.0, "mAP": ap / n if n else 0.0, "num_queries": int(n),
                "num_skipped": int(skipped)}


def simulate(appearance: Features, identity: Features, *, subject: SubjectQueryConfig | None = None,
             investigator: InvestigatorConfig | None = None) -> dict[str, object]:
    """Run the investigator over every query and score each round (see the module docstring).

    Args:
        appearance: both splits in the appearance lane; ``identity``: the same items, same order,
            in the identity lane (the labels are read from ``appearance``).
        subject: how the subject is searched (defaults of :class:`SubjectQueryConfig`).
        investigator: how hits are judged.

    Returns:
        ``{"rounds": [{"round", "confirmed", "confirmed_other_clothes", "rejected", "outfits",
        "scores": {ranking: {method: {rank1, mAP, num_queries, num_skipped}}}}, …]}``; the
        judging counts are means per query, cumulative; Rank-1 and mAP lie in [0, 1].
    """
    subject = subject or SubjectQueryConfig()
    investigator = investigator or InvestigatorConfig()
    f = appearance
    if len(identity.gallery) != len(f.gallery) or len(identity.query) != len(f.query):
        raise ValueError("the two lanes must hold the same items")
    vectors = {"appearance": (_unit(f.query), _unit(f.gallery)),
               "identity": (_unit(identity.query), _unit(identity.gallery))}
    rounds = investigator.rounds
    tally = _Tally(rounds)
    judged_sums = np.zeros((rounds + 1, 4))
    for qi in range(len(f.query)):
        # The single query's ranking is the subject's with one outfit and no negatives; with no
        # judged item it is the plain cosine order, which only loses items as they are judged.
        single = {lane: np.argsort(-(g @ q[qi]), kind="stable") for lane, (q, g) in vectors.items()}
        confirmed: list[int] = []
        rejected: list[int] = []
        left = np.ones(len(f.gallery), bool)
        current = single
        for rnd in range(rounds + 1):
            if rnd > 0:
                _judge(f.g_pids, int(f.q_pids[qi]), current, left, confirmed, rejected, investigator)
            items = np.flatnonzero(left)
            app_pos = np.concatenate([vectors["appearance"][0][qi : qi + 1], vectors["appearance"][1][confirmed]])
            orders: dict[str, dict[str, np.ndarray]] = {"single": {}, "subject": {}}
            for lane, (q, g) in vectors.items():
                orders["single"][lane] = single[lane][left[single[lane]]]
                pos = np.concatenate([q[qi : qi + 1], g[confirmed]])
                orders["subject"][lane] = lane_order(pos, app_pos, g, g[rejected], subject, items)
            current = orders["subject"]
            judged_sums[rnd] += (len(confirmed), int((f.g_clothes[confirmed] != f.q_clothes[qi]).sum()),
                                 len(rejected), len(outfits(app_pos, subject.outfit_threshold)))
            _score(f, qi, items, orders, tally, rnd)
    n = max(len(f.query), 1)
    out_rounds = []
    for rnd in range(rounds + 1):
        c, cc, r, o = (judged_sums[rnd] / n).tolist()
        out_rounds.append({
            "round": rnd, "confirmed": c, "confirmed_other_clothes": cc, "rejected": r, "outfits": o,
            "scores": {k: {m: tally.summary((rnd, k, m)) for m in METHODS} for k in RANKINGS},
        })
    return {"rounds": out_rounds}
