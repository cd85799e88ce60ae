"""Speed and quality benchmarks of the course kit; writes ``BENCHMARKS.md``.

One run on one machine measures, side by side:

1. **Throughput** (images/s) of the kit's trainer (``make_gan("tutorial")``
   trained by ``fit``) against a plain re-implementation of the TensorFlow
   DCGAN tutorial's ``train_step`` written in this file, on the same
   architecture, batch and images, in alternating rounds; their ratio.
2. **Speed options** of the kit's trainer for each configuration: float32,
   XLA (``jit_compile=True``), mixed bfloat16 and mixed float16 precision,
   with the arithmetic per epoch of 60,000 images and the rate achieved.
3. **Quality against training time**: each configuration trained with its
   defaults for the wall-clock budgets (1, 3 and 10 minutes by default);
   at each budget 10,000 samples are scored with the kit's metrics
   (Fréchet distance in the course classifier's features, classes covered,
   classifier score); evaluation time is not counted as training time.
4. **The command-line check**: ``python -m dcgan_lib train --model fast
   --seconds 180``, then ``sample --n 10000`` and ``evaluate``.

Figures go to ``BENCHMARKS.md`` and ``benchmarks/quality_vs_time.png``
(``--out`` and ``--plot`` move them). Re-run it whenever a default changes::

    DCGAN_MNIST=../shared/data/mnist.npz python benchmarks/run_benchmarks.py   # ~40 min, 2 cores
    python benchmarks/run_benchmarks.py --smoke --out /tmp/b.md --plot /tmp/b.png  # a minute

``--smoke`` shrinks everything so that a test can check the script runs; its
numbers mean nothing and its report says so.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import numpy as np  # noqa: E402

import dcgan_lib as dl  # noqa: E402  (imports TensorFlow quietly)
from dcgan_lib._startup import import_tensorflow  # noqa: E402

tf = import_tensorflow()
import conclusions  # noqa: E402  (benchmarks/, beside this file)
import keras  # noqa: E402
import speed_under_load  # noqa: E402
from keras import layers  # noqa: E402

EPOCH_IMAGES = 60_000
OPTIONS = {  # name -> make_gan keyword arguments
    "float32": {},
    "XLA": {"jit_compile": True},
    "mixed bfloat16": {"precision": "mixed_bfloat16"},
    "mixed float16": {"precision": "mixed_float16"},
}


# --- the plain tutorial step, written here as the baseline -----------------------


def plain_tutorial_trainer(images, batch_size):
    """The TF DCGAN tutorial's recipe in plain TensorFlow: returns ``rate(steps)``, images/s.

    Its generator and discriminator (LeakyReLU's default slope, dropout 0.3),
    binary cross-entropy on logits, two Adam(1e-4), one ``tf.function`` step
    with two tapes, a ``shuffle(60000).batch(...)`` pipeline.
    """
    generator = keras.Sequential(
        [
            keras.Input((100,)),
            layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, 5, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(
                1, 5, strides=2, padding="same", use_bias=False, activation="tanh"
            ),
        ]
    )
    discriminator = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(64, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Conv2D(128, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    g_opt, d_opt = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
    scaled = (images.reshape(-1, 28, 28, 1).astype("float32") - 127.5) / 127.5
    batches = (
        tf.data.Dataset.from_tensor_slices(scaled)
        .shuffle(EPOCH_IMAGES)
        .batch(batch_size, drop_remainder=True)
        .repeat()
    )
    iterator = iter(batches)

    @tf.function
    def step(real):
        noise = tf.random.normal([batch_size, 100])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            on_real = discriminator(real, training=True)
            on_fake = discriminator(fake, training=True)
            g_loss = loss_fn(tf.ones_like(on_fake), on_fake)
            d_loss = loss_fn(tf.ones_like(on_real), on_real) + loss_fn(
                tf.zeros_like(on_fake), on_fake
            )
        g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        return d_loss

    def rate(steps):
        float(step(next(iterator)))  # one untimed step, as the kit's clock does
        start = time.perf_counter()
        for _ in range(steps):
            loss = step(next(iterator))
        float(loss)  # wait for the last step
        return steps * batch_size / (time.perf_counter() - start)

    return rate


def kit_trainer(images, batch_size, model="tutorial", **options):
    """The kit's trainer as the CLI runs it: ``(rate(steps), gan)``, rate in images/s."""
    gan = dl.make_gan(model, seed=0, **options)
    dataset = dl.resumable_dataset(images, batch_size, seed=0)
    return (lambda steps: dl.images_per_second(gan, dataset, steps, batch_size, warmup=1)), gan


# --- the parts -----------------------------------------------------------------------


def measure_throughput(images, batch_size, steps, rounds, log):
    log(
        f"throughput: kit vs plain tutorial step, batch {batch_size}, {steps} steps x {rounds} rounds"
    )
    keras.utils.set_random_seed(0)
    plain = plain_tutorial_trainer(images, batch_size)
    kit, _ = kit_trainer(images, batch_size)
    plain(2)  # trace and warm up both
    kit(2)
    rates = {"kit": [], "plain": []}
    for r in range(rounds):  # alternate, so drifts hit both alike
        order = (("kit", kit), ("plain", plain)) if r % 2 == 0 else (("plain", plain), ("kit", kit))
        for name, rate in order:
            rates[name].append(rate(steps))
        log(f"  round {r + 1}: kit {rates['kit'][-1]:.0f}/s, plain {rates['plain'][-1]:.0f}/s")
    kit_rate, plain_rate = np.median(rates["kit"]), np.median(rates["plain"])
    paired = np.median([k / p for k, p in zip(rates["kit"], rates["plain"])])
    return {
        "kit": float(kit_rate),
        "plain": float(plain_rate),
        "ratio": float(kit_rate / plain_rate),
        "paired": float(paired),
        "rounds": rates,
        "steps": steps,
        "batch_size": batch_size,
    }


def each_option(images, configs):
    """``(model, option, batch_size, rate, FLOPs per image)`` for each configuration and
    option, with a fresh kit trainer (``rate(steps)`` -> images/s) for each."""
    for model in configs:
        batch_size = dl.MODELS[model].defaults["batch_size"]
        for option, kwargs in OPTIONS.items():
            keras.utils.set_random_seed(0)
            rate, gan = kit_trainer(images, batch_size, model, **kwargs)
            yield (
                model,
                option,
                batch_size,
                rate,
                dl.train_flops_per_image(gan.generator, gan.discriminator),
            )


def measure_options(images, configs, option_images, max_seconds, log):
    """Images/s per configuration and option: ``option_images`` images, or fewer if a
    first measurement shows that they would take over ``max_seconds`` (float16 on a CPU)."""
    rows = []
    for model, option, batch_size, rate, flops in each_option(images, configs):
        first = rate(1)  # traces (and compiles, for XLA) first
        steps = max(2, min(option_images // batch_size, int(max_seconds * first / batch_size)))
        speed = rate(steps)
        epoch_s = EPOCH_IMAGES / speed
        rows.append(
            {
                "model": model,
                "option": option,
                "images_per_s": speed,
                "epoch_s": epoch_s,
                "steps": steps,
                "tflop_epoch": flops * EPOCH_IMAGES / 1e12,
                "gflop_s": flops * speed / 1e9,
            }
        )
        log(
            f"options: {model:9s} {option:15s} {speed:7.0f} images/s over {steps} steps, "
            f"epoch {epoch_s:6.1f} s, {flops * speed / 1e9:6.1f} GFLOP/s"
        )
    return rows


def measure_epochs(images, configs, log):
    """On a GPU: the time of one whole epoch of 60,000 images per configuration and option."""
    rows = []
    for model, option, batch_size, rate, flops in each_option(images, configs):
        rate(5)  # trace, compile, warm up
        steps = len(images) // batch_size
        seconds = steps * batch_size / rate(steps)
        rows.append(
            {
                "model": model,
                "option": option,
                "epoch_s": seconds,
                "tflop_s": flops * steps * batch_size / seconds / 1e12,
            }
        )
        log(f"epoch: {model:9s} {option:15s} {seconds:6.2f} s, {rows[-1]['tflop_s']:.2f} TFLOP/s")
    return rows


def train_through_budgets(gan, images, batch_size, budgets_s, extra_callbacks=None, seed=0):
    """Train ``gan`` up to each of ``budgets_s`` (increasing seconds of training time) and
    yield the seconds used after each, so the caller can score the generator there.

    ``images``: uint8 (N, 28, 28); evaluation between budgets is not counted. A
    segment cut short mid-epoch drops the rest of that epoch's data order: the next
    segment starts a new epoch. ``extra_callbacks(start_s, end_s)`` may return more
    callbacks for a segment. (Shared with ``search_fast_config.py``.)
    """
    steps_per_epoch = len(images) // batch_size
    used, epoch = 0.0, 0
    for budget in budgets_s:
        clock = dl.TimeBudget(budget - used)
        more = list(extra_callbacks(used, budget)) if extra_callbacks else []
        dataset = dl.resumable_dataset(images, batch_size, seed=seed, first_epoch=epoch)
        history = gan.fit(
            dataset,
            epochs=10**9,
            initial_epoch=epoch,
            steps_per_epoch=steps_per_epoch,
            callbacks=[clock, *more],
            verbose=0,
            shuffle=False,
        )
        epoch += len(history.epoch)
        used += clock.used
        yield used


def measure_quality(images, configs, budgets_s, n_samples, log):
    """``configs``: (model, seeds) pairs; one run per seed, scored at each budget."""
    rows = []
    for model, seeds in configs:
        batch_size = dl.MODELS[model].defaults["batch_size"]
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            gan = dl.make_gan(model, seed=seed, jit_compile=speed_under_load.kit_jit(model))
            for budget, used in zip(
                budgets_s, train_through_budgets(gan, images, batch_size, budgets_s, seed=seed)
            ):
                samples = dl.generate_images(gan.sampling_generator, n_samples, seed=1)
                result = dl.evaluate_images(samples)
                steps = int(gan.g_optimizer.iterations)
                rows.append(
                    {
                        "model": model,
                        "seed": seed,
                        "budget_s": budget,
                        "train_s": used,
                        "steps": steps,
                        "images_seen": steps * batch_size,
                        "fid": result["fid"],
                        "classes": result["classes_covered"],
                        "score": result["classifier_score"],
                        "samples": samples[:64],
                    }
                )
                log(
                    f"quality: {model:9s} seed {seed} {used:6.0f} s, {steps:6d} steps, "
                    f"fid {result['fid']:7.2f}, {result['classes_covered']}/10 classes, "
                    f"score {result['classifier_score']:.2f}"
                )
    return rows


def by_budget(quality):
    """One summary per (model, budget) over the seeds: medians, and each seed's distance."""
    groups = {}
    for r in quality:
        groups.setdefault((r["model"], r["budget_s"]), []).append(r)
    summary = []
    for (model, budget), rows in groups.items():
        med = lambda key, rows=rows: float(np.median([r[key] for r in rows]))  # noqa: E731
        summary.append(
            {
                "model": model,
                "budget_s": budget,
                "train_s": med("train_s"),
                "steps": int(med("steps")),
                "images_seen": int(med("images_seen")),
                "fid": med("fid"),
                "fids": [r["fid"] for r in rows],
                "classes": min(r["classes"] for r in rows),
                "score": med("score"),
            }
        )
    return summary


def dense_comparison(images, seeds, loop_s, fit_s, n_samples, log):
    """Chapter 1's dense GAN two ways, per seed: the slides' loop (``train_on_batch``, Keras'
    ``Adam()``, batch 128) for ``loop_s`` seconds, and ``make_gan("dense")`` trained by ``fit``
    (what ``train --model dense`` runs) for ``fit_s``; Fréchet distance of each."""
    rows = []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        generator, discriminator = dl.build_dense_generator(), dl.build_dense_discriminator()
        combined = dl.compile_gan(generator, discriminator)
        history = dl.train_with_train_on_batch(
            generator, discriminator, combined, dl.to_model_range(images), iterations=10**9,
            seconds=loop_s,
            seed=seed, verbose=False, report_every=10**9,
        )  # fmt: skip
        loop_fid = dl.evaluate_images(dl.generate_images(generator, n_samples, seed=1))["fid"]
        keras.utils.set_random_seed(seed)
        gan = dl.make_gan("dense", seed=seed, jit_compile=speed_under_load.kit_jit("dense"))
        batch_size = dl.MODELS["dense"].defaults["batch_size"]
        (fit_used,) = train_through_budgets(gan, images, batch_size, [fit_s], seed=seed)
        result = dl.evaluate_images(dl.generate_images(gan.sampling_generator, n_samples, seed=1))
        rows.append(
            {
                "seed": seed,
                "loop_steps": history["iteration"][-1],
                "loop_fid": loop_fid,
                "fit_steps": int(gan.g_optimizer.iterations),
                "fit_fid": result["fid"],
            }
        )
        log(f"dense: seed {seed}: {rows[-1]}")
    return rows


def cli_check(seconds, n_samples, images, log, model="fast", seed=0, options=(), directory=None,
              samplings=((),)):  # fmt: skip
    """Train ``model`` (``seed``; more ``train`` ``options``), sample and evaluate with the
    command line, as a user would. ``directory``: the run's folder, kept (``train`` carries on
    the run it holds); by default a temporary one. ``samplings``: ``sample``'s options, each
    sampled and evaluated from the one trained run (the result: the first's; all of them in
    ``samplings``)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = str(directory or f"{tmp}/run")
        train = [
            sys.executable,
            "-m",
            "dcgan_lib",
            "train",
            "--model",
            model,
            "--seconds",
            f"{seconds:g}",
            "--out",
            run_dir,
        ]
        train += ["--images", str(images)] if images else []
        train += (["--seed", str(seed)] if seed else []) + list(options)
        commands = [train]
        for i, how in enumerate(samplings):
            file = f"{tmp}/samples{i or ''}.npz"
            commands.append([*train[:3], "sample", run_dir, "--n", str(n_samples), "--out", file])
            commands[-1] += list(how)
            commands.append([sys.executable, "-m", "dcgan_lib", "evaluate", file])
        outputs = []
        for command in commands:
            log("cli: " + " ".join(command[1:]).replace(run_dir, "RUN").replace(tmp, "TMP"))
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            outputs.append(done.stdout.strip())
        run = json.loads(Path(f"{run_dir}/run.json").read_text())
    scores = []
    for how, sampled, report in zip(samplings, outputs[1::2], outputs[2::2]):
        last = next(line for line in report.splitlines() if "fid=" in line)  # a labelled model's
        fid = float(re.search(r"fid=([\d.]+)", last).group(1))  # "read as asked" line follows it
        classes = int(re.search(r"classes=(\d+)/", last).group(1))
        scores.append(
            dict(options=list(how), said=sampled, report=report, fid=fid, classes=classes)
        )
        log(f"cli: {last}")
    session = run["sessions"][-1]
    shown = lambda c: "python -m " + " ".join(c).replace(run_dir, "run").replace(tmp + "/", "")  # noqa: E731
    return {
        "commands": [shown(c[2:]) for c in commands],
        "report": scores[0]["report"],
        "fid": scores[0]["fid"],
        "classes": scores[0]["classes"],
        "train_s": session["train_seconds"],
        "steps": session["end_step"],
        "samplings": scores,
    }


# --- the report --------------------------------------------------------------------


def machine():
    info = dl.speed.describe_cpu()
    return {
        **info,
        "isa_cap": os.environ.get("ONEDNN_MAX_CPU_ISA", ""),
        "threads_setting": os.environ.get("DCGAN_THREADS", "") or "auto",
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "os": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "dcgan_lib": dl.__version__,
    }


def plot(quality, floor, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for model in dict.fromkeys(r["model"] for r in quality):
        rows = [r for r in by_budget(quality) if r["model"] == model]
        line = ax.plot([r["train_s"] / 60 for r in rows], [r["fid"] for r in rows], "o-")[0]
        line.set_label(f"{model} (median of {len(rows[0]['fids'])} seeds)")
        seeds = [(r["train_s"] / 60, r["fid"]) for r in quality if r["model"] == model]
        ax.plot(*zip(*seeds), ".", color=line.get_color(), alpha=0.5)
    ax.axhline(floor, color="grey", ls=":", label=f"real-data floor ({floor:.2f})")
    for times, style in ((2, "--"), (3, "-.")):
        ax.axhline(times * floor, color="grey", ls=style, label=f"{times} x floor")
    ax.set(
        xlabel="training time (minutes)",
        ylabel="Fréchet distance (classifier features)",
        yscale="log",
        title="Sample quality against training time",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sample_grid(quality, path):
    """36 samples per configuration (rows) and budget (columns)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quality = [r for r in quality if r["seed"] == quality[0]["seed"]]  # the first seed's runs
    models = list(dict.fromkeys(r["model"] for r in quality))
    budgets = list(dict.fromkeys(r["budget_s"] for r in quality))
    fig, axes = plt.subplots(
        len(models), len(budgets), squeeze=False, figsize=(2.6 * len(budgets), 2.8 * len(models))
    )
    for row in quality:
        ax = axes[models.index(row["model"])][budgets.index(row["budget_s"])]
        ax.imshow(
            dl.plotting.image_grid(row["samples"], nrows=6, ncols=6), cmap="gray", vmin=0, vmax=255
        )
        ax.set_title(
            f"{row['model']}, {row['train_s'] / 60:.1f} min: fid {row['fid']:.1f}", fontsize=8
        )
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(args, info, throughput, options, epochs, load, quality, floor, dense, cli, minutes):
    plot_path, grid_path = args.plot, args.grid
    rel = lambda p: os.path.relpath(p, Path(args.out).resolve().parent)  # noqa: E731
    lines = ["# Benchmarks", ""]
    if args.smoke:
        lines += [
            "**Smoke run**: everything shrunk so that a test can check the script runs. "
            "These numbers mean nothing.",
            "",
        ]
    lines += [
        f"Written by `benchmarks/run_benchmarks.py` on {datetime.date.today()} in "
        f"{minutes:.0f} minutes. Re-run it whenever a default changes:",
        "",
        "```",
        " ".join(["python benchmarks/run_benchmarks.py", *sys.argv[1:]]),
        "```",
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores usable; vector extensions: "
        f"{', '.join(info['extensions']) or 'none of AVX2, AVX-512, AVX512-BF16, AMX'}; "
        f"oneDNN dispatches to: {info['onednn_isa']}"
        + (f" (capped by ONEDNN_MAX_CPU_ISA={info['isa_cap']})" if info["isa_cap"] else ""),
        f"- TensorFlow threads: {info['threads'][0]} intra-op, {info['threads'][1]} inter-op "
        f"(`DCGAN_THREADS={info['threads_setting']}`)",
        f"- GPU: {', '.join(info['gpus']) or 'none'}",
        f"- {info['os']}; Python {info['python']}, TensorFlow {info['tensorflow']}, "
        f"Keras {info['keras']}, NumPy {info['numpy']}, dcgan_lib {info['dcgan_lib']}",
        "",
    ]
    t = throughput
    lines += [
        "## 1. The kit's trainer against the tutorial's own step",
        "",
        f"The tutorial architecture, batch {t['batch_size']}, {t['steps']} steps a round, "
        f"the two trainers alternating for {len(t['rounds']['kit'])} rounds (ABBA order); "
        "each round times its steps after one untimed step (for the kit, inside one `fit` "
        "call, as in a long run); medians. The plain step is written in the script: the "
        "tutorial's models, `tf.random.normal` noise, `shuffle(60000).batch(256)`.",
        "",
        "| trainer | images/s | rounds |",
        "|---|---:|---|",
        f'| kit: `make_gan("tutorial")` + `fit` | {t["kit"]:.0f} | '
        + ", ".join(f"{v:.0f}" for v in t["rounds"]["kit"])
        + " |",
        f"| plain tutorial `train_step` (in the script) | {t['plain']:.0f} | "
        + ", ".join(f"{v:.0f}" for v in t["rounds"]["plain"])
        + " |",
        "",
        f"**Ratio kit / plain: {t['ratio']:.2f}** (ratio of the medians; the median of the "
        f"rounds' own ratios is {t['paired']:.2f}).",
        "",
    ]
    lines += [
        "## 2. Speed options",
        "",
        "Images per second of the kit's trainer with each option, timed over "
        f"{args.option_images:,} images after a warm-up (fewer where one step showed that "
        f"they would take over {args.option_seconds:g} s: the steps column says how many); "
        "epoch time is 60,000 images at that rate. FLOP counts are "
        "`dl.train_flops_per_image` (Appendix A): the dense and convolution layers' "
        "multiply-adds x 2 through the forward pass and the three backward ones.",
        "",
        "| model | option | steps timed | images/s | s / epoch | TFLOP / epoch | GFLOP/s achieved |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in options:
        lines.append(
            f"| {r['model']} | {r['option']} | {r['steps']} | {r['images_per_s']:.0f} | {r['epoch_s']:.1f} "
            f"| {r['tflop_epoch']:.2f} | {r['gflop_s']:.1f} |"
        )
    if epochs:
        peak = args.peak_tflops
        lines += [
            "",
            f"### Whole epochs on the GPU ({', '.join(info['gpus'])})",
            "",
            "One timed epoch of 60,000 images after a warm-up"
            + (f"; peak taken as {peak:g} TFLOP/s (`--peak-tflops`)" if peak else "")
            + ".",
            "",
            "| model | option | s / epoch | TFLOP/s achieved |" + (" % of peak |" if peak else ""),
            "|---|---|---:|---:|" + ("---:|" if peak else ""),
        ]
        for r in epochs:
            lines.append(
                f"| {r['model']} | {r['option']} | {r['epoch_s']:.2f} | {r['tflop_s']:.2f} |"
                + (f" {100 * r['tflop_s'] / peak:.1f} |" if peak else "")
            )
    else:
        lines += [
            "",
            "No GPU was visible in this run, so these are CPU figures and no GPU epoch was "
            "timed. Run the script on a GPU machine: it then also times one whole epoch of "
            "60,000 images per configuration and option, and (with `--peak-tflops`) says how "
            "far that is from the GPU's arithmetic peak.",
        ]
    if load:
        lines += [
            "",
            "## 3. Speed under load",
            "",
            f"`benchmarks/speed_under_load.py`: images per second of `fit`, each figure a fresh "
            f"process timed for {args.load_seconds:g} s after a warm-up, on random digits; "
            f"idle, then with a busy-loop process (`while True: pass`) holding one core; "
            f"{args.load_rounds} rounds, the settings taking turns; medians. `tf` is "
            "TensorFlow's own thread pools (the kit's behaviour before `DCGAN_THREADS`), "
            "`auto` the kit's default now.",
            "",
            speed_under_load.table(load),
        ]
    lines += [
        "",
        "## 4. Sample quality against training time",
        "",
        f"Each configuration trained with its defaults (`dcgan_lib.MODELS[name].defaults`, "
        f"XLA where they say so, as `train` does), "
        f"once per seed (weights, noise and data order), for budgets of "
        f"{', '.join(f'{b / 60:g}' for b in args.budgets_s)} minutes of training time (one run "
        f"per seed, scored as it passes each budget); at each budget {args.samples:,} samples "
        f"from the generator the kit samples from (the weight average where there is one) are "
        f"scored against the MNIST test set. Medians over the seeds; steps and images are what "
        f"this machine trained in that time. Real-data floor (10,000 training digits against "
        f"the test set): **{floor:.3f}**.",
        "",
        "| model | budget (min) | training s | steps | images seen | Fréchet distance "
        "| each seed | x floor | classes (fewest) | classifier score |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in by_budget(quality):
        lines.append(
            f"| {r['model']} | {r['budget_s'] / 60:g} | {r['train_s']:.0f} | {r['steps']} "
            f"| {r['images_seen']:,} | {r['fid']:.2f} | {', '.join(f'{v:.2f}' for v in r['fids'])} "
            f"| {r['fid'] / floor:.1f} | {r['classes']}/10 | {r['score']:.2f} |"
        )
    lines += [
        "",
        f"![quality against time]({rel(plot_path)})",
        "",
        f"![samples]({rel(grid_path)})",
        "",
    ]
    if dense:
        loop, fit = [r["loop_fid"] for r in dense], [r["fit_fid"] for r in dense]
        lines += [
            "## 5. The dense model: the slides' loop against `train --model dense`",
            "",
            f"Chapter 1's dense G and D, per seed: the slides' loop (`compile_gan`, Keras' "
            f"`Adam()`, `train_on_batch`, batch 128) for {args.dense_loop_seconds:g} s, and "
            f'`make_gan("dense")` trained by `fit` with its defaults (what `train --model '
            f"dense` runs) for {args.dense_fit_seconds:g} s; {args.samples:,} samples of each "
            f"scored as above.",
            "",
            "| seed | loop steps | loop Fréchet | fit steps | fit Fréchet |",
            "|---:|---:|---:|---:|---:|",
            *(
                f"| {r['seed']} | {r['loop_steps']} | {r['loop_fid']:.1f} | {r['fit_steps']} "
                f"| {r['fit_fid']:.1f} |"
                for r in dense
            ),
            f"| median | | {np.median(loop):.1f} | | {np.median(fit):.1f} |",
            "",
        ]
    if cli:
        lines += (
            ["## 6. The command line", "", "```"]
            + cli["commands"]
            + [
                "```",
                "",
                f"{cli['steps']} steps in {cli['train_s']:.0f} s of training; `evaluate` printed:",
                "",
                "```",
                cli["report"],
                "```",
                "",
                f"Fréchet distance {cli['fid']:.2f} = {cli['fid'] / floor:.1f} x the floor, "
                f"{cli['classes']}/10 classes.",
                "",
            ]
        )
    old = Path(args.out).read_text() if Path(args.out).exists() else ""
    if conclusions.MARK in old:  # section 7 comes from benchmarks/conclusions.py: kept
        lines += ["", old[old.index(conclusions.MARK) :].rstrip("\n")]
    Path(args.out).write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"), help="the report")
    parser.add_argument("--plot", default=str(ROOT / "benchmarks" / "quality_vs_time.png"))
    parser.add_argument("--grid", default=str(ROOT / "benchmarks" / "samples_by_budget.png"))
    parser.add_argument("--configs", default="tutorial,fast", help="models for speed")
    parser.add_argument("--quality", default="fast:3", help="model:seeds trained for quality")
    parser.add_argument("--load-seconds", type=float, default=10, help="0 skips speed under load")
    parser.add_argument("--load-rounds", type=int, default=2)
    parser.add_argument("--dense-seeds", type=int, default=3, help="0 skips the dense comparison")
    parser.add_argument("--dense-loop-seconds", type=float, default=120)
    parser.add_argument("--dense-fit-seconds", type=float, default=60)
    parser.add_argument("--budgets", default="1,3,10", help="training minutes to score at")
    parser.add_argument("--samples", type=int, default=10_000, help="samples scored per budget")
    parser.add_argument("--throughput-steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--option-images", type=int, default=8_192, help="images timed per option")
    parser.add_argument("--option-seconds", type=float, default=20, help="at most about this long")
    parser.add_argument("--cli-seconds", type=float, default=180, help="0 skips the CLI check")
    parser.add_argument("--peak-tflops", type=float, help="the GPU's peak TFLOP/s, to compare with")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.budgets, args.samples, args.throughput_steps, args.rounds = "0.05,0.1", 500, 1, 2
        args.option_images, args.option_seconds, args.cli_seconds = 128, 1, 3
        args.quality, args.load_seconds, args.load_rounds = "fast:1", 1, 1
        args.dense_seeds, args.dense_loop_seconds, args.dense_fit_seconds = 1, 2, 2
    args.budgets_s = [float(b) * 60 for b in args.budgets.split(",")]
    configs = args.configs.split(",")
    quality_runs = [
        (m, range(int(n))) for m, _, n in (q.partition(":") for q in args.quality.split(","))
    ]
    unknown = [c for c in configs + [m for m, _ in quality_runs] if c not in dl.MODELS]
    if unknown:
        parser.error(f"unknown --configs {unknown}; known: {', '.join(dl.MODELS)}")

    start = time.perf_counter()
    log = lambda text: print(f"[{time.perf_counter() - start:6.0f} s] {text}", flush=True)  # noqa: E731
    (x_train, _), _ = dl.load_mnist(verbose=False)
    images = x_train[:5_000] if args.smoke else x_train
    info = machine()
    log(f"machine: {info}")
    throughput = measure_throughput(images, 256, args.throughput_steps, args.rounds, log)
    # float16 on a CPU takes seconds a step: the smoke run times the options of one small model
    option_configs = [c for c in configs if c == "fast"] or configs[:1] if args.smoke else configs
    options = measure_options(images, option_configs, args.option_images, args.option_seconds, log)
    epochs = measure_epochs(images, configs, log) if info["gpus"] and not args.smoke else []
    load = (
        speed_under_load.run(
            option_configs if args.smoke else speed_under_load.MODELS,
            speed_under_load.SETTINGS[-1:] if args.smoke else speed_under_load.SETTINGS,
            args.load_seconds,
            args.load_rounds,
            log,
        )
        if args.load_seconds > 0
        else None
    )
    quality = measure_quality(images, quality_runs, args.budgets_s, args.samples, log)
    floor = dl.real_data_floor()
    dense = (
        dense_comparison(
            images, range(args.dense_seeds), args.dense_loop_seconds, args.dense_fit_seconds,
            args.samples, log,
        )
        if args.dense_seeds
        else None
    )  # fmt: skip
    cli = (
        cli_check(args.cli_seconds, args.samples, 5_000 if args.smoke else None, log)
        if args.cli_seconds > 0
        else None
    )
    Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
    plot(quality, floor, args.plot)
    sample_grid(quality, args.grid)
    report(
        args,
        info,
        throughput,
        options,
        epochs,
        load,
        quality,
        floor,
        dense,
        cli,
        (time.perf_counter() - start) / 60,
    )
    log(f"wrote {args.out}, {args.plot}, {args.grid}")


if __name__ == "__main__":
    main()
