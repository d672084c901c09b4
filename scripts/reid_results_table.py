"""Train and score every method over several seeds, then print the results table (mean ± std).

Each (method, seed) run is one ``reid train`` into ``OUT/<method>/seed<N>`` (skipped when its
``report.json`` exists, so an interrupted sweep resumes), scored under the general, same-clothes and
clothes-changing protocols on the data set's held-out identities. The table is printed as Markdown
and written to ``OUT/results.md`` with the raw numbers in ``OUT/results.json``.

    python scripts/reid_results_table.py --root var/synthcc/images --out runs/table --seeds 0 1 2 \
        [--config reid_engine/configs/sweep.toml] [--set optim.epochs=24 …] [--methods baseline cal ifd …] \
        [--jobs 2]

The default methods are the strong baseline, CAL, each seed method alone and the shipped
combination (CAL + IFD); its module ablations are the "ifd" (without CAL) and "cal" (without IFD)
rows. ``--methods`` also knows finer ablations (``shipped-no-transfer``, ``shipped-no-bias``,
``shipped-no-contrast``: one IFD term switched off), the all-module combination and its
leave-one-out ablations. ``--jobs N`` trains N runs at once, one CPU thread each.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import statistics
import subprocess
import sys
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "reid_engine" / "configs" / "baseline.toml"
COMBINATION = ["cal", "ifd", "mbnet", "pgfl_kd", "mtdf"]
SHIPPED = ["--set", "method.modules=['cal', 'ifd']", "--set", "method.classifier='cosine'"]

METHODS: dict[str, list[str]] = {
    "baseline": [],
    "cal": ["--set", "method.modules=['cal']", "--set", "method.classifier='cosine'"],
    "ifd": ["--set", "method.modules=['ifd']"],
    "mbnet": ["--set", "method.modules=['mbnet']"],
    "pgfl_kd": ["--set", "method.modules=['pgfl_kd']"],
    "mtdf": ["--set", "method.modules=['mtdf']"],
    "shipped": SHIPPED,
    "shipped-no-transfer": [*SHIPPED, "--set", "method.ifd.transfer_weight=0.0"],
    "shipped-no-bias": [*SHIPPED, "--set", "method.ifd.bias_weight=0.0"],
    "shipped-no-contrast": [*SHIPPED, "--set", "method.ifd.contrast_weight=0.0"],
    "combination": ["--set", f"method.modules={COMBINATION!r}", "--set", "method.classifier='cosine'"],
}
DEFAULT_METHODS = ["baseline", "cal", "ifd", "mbnet", "pgfl_kd", "mtdf", "shipped"]
# Ablations: the combination without one module at a time.
for _m in COMBINATION:
    _rest = [x for x in COMBINATION if x != _m]
    METHODS[f"combination-{_m}"] = [
        "--set",
        f"method.modules={_rest!r}",
        "--set",
        "method.classifier='cosine'",
    ]


def run(method: str, seed: int, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    out = args.out / method / f"seed{seed}"
    report = out / "report.json"
    if not report.is_file():
        cmd = [
            sys.executable,
            "-m",
            "reid_engine.cli",
            "train",
            "--config",
            str(args.config),
            "--out",
            str(out),
            "--set",
            f"seed={seed}",
            "--set",
            f"data.root='{args.root}'",
            "--quiet",
        ]
        if args.jobs > 1:
            cmd += ["--set", "threads=1"]
        for override in args.overrides:
            cmd += ["--set", override]
        cmd += METHODS[method]
        if out.exists():
            cmd.append("--resume")
        sys.stderr.write(f"training {method} seed {seed}\n")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    scores: dict[str, dict[str, float]] = json.loads(report.read_text())["scores"]
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, required=True, help="a SynthCC image set")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=DEFAULT_METHODS, choices=list(METHODS))
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once (one CPU thread each)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    # Seed-major order: a partial sweep already has every method on its first seeds.
    jobs = [(m, s) for s in args.seeds for m in args.methods]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        done = dict(zip(jobs, pool.map(lambda job: run(*job, args), jobs), strict=True))
    raw = {m: {s: done[m, s] for s in args.seeds} for m in args.methods}
    cols = [(p, k) for p in ("general", "sc", "cc") for k in ("rank1", "mAP")]
    lines = [
        "| method | " + " | ".join(f"{p} {'R-1' if k == 'rank1' else 'mAP'}" for p, k in cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    for method, by_seed in raw.items():
        cells = []
        for p, k in cols:
            values = [100 * by_seed[s][p][k] for s in args.seeds]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.1f} ± {spread:.1f}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(table + "\n", encoding="utf-8")
    (args.out / "results.json").write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    sys.stdout.write(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
