"""Chapter 6's comparisons over seeds: writes section 7 of ``BENCHMARKS.md``.

    python benchmarks/conclusions.py           # 3 seeds x 6 contenders x 90 s: about 40 minutes
    python benchmarks/conclusions.py --smoke   # tiny budgets: checks that it runs

Each seed trains every one of ``dl.architectures.CONTENDERS`` for the same wall-clock budget
(compiling included) with ``dl.architectures.race``, as the chapter does for seed 0, and scores
10,000 samples (Fréchet distance, artefact score); the fast model is also trained for as many
steps as the ResNet managed. The cost of a step (images/s, memory) of the fast and the ResNet
pair is measured in fresh processes (``measure_training_step``), and the command line trains,
samples and evaluates the ResNet. Everything is written to ``benchmarks/conclusions.json`` and
to the section of ``BENCHMARKS.md`` that starts at ``MARK`` (``run_benchmarks.py`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MARK = "## 7. Chapter 6: the report's conclusions"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import dcgan_lib as dl  # noqa: E402

arch, art = dl.architectures, dl.artefacts
LABELS = {
    "fast": "transposed 4x4 (fast G)",
    "k5": "transposed 5x5 (tutorial's kernel)",
    "resize": "resize + 3x3 convolution",
    "stride1": "+ stride-1 layers (equal parameters)",
    "residual": "+ residual blocks (equal parameters)",
    "resnet": "ResNet G and D",
}


def spread(values, digits=2):
    """'median [min-max]' of the seeds' values."""
    v = np.asarray(values, float)
    return f"{np.median(v):.{digits}f} [{v.min():.{digits}f}–{v.max():.{digits}f}]"


def races(images, seeds, seconds, samples, log, names=tuple(arch.CONTENDERS)):
    rows = []
    for seed in seeds:
        data = dl.resumable_dataset(images, 64, seed=seed)
        for name in names:
            r = arch.race(name, data, seconds=seconds, seed=seed, samples=samples)
            keep = ("seconds", "steps", "images_per_s", "parameters", "fid", "classes", "artefact")
            rows.append(dict(name=name, seed=seed, **{k: r[k] for k in keep}, trace=r["trace"]))
            log(f"seed {seed} {name:<8} {r['steps']:>5} steps, fid {r['fid']:.2f}, "
                f"artefact {r['artefact']:.4f}")  # fmt: skip
            if name == "resnet":
                same = arch.race("fast", data, steps=r["steps"], seed=seed, samples=samples)
                rows.append(dict(name="fast@resnet_steps", seed=seed, steps=same["steps"],
                                 fid=same["fid"], seconds=same["seconds"]))  # fmt: skip
                log(f"seed {seed} fast at {same['steps']} steps: fid {same['fid']:.2f}")
    return rows


def costs(rounds, steps, log):
    out = []
    for round_ in range(rounds):
        for name in ("fast", "resnet"):  # taking turns, each in a fresh process
            cost = arch.measure_training_step(name, steps)
            out.append(dict(name=name, round=round_, **cost))
            log(f"cost {name}: {cost['images_per_s']:.0f} images/s, step {cost['step_mb']:.0f} MiB")
    return out


def section(result):
    floor, seeds, s, cpu = result["floor"], result["seeds"], result["seconds"], result["machine"]
    by = lambda name, key: [r[key] for r in result["races"] if r["name"] == name]  # noqa: E731
    lines = [
        MARK,
        "",
        f"`benchmarks/conclusions.py`, {result['date']}, {len(seeds)} seeds ({seeds}), "
        f"{s:g} s of wall clock per model and seed (XLA compiling included), batch 64, the fast "
        f"settings; {result['samples']:,} samples of the weight average scored. Median [min–max] over the seeds. "
        f"Real-data floor {floor:.3f}; real MNIST's artefact score {result['real_artefact']:.4f}. "
        + "".join(
            f"Re-run on {r['date']}: {', '.join(r['names'])} (`--only`). "
            for r in result.get("reruns", [])
        )  # fmt: skip
        + "The chapter (`notebooks/07_testing_the_conclusions.ipynb`) runs seed 0 of the same. "
        f"Machine: {cpu['cpu']}, {cpu['cores']} cores, oneDNN {cpu['onednn_isa']}.",
        "",
        "| model | parameters G + D | steps | images/s | Fréchet distance | x floor | "
        "artefact score | classes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label in LABELS.items():
        g, d = by(name, "parameters")[0]
        fids = by(name, "fid")
        lines.append(
            f"| {label} | {g:,} + {d:,} | {spread(by(name, 'steps'), 0)} | "
            f"{spread(by(name, 'images_per_s'), 0)} | {spread(fids)} | "
            f"{np.median(fids) / floor:.1f} | {spread(by(name, 'artefact'), 4)} | "
            f"{spread(by(name, 'classes'), 0)} |"
        )
    same = by("fast@resnet_steps", "fid")
    lines += [
        "",
        f"At equal steps (as many as the ResNet took in {s:g} s: {spread(by('resnet', 'steps'), 0)}"
        f"): the fast pair {spread(same)}, the ResNet pair {spread(by('resnet', 'fid'))}.",
        "",
        "Artefact score of G's own samples (1,000, fixed noise) over training, median over the "
        "seeds, at the first and the last record:",
        "",
        "| model | untrained | at the end |",
        "|---|---|---|",
    ]
    for name, label in LABELS.items():
        traces = by(name, "trace")
        first = np.median([t[0][1] for t in traces])
        last = np.median([t[-1][1] for t in traces])
        lines.append(f"| {label} | {first:.4f} | {last:.4f} |")
    lines += [
        "",
        "Cost of a training step, each figure from a fresh process (`measure_training_step`: "
        f"{result['cost_steps']} steps timed after 4 of warm-up, XLA), the two models taking "
        f"turns, {result['rounds']} rounds. Memory: resident memory (MiB) after the warm-up "
        "(weights, optimizer state, compiled code) and its peak while the timed steps ran:",
        "",
        "| model | images/s | before, MiB | peak, MiB | step (peak − before), MiB |",
        "|---|---|---|---|---|",
    ]
    for name in ("fast", "resnet"):
        pick = lambda key, name=name: [c[key] for c in result["costs"] if c["name"] == name]  # noqa: E731
        lines.append(
            f"| {name} | {spread(pick('images_per_s'), 0)} | {spread(pick('before_mb'), 0)} | "
            f"{spread(pick('peak_mb'), 0)} | {spread(pick('step_mb'), 0)} |"
        )
    cli = result.get("cli")
    if cli:
        lines += ["", "The command line:", "", "```", *cli["commands"], "```", "",
                  f"{cli['steps']} steps; `evaluate` printed:", "", "```", *cli["report"].splitlines()[-2:], "```",
                  "", f"Fréchet distance {cli['fid']:.2f} = {cli['fid'] / floor:.1f} x the floor."]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str, mark: str = MARK):
    """Replace BENCHMARKS.md from ``mark`` to the next section (or append the section)."""
    old = path.read_text() if path.exists() else ""
    head = old[: old.index(mark)] if mark in old else old.rstrip("\n") + "\n\n"
    rest = old[old.index(mark) :] if mark in old else ""
    tail = rest[rest.index("\n## ", 1) :] if "\n## " in rest[1:] else ""
    path.write_text(head + text + tail)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--seconds", type=float, default=90, help="wall clock per model")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the cost measurement")
    parser.add_argument("--cost-steps", type=int, default=30)
    parser.add_argument("--cli-seconds", type=float, default=180, help="0 skips the CLI check")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "conclusions.json"))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks that it runs")
    what = (
        "re-run only these contenders and/or 'costs' (comma-separated), keeping the rest of --json"
    )
    parser.add_argument("--only", help=what)
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.samples, args.rounds, args.cost_steps, args.cli_seconds = 1, 50, 1, 1, 1
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.only:
        return rerun(args, seeds)
    start = time.perf_counter()
    log = lambda text: print(f"[{time.perf_counter() - start:6.0f} s] {text}", flush=True)  # noqa: E731
    (x_train, _), _ = dl.load_mnist(verbose=False)
    images = x_train[:2_000] if args.smoke else x_train
    result = dict(
        date=time.strftime("%Y-%m-%d"),
        machine=dl.speed.describe_cpu(),
        seeds=seeds,
        seconds=args.seconds,
        samples=args.samples,
        floor=dl.real_data_floor(),
        real_artefact=float(art.artefact_score(x_train[:10_000]).mean()),
        races=races(images, seeds, args.seconds, args.samples, log),
        rounds=args.rounds,
        cost_steps=args.cost_steps,
        costs=costs(args.rounds, args.cost_steps, log),
    )
    if args.cli_seconds > 0:
        from run_benchmarks import cli_check  # beside this file; it imports this module

        result["cli"] = cli_check(args.cli_seconds, args.samples, None, log, model="resnet")
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    write_section(Path(args.out), section(result))
    log(f"wrote {args.out} (section 7) and {args.json}")


def rerun(args, seeds):
    """Replace the named contenders' races, and with "costs" the cost measurement, in an earlier
    --json (after a fix to one of them)."""
    only = args.only.split(",")
    names = [name for name in only if name != "costs"]
    unknown = set(names) - set(arch.CONTENDERS)
    if unknown:
        raise SystemExit(
            f"unknown contenders {sorted(unknown)}; known: {', '.join(arch.CONTENDERS)}"
        )
    result = json.loads(Path(args.json).read_text())
    if result["seeds"] != seeds or result["seconds"] != args.seconds:
        raise SystemExit(
            f"{args.json} has seeds {result['seeds']}, {result['seconds']} s: use those"
        )
    start = time.perf_counter()
    log = lambda text: print(f"[{time.perf_counter() - start:6.0f} s] {text}", flush=True)  # noqa: E731
    if "costs" in only:
        result.update(rounds=args.rounds, cost_steps=args.cost_steps)
        result["costs"] = costs(args.rounds, args.cost_steps, log)
    if names:
        (x_train, _), _ = dl.load_mnist(verbose=False)
        dropped = set(names) | ({"fast@resnet_steps"} if "resnet" in names else set())
        kept = [r for r in result["races"] if r["name"] not in dropped]
        result["races"] = kept + races(x_train, seeds, args.seconds, args.samples, log, names)
    result.setdefault("reruns", []).append(dict(date=time.strftime("%Y-%m-%d"), names=only))
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    write_section(Path(args.out), section(result))
    log(f"wrote {args.out} (section 7) and {args.json}")


if __name__ == "__main__":
    main()
