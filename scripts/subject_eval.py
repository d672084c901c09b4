"""What "search again with everything confirmed" gains: the simulated investigator on SynthCC.

For every seed a SynthCC image set is generated (almost every identity held out) and embedded in
both search lanes by the embedders ingest uses (``PipelineConfig``: ImageNet MobileNetV2 for the
appearance lane, the shipped ReID model for the identity lane). Every query then starts a subject,
and :func:`reid_engine.eval.investigator.simulate` confirms and rejects hits round by round and
scores the subject's search against the single query's under the clothes-changing protocol, with
everything judged removed from both galleries. Figures are the mean, standard deviation, minimum
and maximum over the seeds.

    python scripts/subject_eval.py [--seeds 201 202 203] [--fusion rrf|max] [--outfit-threshold T]
        [--rrf-k K] [--negative-margin M] [--negative-floor F] [--look 10 --confirm 3 --reject 3 --rounds 3] [--json]
    python scripts/subject_eval.py --tune [--tune-seeds 101 102]    # the grid of subject settings
    python scripts/subject_eval.py --quick --data DIR --json        # tiny sets, for a smoke test

Sets, features and per-seed results are kept under ``--data`` (default ``var/synthcc/subject``) and
reused, so an interrupted run resumes. The ``bar`` of the output says, per round and ranking,
whether the subject beats the single query on Rank-1 and mAP by more than the spread (the larger
standard deviation over seeds of the two).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

# One BLAS thread, set before numpy loads (the engine is imported in the functions below): on a busy
# 2-core machine a threaded matrix product ran ten times slower than one thread.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

if TYPE_CHECKING:
    from reid_engine.eval.investigator import InvestigatorConfig
    from reid_engine.eval.subject_data import SubjectSetSpec
    from reid_engine.index.subject import SubjectQueryConfig


logger = logging.getLogger("subject_eval")

QUICK: dict[str, Any] = {"ids": 8, "outfits": 3, "cameras": 3, "per_visit": 2, "train_fraction": 0.1}
# The tuning grid: one outfit for all sightings (-1), the product default (0.7), one outfit per
# sighting (1.0); reciprocal-rank fusion at two constants and max fusion; negatives at
# the default margin, a stricter one and off (no cosine gap exceeds 2).
GRID_THRESHOLDS = (-1.0, 0.7, 1.0)
GRID_FUSIONS = ("rrf:60", "rrf:10", "max")
GRID_MARGINS = (-0.05, 0.0, 2.0)


def stats(values: list[float]) -> dict[str, float]:
    """Mean, standard deviation (0 for one value), minimum and maximum."""
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}


def summarise(per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """Per round: the judging counts and every score as statistics over seeds, each ranking's gain
    (subject − single) and whether it clears the bar."""
    from reid_engine.eval.investigator import METHODS, RANKINGS

    rounds = []
    for rnd, results in enumerate(zip(*(s["rounds"] for s in per_seed), strict=True)):
        out: dict[str, Any] = {"round": rnd}
        for key in ("confirmed", "confirmed_other_clothes", "rejected", "outfits"):
            out[key] = stats([r[key] for r in results])
        scores: dict[str, Any] = {}
        for ranking in RANKINGS:
            scores[ranking] = {}
            for method in METHODS:
                scores[ranking][method] = {m: stats([r["scores"][ranking][method][m] for r in results])
                                           for m in ("rank1", "mAP")}
                scores[ranking][method]["num_queries"] = stats(
                    [r["scores"][ranking][method]["num_queries"] for r in results])
            gain, bar = {}, {}
            for m in ("rank1", "mAP"):
                sub, one = scores[ranking]["subject"][m], scores[ranking]["single"][m]
                gain[m] = stats([r["scores"][ranking]["subject"][m] - r["scores"][ranking]["single"][m]
                                 for r in results])
                bar[m] = sub["mean"] - one["mean"] > max(sub["std"], one["std"])
            scores[ranking]["gain"] = gain
            scores[ranking]["bar"] = bar
        out["scores"] = scores
        rounds.append(out)
    return {"rounds": rounds}


def seed_result(seed: int, spec: SubjectSetSpec, args: argparse.Namespace, embedders: Any,
                subject: SubjectQueryConfig, investigator: InvestigatorConfig) -> dict[str, Any]:
    """The simulation on one seed's set, from its cache file when the same settings ran before."""
    from reid_engine.eval.investigator import VERSION, simulate
    from reid_engine.eval.subject_data import ensure_set, set_features

    root = ensure_set(args.data, seed, spec)
    settings = {"subject": dataclasses.asdict(subject), "investigator": dataclasses.asdict(investigator),
                "embedders": [e.name for e in embedders], "version": VERSION}
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    cache = root / "results" / f"{key}.json"
    if cache.exists():
        return dict(json.loads(cache.read_text(encoding="utf-8"))["result"])
    appearance, identity = set_features(root, *embedders)
    started = time.perf_counter()
    result = simulate(appearance, identity, subject=subject, investigator=investigator)
    logger.info("seed %s: %s queries in %.1f s", seed, len(appearance.query), time.perf_counter() - started)
    cache.parent.mkdir(exist_ok=True)
    partial = cache.with_suffix(".partial")
    partial.write_text(json.dumps({"settings": settings, "result": result}, sort_keys=True), encoding="utf-8")
    partial.rename(cache)
    return result


def objective(summary: dict[str, Any]) -> float:
    """What tuning maximises: the subject's clothes-changing mAP, mean over rounds 1… and rankings."""
    from reid_engine.eval.investigator import RANKINGS

    values = [r["scores"][k]["subject"]["mAP"]["mean"] for r in summary["rounds"][1:] for k in RANKINGS]
    return statistics.fmean(values) if values else 0.0


def run_tune(args: argparse.Namespace, spec: SubjectSetSpec, embedders: Any,
             investigator: InvestigatorConfig) -> dict[str, Any]:
    """Every setting of the grid on the tuning seeds, best first."""
    from reid_engine.eval.investigator import RANKINGS
    from reid_engine.index.subject import SubjectQueryConfig

    rows: list[dict[str, Any]] = []
    fusions = [(f.split(":")[0], int(f.split(":")[1]) if ":" in f else 60) for f in args.grid_fusions]
    grid = itertools.product(args.grid_thresholds, fusions, args.grid_margins)
    for threshold, (fusion, rrf_k), margin in grid:
        if threshold <= -1.0 and (fusion, rrf_k) != fusions[0]:
            continue  # one outfit, one query a lane: there is nothing to fuse
        subject = SubjectQueryConfig(outfit_threshold=threshold, fusion=fusion,  # type: ignore[arg-type]
                                     rrf_k=rrf_k, negative_margin=margin, negative_floor=args.negative_floor,
                                     candidates=args.candidates)
        summary = summarise([seed_result(s, spec, args, embedders, subject, investigator)
                             for s in args.tune_seeds])
        last = summary["rounds"][-1]["scores"]
        rows.append({"subject": dataclasses.asdict(subject), "objective": objective(summary),
                     "last_round_mAP": {k: last[k]["subject"]["mAP"]["mean"] for k in RANKINGS},
                     "last_round_rank1": {k: last[k]["subject"]["rank1"]["mean"] for k in RANKINGS}})
        logger.info("%s %s", rows[-1]["subject"], round(rows[-1]["objective"], 4))
    rows.sort(key=lambda r: -r["objective"])
    return {"tune_seeds": args.tune_seeds, "investigator": dataclasses.asdict(investigator),
            "set": dataclasses.asdict(spec), "grid": rows}


def table(report: dict[str, Any]) -> str:
    """The per-round figures as Markdown: what was judged (means per query), then CC Rank-1 and mAP
    in %, mean ± std over seeds [min–max], with the subject's gain and whether it clears the bar."""

    def cell(s: dict[str, float], spread: bool = False) -> str:
        text = f"{100 * s['mean']:.1f} ± {100 * s['std']:.1f}"
        return f"{text} [{100 * s['min']:.1f}–{100 * s['max']:.1f}]" if spread else text

    from reid_engine.eval.investigator import RANKINGS

    rounds = report["summary"]["rounds"]
    lines = ["| round | confirmed | of them in other clothes | rejected | outfits |", "|---|---|---|---|---|"]
    lines += [f"| {r['round']} | {r['confirmed']['mean']:.2f} | {r['confirmed_other_clothes']['mean']:.2f} "
              f"| {r['rejected']['mean']:.2f} | {r['outfits']['mean']:.2f} |" for r in rounds]
    lines += ["", "| round | ranking | single R-1 | subject R-1 | single mAP | subject mAP | gain R-1 / mAP | bar |",
              "|---|---|---|---|---|---|---|---|"]
    for r in rounds:
        for k in RANKINGS:
            s = r["scores"][k]
            met = "yes" if s["bar"]["rank1"] and s["bar"]["mAP"] else "no"
            gain = f"{100 * s['gain']['rank1']['mean']:+.1f} / {100 * s['gain']['mAP']['mean']:+.1f}"
            lines.append(f"| {r['round']} | {k} | {cell(s['single']['rank1'], True)} "
                         f"| {cell(s['subject']['rank1'], True)} | {cell(s['single']['mAP'], True)} "
                         f"| {cell(s['subject']['mAP'], True)} | {gain} | {met} |")
    return "\n".join(lines)


def grid_table(tuned: dict[str, Any]) -> str:
    """The tuning grid as Markdown, best first: the objective and the last round's scores in %."""
    lines = ["| outfit threshold | fusion | negatives margin | objective | last round appearance R-1 / mAP "
             "| identity R-1 / mAP | both R-1 / mAP |", "|---|---|---|---|---|---|---|"]
    for row in tuned["grid"]:
        s, r1, ap = row["subject"], row["last_round_rank1"], row["last_round_mAP"]
        fusion = "— (one outfit)" if s["outfit_threshold"] <= -1 else (
            f"rrf, k {s['rrf_k']}" if s["fusion"] == "rrf" else "max")
        margin = "off" if s["negative_margin"] >= 2 else f"{s['negative_margin']:g}"
        cells = [f"{100 * r1[k]:.1f} / {100 * ap[k]:.1f}" for k in ("appearance", "identity", "both")]
        lines.append(f"| {s['outfit_threshold']:g} | {fusion} | {margin} | {100 * row['objective']:.1f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from reid_engine.eval.investigator import InvestigatorConfig
    from reid_engine.eval.subject_data import SubjectSetSpec
    from reid_engine.index.subject import SubjectQueryConfig

    defaults, judge = SubjectQueryConfig(), InvestigatorConfig()
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("var/synthcc/subject"), help="sets and caches")
    ap.add_argument("--seeds", type=int, nargs="+", default=[201, 202, 203], help="report seeds")
    ap.add_argument("--tune-seeds", type=int, nargs="+", default=[101, 102], help="seeds of --tune")
    ap.add_argument("--tune", action="store_true", help="score the grid of subject settings on --tune-seeds")
    ap.add_argument("--grid-thresholds", type=float, nargs="+", default=list(GRID_THRESHOLDS), metavar="T")
    ap.add_argument("--grid-fusions", nargs="+", default=list(GRID_FUSIONS), metavar="rrf:K|max")
    ap.add_argument("--grid-margins", type=float, nargs="+", default=list(GRID_MARGINS), metavar="M")
    ap.add_argument("--quick", action="store_true", help="tiny sets (8 identities, 2 images a visit)")
    ap.add_argument("--ids", type=int, default=SubjectSetSpec.ids, help="identities per set")
    ap.add_argument("--per-visit", type=int, default=SubjectSetSpec.per_visit, help="images per visit")
    ap.add_argument("--fusion", choices=("rrf", "max"), default=defaults.fusion)
    ap.add_argument("--outfit-threshold", type=float, default=defaults.outfit_threshold)
    ap.add_argument("--rrf-k", type=int, default=defaults.rrf_k)
    ap.add_argument("--negative-margin", type=float, default=defaults.negative_margin)
    ap.add_argument("--negative-floor", type=float, default=defaults.negative_floor,
                    help="a candidate is pushed down only when at least this like a rejected sighting")
    ap.add_argument("--candidates", type=int, default=defaults.candidates)
    ap.add_argument("--look", type=int, default=judge.look, help="items of each lane looked at a round")
    ap.add_argument("--confirm", type=int, default=judge.confirm, help="true hits confirmed per lane a round")
    ap.add_argument("--reject", type=int, default=judge.reject, help="false hits rejected per lane a round")
    ap.add_argument("--rounds", type=int, default=judge.rounds)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")
    # Every judged-out query would log its skip once per ranking: the counts are in the output.
    logging.getLogger("reid_engine.eval.metrics").setLevel(logging.WARNING)
    import torch

    from reid_engine.eval.investigator import InvestigatorConfig
    from reid_engine.eval.subject_data import SubjectSetSpec, product_embedders
    from reid_engine.index.subject import SubjectQueryConfig
    from reid_engine.paths import default_data_dir

    torch.set_num_threads(1)
    spec = SubjectSetSpec(**QUICK) if args.quick else dataclasses.replace(SubjectSetSpec(), ids=args.ids, per_visit=args.per_visit)
    args.data.mkdir(parents=True, exist_ok=True)
    try:
        investigator = InvestigatorConfig(look=args.look, confirm=args.confirm, reject=args.reject,
                                          rounds=args.rounds)
        subject = SubjectQueryConfig(outfit_threshold=args.outfit_threshold, fusion=args.fusion,
                                     rrf_k=args.rrf_k, negative_margin=args.negative_margin,
                                     negative_floor=args.negative_floor, candidates=args.candidates)
    except ValueError as exc:
        sys.stderr.write(f"subject_eval: {exc}\n")
        return 2
    embedders = product_embedders(device=args.device, data_dir=default_data_dir())
    if args.tune:
        tuned = run_tune(args, spec, embedders, investigator)
        sys.stdout.write((json.dumps(tuned, sort_keys=True) if args.json else grid_table(tuned)) + "\n")
        return 0
    per_seed = [seed_result(s, spec, args, embedders, subject, investigator) for s in args.seeds]
    report = {"seeds": args.seeds, "set": dataclasses.asdict(spec), "subject": dataclasses.asdict(subject),
              "investigator": dataclasses.asdict(investigator), "embedders": [e.name for e in embedders],
              "per_seed": dict(zip(map(str, args.seeds), per_seed, strict=True)),
              "summary": summarise(per_seed)}
    sys.stdout.write((json.dumps(report, sort_keys=True) if args.json else table(report)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
