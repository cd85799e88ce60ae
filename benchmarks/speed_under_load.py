"""Training speed on a busy CPU: each model and thread setting timed idle and with one core
held busy by another process, side by side in one run.

A laptop is never idle (JupyterLab, a browser, a second kernel). This measures how many
images per second ``fit`` keeps when a busy-loop process (``while True: pass``) holds one
core, for each thread setting of ``DCGAN_THREADS`` (``tf``: TensorFlow's own sizes, the
kit's old behaviour; ``auto``: the kit's default; ``N,M``: N intra-op, M inter-op threads).
Each model compiles its step as ``train --model`` does (``fast``: XLA). Every measurement
runs in a fresh process (thread pools are fixed when TensorFlow starts),
trains on random digits after a warm-up, and the settings take turns in each round, so
drifts of the machine's speed fall on all of them alike.

    python benchmarks/speed_under_load.py                        # ~9 min on 2 cores
    python benchmarks/speed_under_load.py --models fast --seconds 5 --rounds 1   # a minute

``run_benchmarks.py`` puts its table into ``BENCHMARKS.md``. Run it on an otherwise idle
machine: the "idle" rows assume that nothing else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["fast", "fast/no-xla", "tutorial"]  # fast/no-xla: the fast model as trained before
SETTINGS = ["tf", "auto"]  # "tf" first: the old behaviour the others are compared with


def kit_jit(model):
    """``jit_compile`` as ``train --model`` sets it: the model's ``xla`` default, else Keras'
    "auto" (XLA only where a GPU is visible)."""
    import dcgan_lib as dl

    return {"on": True, "off": False}.get(dl.MODELS[model].defaults.get("xla"), "auto")


def child(model, seconds):
    """In a fresh process: images/s of ``fit`` for ``model`` over about ``seconds``
    (``fast/no-xla``: the fast model without XLA, as the kit trained it before)."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import dcgan_lib as dl

    model, _, no_xla = model.partition("/")
    gan = dl.make_gan(model, seed=0, jit_compile=False if no_xla else kit_jit(model))
    batch = dl.MODELS[model].defaults["batch_size"]
    digits = np.random.default_rng(0).integers(0, 256, (batch * 50, 28, 28), dtype=np.uint8)
    data = dl.resumable_dataset(digits, batch, seed=0)
    gan.fit(data, epochs=1, steps_per_epoch=10, verbose=0, shuffle=False)  # trace, warm up
    clock = dl.TimeBudget(seconds)
    start = int(gan.g_optimizer.iterations)
    gan.fit(data, epochs=10**6, steps_per_epoch=5, callbacks=[clock], verbose=0, shuffle=False)
    return (int(gan.g_optimizer.iterations) - start) * batch / clock.used


def measure(model, setting, seconds, **env):
    """images/s of one fresh process with ``DCGAN_THREADS=setting`` (and ``env``)."""
    env = dict(os.environ, DCGAN_THREADS=setting, **env)
    out = subprocess.run(
        [sys.executable, __file__, "--child", model, str(seconds)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"{model} with DCGAN_THREADS={setting} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def busy_core():
    """A process that keeps one core busy until it is killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def run(models, settings, seconds, rounds, log=print):
    """Rows {model, setting, threads, idle, busy, avx2 (lists of images/s)}; each round times
    every (model, setting) idle, then all of them under load, then the last setting idle with
    oneDNN capped to AVX2 (``ONEDNN_MAX_CPU_ISA=AVX2``, most laptops' instruction set)."""
    sys.path.insert(0, str(ROOT))
    from dcgan_lib._startup import thread_counts

    rows = {
        (m, s): {
            "model": m,
            "setting": s,
            "threads": thread_counts(s),
            "idle": [],
            "busy": [],
            "avx2": [],
        }
        for m in models
        for s in settings
    }
    for r in range(rounds):
        for load in ("idle", "busy", "avx2"):
            hog = busy_core() if load == "busy" else None
            capped = {"ONEDNN_MAX_CPU_ISA": "AVX2"} if load == "avx2" else {}
            try:
                time.sleep(0.5 if hog else 0)
                order = list(rows) if r % 2 == 0 else list(reversed(rows))
                for key in order:
                    if load == "avx2" and key[1] != settings[-1]:
                        continue
                    rate = measure(*key, seconds, **capped)
                    rows[key][load].append(rate)
                    log(f"under load: round {r + 1} {load:4s} {key[0]:9s} {key[1]:5s} {rate:6.0f}")
            finally:
                if hog:
                    hog.kill()
                    hog.wait()
    return list(rows.values())


def table(rows):
    """A Markdown table of ``run``'s rows: medians and the share kept under load."""
    lines = [
        "| model | DCGAN_THREADS | intra, inter threads | idle images/s | one core busy "
        "| kept under load | idle, oneDNN capped to AVX2 | rounds (idle / busy) |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        idle, busy = statistics.median(row["idle"]), statistics.median(row["busy"])
        threads = (
            "TensorFlow's own" if row["threads"] == (0, 0) else "{}, {}".format(*row["threads"])
        )
        capped = f"{statistics.median(row['avx2']):.0f}" if row["avx2"] else ""
        spread = " / ".join(", ".join(f"{v:.0f}" for v in row[k]) for k in ("idle", "busy"))
        lines.append(
            f"| {row['model']} | `{row['setting']}` | {threads} | {idle:.0f} | {busy:.0f} "
            f"| {busy / idle:.0%} | {capped} | {spread} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--settings", nargs="+", default=SETTINGS, help="DCGAN_THREADS values")
    parser.add_argument("--seconds", type=float, default=12, help="timed seconds per process")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)  # (model, seconds)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], float(args.child[1]))))
        return
    rows = run(args.models.split(","), args.settings, args.seconds, args.rounds)
    print(table(rows))


if __name__ == "__main__":
    main()
