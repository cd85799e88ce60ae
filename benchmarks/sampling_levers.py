"""Levers at sampling time, on one trained run of the command line (issue 16, the search log's
tenth round): does drawing differently from the same G and D lower the Fréchet distance?

    python benchmarks/sampling_levers.py levers RUN TAG          # truncation, D's rejection
    python benchmarks/sampling_levers.py temperatures RUN TAG    # rejection's sharpness; top-k
    python benchmarks/sampling_levers.py calibrate RUN TAG       # D trained on against G first

RUN is a ``train`` run folder (its newest checkpoint; D must output logits, as the fast
model's does). Every score (10,000 images, the kit's metric) is printed and appended to ``benchmarks/sampling_levers.jsonl`` with TAG.

- *Truncation* (Brock et al., 2019): z scaled by psi, or resampled while |z_i| > a threshold.
- *D's rejection sampling* (Azadi et al., 2019): an image x of G is kept with probability
  min(1, exp((l(x) - M) / T)), l D's logit, M a percentile q of the pool's logits. A D at its
  optimum has l = log p_data / p_G (Goodfellow et al., 2014), so T = 1 and M = max l turn G's
  samples into the data's. *Top-k*: the 10,000 images D rates highest, for contrast.
- *Calibration*: a copy of D trained on (Adam, batch 64, real images against G's average) before
  rejection, since D judged G, not the average of G's weights that ``sample`` draws from.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import dcgan_lib as dl  # noqa: E402
from dcgan_lib import runs  # noqa: E402

LOG = Path(__file__).with_name("sampling_levers.jsonl")
N = 10_000


def load(directory: Path):
    """The run's GAN at its newest checkpoint (``dl.runs.load_gan``), and its step."""
    run = runs.read_run(directory)
    gan, _ = runs.load_gan(run, directory, None)
    if not gan.d_logits:
        raise SystemExit(f"'{run['model']}': D outputs probabilities; this reads logits (fast's)")
    return gan, int(gan.d_optimizer.iterations)  # one D step a training step


def generate(generator, z, batch):
    return np.concatenate([np.asarray(generator(z[i : i + batch], training=False)) for i in range(0, len(z), batch)])  # fmt: skip


def logits(discriminator, images, batch):
    return np.concatenate([np.asarray(discriminator(images[i : i + batch], training=False)).ravel() for i in range(0, len(images), batch)])  # fmt: skip


def scorer(tag, step):
    def score(how, images):
        report = dl.evaluate_images(images)
        row = dict(tag=tag, step=step, how=how, fid=round(float(report["fid"]), 3),
                   classes=report["classes_covered"], hist=report["class_histogram"])  # fmt: skip
        print(json.dumps(row), flush=True)
        with LOG.open("a") as f:
            f.write(json.dumps(row) + "\n")

    return score


def levers(gan, score, n=N):
    """G's average and G itself; truncation; rejection by D on a pool of 6 n (rng 123)."""
    G_ema, G_raw, D = gan.sampling_generator, gan.generator, gan.discriminator
    rng = np.random.default_rng(123)
    z = rng.standard_normal((n, gan.latent_dim)).astype("float32")
    score("ema", generate(G_ema, z, 500))
    score("raw", generate(G_raw, z, 500))
    for psi in (0.9, 0.8, 0.7):
        score(f"ema_psi{psi}", generate(G_ema, z * psi, 500))
    for threshold in (2.0, 1.5):
        zz = rng.standard_normal((n, gan.latent_dim)).astype("float32")
        bad = np.abs(zz) > threshold
        while bad.any():
            zz[bad] = rng.standard_normal(bad.sum()).astype("float32")
            bad = np.abs(zz) > threshold
        score(f"ema_thr{threshold}", generate(G_ema, zz, 500))
    big = rng.standard_normal((6 * n, gan.latent_dim)).astype("float32")
    for name, G in (("ema", G_ema), ("raw", G_raw)):
        pool = generate(G, big, 500)
        l = logits(D, pool, 500)  # noqa: E741
        print(name, "logit percentiles 5/50/95/99", np.percentile(l, [5, 50, 95, 99]).round(2))
        for q, T in ((99, 1.0), (90, 1.0), (99, 2.0), (50, 1.0)):
            M = np.percentile(l, q)
            keep = rng.random(len(l)) < np.minimum(1.0, np.exp((l - M) / T))
            idx = np.flatnonzero(keep)
            if len(idx) < n:
                print(name, q, T, "only", len(idx), "accepted", flush=True)
                continue
            score(f"{name}_drs_q{q}_T{T} acc{len(idx) / len(l):.2f}", pool[idx[:n]])


def temperatures(gan, score, settings, top, n=N):
    """Rejection from G's average at each (q, T), on one pool of 12 n (rng 7); top-k."""
    G, D = gan.sampling_generator, gan.discriminator
    rng = np.random.default_rng(7)
    pool = generate(G, rng.standard_normal((12 * n, gan.latent_dim)).astype("float32"), 1000)
    l = logits(D, pool, 1000)  # noqa: E741
    score("ema_pool_first10k", pool[:n])
    for q, T in settings:
        M = np.percentile(l, q)
        idx = np.flatnonzero(rng.random(len(l)) < np.minimum(1.0, np.exp((l - M) / T)))
        if len(idx) < n:
            print(q, T, "only", len(idx))
            continue
        score(f"ema_drs_q{q}_T{T} acc{len(idx) / len(l):.3f}", pool[idx[:n]])
    if top:
        score("ema_top10k_of_120k", pool[np.argsort(-l)[:n]])


def calibrate(gan, score, steps, rate, use_max, n=N):
    """Rejection (T = 1; M the pool's largest logit, or its 99th percentile) by D, then by a
    copy of D trained on for each number of ``steps`` against G's average (rng 11)."""
    G, D = gan.sampling_generator, gan.discriminator
    (x, _), _ = dl.load_mnist(verbose=False)
    real_all = x.astype("float32")[..., None] / 127.5 - 1.0
    rng = np.random.default_rng(11)
    pool = generate(G, rng.standard_normal((12 * n, gan.latent_dim)).astype("float32"), 1000)
    pool = np.clip(pool, -1, 1)

    def rejection(judge, name):
        l = logits(judge, pool, 1000)  # noqa: E741
        M = l.max() if use_max else np.percentile(l, 99)
        keep = np.random.default_rng(5).random(len(l)) < np.minimum(1, np.exp(l - M))
        idx = np.flatnonzero(keep)
        share = len(idx) / len(l)
        print(name, "kept", round(share, 3), "logit percentiles 1/50/99", np.percentile(l, [1, 50, 99]).round(2))  # fmt: skip
        if len(idx) >= n:
            score(f"{name} acc{share:.2f}", pool[idx[:n]])

    score("ema_plain", pool[:n])
    rejection(D, "drs_rawD")
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    D2 = keras.models.clone_model(D)
    D2.set_weights(D.get_weights())
    optimizer = keras.optimizers.Adam(rate, beta_1=0.5)

    @tf.function(jit_compile=True)
    def step(real, z):
        fake = G(z, training=False)
        with tf.GradientTape() as tape:
            a, b = D2(real, training=True), D2(fake, training=True)
            loss = bce(tf.ones_like(a), a) + bce(tf.zeros_like(b), b)
        grads = tape.gradient(loss, D2.trainable_variables)
        optimizer.apply_gradients(zip(grads, D2.trainable_variables))
        return loss

    done, start = 0, time.time()
    for target in steps:
        while done < target:
            i = rng.integers(0, len(real_all), 64)
            loss = step(real_all[i], rng.standard_normal((64, gan.latent_dim)).astype("float32"))
            done += 1
        print("calibrated", done, "steps", round(time.time() - start, 1), "s, loss", float(loss))
        rejection(D2, f"drs_calib{done}_lr{rate}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("levers", "temperatures", "calibrate"))
    parser.add_argument("run", type=Path, help="a train run folder")
    parser.add_argument("tag", help="names the rows in sampling_levers.jsonl")
    what = "temperatures: q:T pairs (default: the tenth round's first sweep)"
    parser.add_argument("--settings", default="99:1,100:1,99:0.5,99:0.33,99:0.25,90:0.5", help=what)
    parser.add_argument("--no-top", action="store_true", help="temperatures: skip top-k")
    parser.add_argument("--steps", default="200,1000,3000", help="calibrate: D's extra steps")
    parser.add_argument("--rate", type=float, default=3e-4, help="calibrate: D's learning rate")
    parser.add_argument("--max", action="store_true", help="calibrate: M is the largest logit")
    args = parser.parse_args(argv)
    gan, step = load(args.run)
    print("step", step, flush=True)
    score = scorer(args.tag, step)
    if args.what == "levers":
        levers(gan, score)
    elif args.what == "temperatures":
        pairs = [tuple(float(v) for v in pair.split(":")) for pair in args.settings.split(",")]
        settings = [(int(q) if q == int(q) else q, T) for q, T in pairs]
        temperatures(gan, score, settings, not args.no_top)
    else:
        steps = [int(s) for s in args.steps.split(",")]
        calibrate(gan, score, steps, args.rate, args.max)


if __name__ == "__main__":
    main()
