"""The command line's quality at a time budget, over seeds: writes section 8 of ``BENCHMARKS.md``.

    python benchmarks/budget_quality.py                      # conditional, 3 and 10 min, 3 seeds
    python benchmarks/budget_quality.py --models fast --g-learning-rates 6e-4,default --resume
    python benchmarks/budget_quality.py --models fast --batch-sizes default,32 --resume
    python benchmarks/budget_quality.py --models fast --half-batch-epochs 0,default --resume
    python benchmarks/budget_quality.py --models fast --rejection on,off --resume
    python benchmarks/budget_quality.py --models fast --clusters 50 --resume

For each model, seed, G learning rate, batch size, number of epochs at half the batch and
number of clusters (side by side: each seed runs every variant before the next seed) and
budget: ``train --model M --seconds S --seed K``, then ``sample RUN --n 10000`` (a labelled
model's samples ask for 0, 1, ..., 9 in turn), then ``evaluate``
(``run_benchmarks.cli_check``). By default each budget is a run of its own, so a schedule over
``--seconds`` (the labelled model's falling learning rates) runs as a user's would; with
``--resume`` (models without such a schedule) one run per seed and variant carries on to each
budget in turn, as a user who trains 3 minutes, looks, then trains 7 more. Issue 16's targets,
median of the seeds: at most 3 x the real-data floor after 3 minutes and 2 x after 10, all 10
classes; 5 x after 3 minutes where oneDNN runs AVX2 code (run the script with
``ONEDNN_MAX_CPU_ISA=AVX2`` to stand in for a laptop). Results go to
``benchmarks/budget_quality.json`` (earlier runs are kept; each row names the invocation that
ran it and its machine) and to the section of ``BENCHMARKS.md`` that starts at ``MARK``
(``run_benchmarks.py`` and ``conclusions.py`` keep it). Rows of one invocation (its ``batch``)
were run side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "## 8. Quality at a time budget, through the command line"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from conclusions import write_section  # noqa: E402  (beside this file)
from run_benchmarks import cli_check  # noqa: E402

import dcgan_lib as dl  # noqa: E402

SAMPLED = {"on": "D's rejection sampling", "off": "every image G draws"}  # sample --rejection
TARGETS = {3: 3.0, 10: 2.0}  # minutes -> at most this many times the real-data floor
LAPTOP_TARGETS = {3: 5.0}  # the same where oneDNN runs AVX2 code (capped, or a laptop's CPU)


def machine_of(cpu, cap: str = "") -> str:
    """The machine of a run, in a few words: ``AMD EPYC (AVX2), 2 cores, oneDNN Intel AVX2``,
    from :func:`dl.speed.describe_cpu`; ``cap``, the ``ONEDNN_MAX_CPU_ISA`` it ran under."""
    extensions = ", ".join(cpu.get("extensions", [])) or "no AVX2"
    capped = f" (capped: ONEDNN_MAX_CPU_ISA={cap})" if cap else ""
    return f"{cpu['cpu']} ({extensions}), {cpu['cores']} cores, oneDNN {cpu['onednn_isa']}{capped}"


def targets(machine: str) -> dict:
    """Issue 16's targets for a run on ``machine`` (a :func:`machine_of` string)."""
    return LAPTOP_TARGETS if "oneDNN Intel AVX2" in machine else TARGETS


def section(result) -> str:
    floor, rows = result["floor"], result["runs"]
    lines = [
        MARK,
        "",
        f"`benchmarks/budget_quality.py`, last run {result['date']} ({result['minutes']:.0f} "
        f"minutes). Each row: `train --model M --seconds S --seed K`, `sample RUN --n "
        f"{result['samples']}`, `evaluate`, each budget a run of its own unless marked * (so a "
        "schedule over `--seconds` runs as a user's would). Median [min–max] over seeds "
        f"{sorted({r['seed'] for r in rows})}. Real-data floor {floor:.3f}. Targets (issue 16): "
        "at most 3 x the floor after 3 minutes and 2 x after 10; 5 x after 3 minutes where "
        "oneDNN runs AVX2 code (`ONEDNN_MAX_CPU_ISA=AVX2`, or a CPU without AVX-512). `sample` "
        "keeps every image G draws unless a row names D's rejection sampling "
        "(`sample --rejection on`, issue 16's tenth round).",
        "",
        "| model | budget | steps | Fréchet distance | each seed | x floor | target | classes | run |",
        "|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    resumed = False
    for key in dict.fromkeys((r["model"], r["minutes"], r.get("batch", "earlier")) for r in rows):
        model, minutes, batch = key
        runs = [r for r in rows if (r["model"], r["minutes"], r.get("batch", "earlier")) == key]
        fids = [r["fid"] for r in runs]
        fid, steps = statistics.median(fids), statistics.median(r["steps"] for r in runs)
        goal = targets(runs[0]["machine"]).get(minutes)
        target = f"≤ {goal:g} x" if goal else ""
        classes = min(r["classes"] for r in runs)
        each = ", ".join(f"{f:.2f}" for f in fids)
        carried = any(r.get("resumed") for r in runs)
        resumed |= carried
        lines.append(
            f"| {model} | {minutes:g} min{' *' if carried else ''} | {steps:.0f} | {fid:.2f} "
            f"[{min(fids):.2f}–{max(fids):.2f}] | {each} | {fid / floor:.2f} | {target} | "
            f"{classes}/10 | {batch} |"
        )
    lines.append("")
    lines.append("Rows with the same *run* were measured side by side, in one invocation, on:")
    lines.append("")
    for batch in dict.fromkeys(r.get("batch", "earlier") for r in rows):
        machine = next(r["machine"] for r in rows if r.get("batch", "earlier") == batch)
        lines.append(f"- {batch}: {machine}")
    lines.append("")
    if resumed:
        lines.append("\\* The run of the budget before, carried on (`train` again on its `--out`)")
        lines[-1] += " to this many minutes in all (`--resume`); steps and classes are the run's."
    return "\n".join(lines) + "\n"


def variant(rate: str, size: str, half: str = "default", clusters: str = "default"):
    """A row's label and ``train``'s options: ("G at 1.8e-3, batch 32", [...]); "" for defaults."""
    label, options = [], []
    if rate != "default":
        label, options = [f"G at {rate}"], ["--g-learning-rate", rate]
    if size != "default":
        label, options = label + [f"batch {size}"], options + ["--batch-size", size]
    if half != "default":
        label += [f"half batch for {half} epochs" if half != "0" else "no half batch"]
        options += ["--half-batch-epochs", half]
    if clusters != "default":
        label += [f"{clusters} clusters" if clusters != "0" else "no clusters"]
        options += ["--clusters", clusters]
    return ", ".join(label), options


def clustered(model: str, options) -> bool:
    """Whether ``train --model model *options`` trains on clusters (``--clusters``, else the
    command line's default for the model)."""
    if "--clusters" in options:
        return options[options.index("--clusters") + 1] != "0"
    return bool(dl.runs.COMMAND_LINE.get(model, {}).get("clusters", 0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="conditional")
    parser.add_argument("--budgets", default="3,10", help="minutes of training, one run each")
    parser.add_argument("--seeds", default="0,1,2")
    what = "G's learning rates to run side by side, comma-separated ('default': the model's own)"
    parser.add_argument("--g-learning-rates", default="default", help=what)
    what = "batch sizes to run side by side, comma-separated ('default': the model's own)"
    parser.add_argument("--batch-sizes", default="default", help=what)
    what = "epochs at half the batch size to run side by side, comma-separated (as above)"
    parser.add_argument("--half-batch-epochs", default="default", help=what)
    what = "train's --clusters to run side by side, comma-separated (as above)"
    parser.add_argument("--clusters", default="default", help=what)
    what = "sample's --rejection, comma-separated, each scored on the same runs ('default': "
    what += "sample's own, every image G draws)"
    parser.add_argument("--rejection", default="default", help=what)
    what = "one run per seed and variant, carried on to each budget (not for a rate schedule)"
    parser.add_argument("--resume", action="store_true", help=what)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "budget_quality.json"))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks that it runs")
    args = parser.parse_args(argv)
    budgets = [float(b) for b in args.budgets.split(",")]
    if args.resume and budgets != sorted(set(budgets)):
        parser.error(f"--resume needs rising --budgets, got {args.budgets}")
    seeds = [int(s) for s in args.seeds.split(",")]
    images, samples = (2_000, 1_000) if args.smoke else (None, args.samples)
    start = time.perf_counter()
    log = lambda text: print(f"[{time.perf_counter() - start:6.0f} s] {text}", flush=True)  # noqa: E731
    batch, runs = time.strftime("%Y-%m-%d %H:%M"), []
    machine = machine_of(dl.speed.describe_cpu(), os.environ.get("ONEDNN_MAX_CPU_ISA", ""))
    variants = [  # (label, train's options), run side by side for each seed
        variant(rate, size, half, k)
        for rate in args.g_learning_rates.split(",")
        for size in args.batch_sizes.split(",")
        for half in args.half_batch_epochs.split(",")
        for k in args.clusters.split(",")
    ]
    rejections = args.rejection.split(",")
    samplings = [[] if how == "default" else ["--rejection", how] for how in rejections]
    for name in args.models.split(","):
        if args.resume and "lr_tail" in dl.gan.MODELS[name].defaults:
            parser.error(f"--resume: '{name}' schedules its rates over --seconds; run without it")
        if "on" in rejections and dl.gan.MODELS[name].labelled:
            parser.error(f"--rejection on: '{name}' draws digits on request (sample refuses it)")
        if "on" in rejections and any(clustered(name, o) for _, o in variants):
            parser.error(
                "--rejection on: a run on clusters judges images with them (sample refuses)"
            )
        for seed in seeds:
            for label, options in variants:
                model = f"{name} ({label})" if label else name
                with tempfile.TemporaryDirectory() as tmp:
                    done = 0.0  # minutes trained in this run so far
                    for minutes in budgets:
                        seconds = 1 if args.smoke else (minutes - done) * 60
                        where = dict(
                            seed=seed, options=options, directory=args.resume and f"{tmp}/run"
                        )
                        got = cli_check(seconds, samples, images, log, model=name, **where,
                                        samplings=samplings)  # fmt: skip
                        resumed = args.resume and done > 0
                        for how, score in zip(rejections, got.pop("samplings")):
                            named = f"{model}, {SAMPLED[how]}" if how != "default" else model
                            got.update((k, score[k]) for k in ("report", "fid", "classes", "said"))
                            runs.append(dict(model=named, minutes=minutes, seed=seed, **got,
                                             batch=batch, resumed=resumed, machine=machine))  # fmt: skip
                        done = minutes if args.resume else 0.0
    old = json.loads(Path(args.json).read_text()) if Path(args.json).exists() else {}
    for run in old.get("runs", []):
        run.setdefault("machine", "not recorded")
    runs = old.get("runs", []) + runs  # earlier runs are kept: a row names its invocation
    result = dict(
        date=time.strftime("%Y-%m-%d"),
        minutes=(time.perf_counter() - start) / 60,
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
