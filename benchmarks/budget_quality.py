"""The command line's quality at a time budget, over seeds: writes section 8 of ``BENCHMARKS.md``.

    python benchmarks/budget_quality.py                      # conditional, 3 and 10 min, 3 seeds
    python benchmarks/budget_quality.py --models fast --budgets 3 --seeds 0

For each model, budget and seed, in a fresh run directory: ``train --model M --seconds S
--seed K``, then ``sample RUN --n 10000`` (a labelled model's samples ask for 0, 1, ..., 9 in
turn), then ``evaluate`` (``run_benchmarks.cli_check``). Each budget is a run of its own, so a
schedule over ``--seconds`` (the labelled model's falling learning rates) runs as a user's would.
Issue 16's targets, median of the seeds: at most 3 x the real-data floor after 3 minutes and 2 x
after 10, all 10 classes. Results go to ``benchmarks/budget_quality.json`` (the runs of models not
run this time are kept) and to the section of ``BENCHMARKS.md`` that starts at ``MARK``
(``run_benchmarks.py`` and ``conclusions.py`` keep it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "## 8. Quality at a time budget, through the command line"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from conclusions import write_section  # noqa: E402  (beside this file)
from run_benchmarks import cli_check  # noqa: E402

import dcgan_lib as dl  # noqa: E402

TARGETS = {3: 3.0, 10: 2.0}  # minutes -> at most this many times the real-data floor


def section(result) -> str:
    floor, rows, cpu = result["floor"], result["runs"], result["machine"]
    lines = [
        MARK,
        "",
        f"`benchmarks/budget_quality.py`, {result['date']}, {result['minutes']:.0f} minutes. "
        f"Each row: `train --model M --seconds S --seed K`, `sample RUN --n {result['samples']}`, "
        "`evaluate`, each budget a run of its own (a schedule over `--seconds` runs as a user's "
        f"would). Median [min–max] over seeds {result['seeds']}. Real-data floor {floor:.3f}. "
        f"Machine: {cpu['cpu']}, {cpu['cores']} cores, oneDNN {cpu['onednn_isa']}.",
        "",
        "| model | budget | steps | Fréchet distance | each seed | x floor | target | classes |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for model in dict.fromkeys(r["model"] for r in rows):
        for minutes in dict.fromkeys(r["minutes"] for r in rows if r["model"] == model):
            runs = [r for r in rows if r["model"] == model and r["minutes"] == minutes]
            fids = [r["fid"] for r in runs]
            fid, steps = statistics.median(fids), statistics.median(r["steps"] for r in runs)
            target = f"≤ {TARGETS[minutes]:g} x" if minutes in TARGETS else ""
            classes = min(r["classes"] for r in runs)
            each = ", ".join(f"{f:.2f}" for f in fids)
            lines.append(
                f"| {model} | {minutes:g} min | {steps:.0f} | {fid:.2f} [{min(fids):.2f}–"
                f"{max(fids):.2f}] | {each} | {fid / floor:.2f} | {target} | {classes}/10 |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="conditional")
    parser.add_argument("--budgets", default="3,10", help="minutes of training, one run each")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--g-learning-rate", help="passed to train (the table says so)")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "budget_quality.json"))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks that it runs")
    args = parser.parse_args(argv)
    budgets = [float(b) for b in args.budgets.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    images, samples = (2_000, 1_000) if args.smoke else (None, args.samples)
    start = time.perf_counter()
    log = lambda text: print(f"[{time.perf_counter() - start:6.0f} s] {text}", flush=True)  # noqa: E731
    runs, options = [], ["--g-learning-rate", args.g_learning_rate] if args.g_learning_rate else []
    for name in args.models.split(","):
        model = name + (f" (G at {args.g_learning_rate})" if options else "")
        for minutes in budgets:
            for seed in seeds:
                seconds = 1 if args.smoke else minutes * 60
                got = cli_check(
                    seconds, samples, images, log, model=name, seed=seed, options=options
                )
                runs.append(dict(model=model, minutes=minutes, seed=seed, **got))
    old = json.loads(Path(args.json).read_text()) if Path(args.json).exists() else {}
    now = {r["model"] for r in runs}  # the other models' runs in --json are kept
    runs = [r for r in old.get("runs", []) if r["model"] not in now] + runs
    result = dict(
        date=time.strftime("%Y-%m-%d"),
        minutes=(time.perf_counter() - start) / 60,
        machine=dl.speed.describe_cpu(),
        seeds=seeds,
        samples=samples,
        floor=dl.real_data_floor(),
        runs=runs,
    )
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    write_section(Path(args.out), section(result), MARK)
    log(f"wrote {args.out} (section 8) and {args.json}")


if __name__ == "__main__":
    main()
