"""Scout training choices for the `fast` pair on a GPU, counted in steps (issue 16).

Quality per *step* does not depend on the machine, so a step budget found here carries over to
the course's CPU once that CPU's steps per second are known (BENCHMARKS.md). This script re-writes
Appendix A's fast G and D, its training step (`dl.gan_step`: D and G updated together from one
forward pass, non-saturating G loss, logits), Keras' Adam and BatchNormalization and the kit's
weight average in plain JAX, and scores 10,000 samples of the average at given steps with the
course classifier (`dcgan_lib/_data/mnist_classifier.npz`, re-written here too) against the
stored MNIST test statistics. It is a scout: choices it finds are then measured by the kit itself
on the CPU (`benchmarks/budget_quality.py`, `run_benchmarks.py`), and only those are quoted as
results. Its runs and what they say: `benchmarks/fast_config_search.md`, third round.

    python benchmarks/scout_gpu.py --mnist PATH --out scout.jsonl NAME key=value ... [/ NAME ...]
    python benchmarks/scout_gpu.py --table [benchmarks/scout_gpu.jsonl]   # the runs, as a table

Keys: mode (uncond | cond: G(z, y) and a projection D trained on MNIST's labels, sampled with
uniform digits | info: an unsupervised 10-way code with InfoGAN's Q head on D), dlr, glr, b1,
batch, gw, dw, ema (decay), ema_frac (decay 1 - 1 / (ema_frac * steps) once that is the larger:
an average over a fixed share of the run), lr_end (learning rates fall linearly to this share
over the run's last lr_tail share of ``steps``), steps, seeds (e.g. 0,1,2), every.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

try:
    import jax
    import jax.numpy as jnp
    from jax import lax
except ImportError:  # --table needs NumPy alone
    jax = jnp = lax = None

DN = ("NHWC", "HWIO", "NHWC")
CLASSIFIER = Path(__file__).resolve().parents[1] / "dcgan_lib" / "_data" / "mnist_classifier.npz"
DEFAULTS = dict(
    mode="uncond", dlr=3e-4, glr=6e-4, b1=0.5, batch=64, gw=64, dw=16, ema=0.999, ema_frac=0.0,
    lr_end=1.0, lr_tail=0.0, steps=11400, seeds="0,1,2", every=500, at="1150,3500,11400",
    latent=64, info_weight=1.0,
)  # fmt: skip


def glorot(key, shape, fan_in, fan_out):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, jnp.float32, -limit, limit)


def init(key, c):
    """G's and D's parameters and G's batch-norm state, initialised as Keras does."""
    k = iter(jax.random.split(key, 16))
    gw, dw, zdim = c["gw"], c["dw"], c["latent"]
    extra = 16 if c["mode"] in ("cond", "info") else 0
    g = dict(
        dense=glorot(next(k), (zdim + extra, 7 * 7 * 2 * gw), zdim + extra, 7 * 7 * 2 * gw),
        bn1_g=jnp.ones(7 * 7 * 2 * gw), bn1_b=jnp.zeros(7 * 7 * 2 * gw),
        up1=glorot(next(k), (4, 4, 2 * gw, gw), 16 * gw, 16 * 2 * gw),
        bn2_g=jnp.ones(gw), bn2_b=jnp.zeros(gw),
        up2=glorot(next(k), (4, 4, gw, 1), 16, 16 * gw), up2_b=jnp.zeros(1),
    )  # fmt: skip
    if extra:
        g["embed"] = jax.random.uniform(next(k), (10, 16), jnp.float32, -0.05, 0.05)
    gs = dict(m1=jnp.zeros(7 * 7 * 2 * gw), v1=jnp.ones(7 * 7 * 2 * gw))
    gs.update(m2=jnp.zeros(gw), v2=jnp.ones(gw))
    d, cin = {}, 1
    for i in range(3):
        cout = dw * 2**i
        d[f"conv{i}"] = glorot(next(k), (4, 4, cin, cout), 16 * cin, 16 * cout)
        d[f"conv{i}_b"], cin = jnp.zeros(cout), cout
    d["out"], d["out_b"] = glorot(next(k), (16 * cin, 1), 16 * cin, 1), jnp.zeros(1)
    if c["mode"] == "cond":
        d["embed"] = jax.random.uniform(next(k), (10, 16 * cin), jnp.float32, -0.05, 0.05)
    if c["mode"] == "info":
        d["q"], d["q_b"] = glorot(next(k), (16 * cin, 10), 16 * cin, 10), jnp.zeros(10)
    return g, gs, d


def batch_norm(x, gamma, beta, mean, var, train, axes):
    if train:
        mu, v = x.mean(axes), x.var(axes)
        out = (x - mu) / jnp.sqrt(v + 1e-3) * gamma + beta
        return out, 0.99 * mean + 0.01 * mu, 0.99 * var + 0.01 * v
    return (x - mean) / jnp.sqrt(var + 1e-3) * gamma + beta, mean, var


def generator(g, gs, z, y, train):
    """z (B, latent), y (B,) ints -> images (B, 28, 28, 1) in [-1, 1], new batch-norm state."""
    if "embed" in g:
        z = jnp.concatenate([z, g["embed"][y]], -1)
    h = z @ g["dense"]
    h, m1, v1 = batch_norm(h, g["bn1_g"], g["bn1_b"], gs["m1"], gs["v1"], train, (0,))
    h = jax.nn.relu(h).reshape(-1, 7, 7, g["up1"].shape[2])
    h = lax.conv_transpose(h, g["up1"], (2, 2), "SAME", dimension_numbers=DN)
    h, m2, v2 = batch_norm(h, g["bn2_g"], g["bn2_b"], gs["m2"], gs["v2"], train, (0, 1, 2))
    h = lax.conv_transpose(jax.nn.relu(h), g["up2"], (2, 2), "SAME", dimension_numbers=DN)
    return jnp.tanh(h + g["up2_b"]), dict(m1=m1, v1=v1, m2=m2, v2=v2)


def discriminator(d, x, y):
    """images (B, 28, 28, 1), y (B,) -> (logit (B,), Q's code logits (B, 10) or None)."""
    for i in range(3):
        x = lax.conv_general_dilated(x, d[f"conv{i}"], (2, 2), "SAME", dimension_numbers=DN)
        x = jax.nn.leaky_relu(x + d[f"conv{i}_b"], 0.2)
    h = x.reshape(x.shape[0], -1)  # (B, 1024)
    logit = (h @ d["out"] + d["out_b"])[:, 0]
    if "embed" in d:  # projection D (Miyato and Koyama, 2018)
        logit = logit + jnp.sum(d["embed"][y] * h, -1)
    return logit, (h @ d["q"] + d["q_b"]) if "q" in d else None


def adam(params, grads, m, v, t, lr, b1):
    m = jax.tree.map(lambda a, g: b1 * a + (1 - b1) * g, m, grads)
    v = jax.tree.map(lambda a, g: 0.999 * a + 0.001 * g * g, v, grads)
    rate = lr * jnp.sqrt(1 - 0.999**t) / (1 - b1**t)
    params = jax.tree.map(lambda p, a, b: p - rate * a / (jnp.sqrt(b) + 1e-7), params, m, v)
    return params, m, v


def make_chunk(c, images, labels, chunk):
    mode, info_w = c["mode"], c["info_weight"]

    def step(state, inputs):
        g, gs, d, gm, gv, dm, dv, ema_g, ema_s, t = state
        idx, key, lr_scale = inputs
        real, y_real = images[idx], labels[idx]
        kz, ky = jax.random.split(key)
        z = jax.random.normal(kz, (idx.shape[0], c["latent"]))
        y_fake = jax.random.randint(ky, (idx.shape[0],), 0, 10)

        def g_loss_fn(g):
            fake, new_s = generator(g, gs, z, y_fake, True)
            logit, q = discriminator(d, fake, y_fake)
            loss = jnp.mean(jax.nn.softplus(-logit))
            if mode == "info":
                loss += info_w * jnp.mean(-jax.nn.log_softmax(q)[jnp.arange(len(q)), y_fake])
            return loss, (fake, new_s)

        (g_loss, (fake, new_s)), g_grad = jax.value_and_grad(g_loss_fn, has_aux=True)(g)
        fake = lax.stop_gradient(fake)

        def d_loss_fn(d):
            r, _ = discriminator(d, real, y_real)
            f, q = discriminator(d, fake, y_fake)
            loss = jnp.mean(jax.nn.softplus(-r)) + jnp.mean(jax.nn.softplus(f))
            if mode == "info":
                loss += info_w * jnp.mean(-jax.nn.log_softmax(q)[jnp.arange(len(q)), y_fake])
            return loss

        d_loss, d_grad = jax.value_and_grad(d_loss_fn)(d)
        t = t + 1
        d, dm, dv = adam(d, d_grad, dm, dv, t, c["dlr"] * lr_scale, c["b1"])
        g, gm, gv = adam(g, g_grad, gm, gv, t, c["glr"] * lr_scale, c["b1"])
        decay = jnp.minimum(c["ema"], (1.0 + t) / (10.0 + t))
        if c["ema_frac"] > 0:
            decay = jnp.maximum(decay, 1.0 - 1.0 / jnp.maximum(c["ema_frac"] * t, 1.0))
        ema_g = jax.tree.map(lambda a, w: decay * a + (1 - decay) * w, ema_g, g)
        ema_s = jax.tree.map(lambda a, w: decay * a + (1 - decay) * w, ema_s, new_s)
        return (g, new_s, d, gm, gv, dm, dv, ema_g, ema_s, t), (d_loss, g_loss)

    @jax.jit
    def run(state, idx, keys, scales):
        return lax.scan(step, state, (idx, keys, scales))

    return run


def classifier_features(w):
    @jax.jit
    def features(x):  # (N, 28, 28, 1) in [-1, 1] -> (features (N, 128), probs (N, 10))
        for name in ("conv1", "conv2"):
            x = lax.conv_general_dilated(
                x, w[f"{name}.kernel"], (1, 1), "VALID", dimension_numbers=DN
            )
            x = jax.nn.relu(x + w[f"{name}.bias"])
            x = lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        f = jax.nn.relu(x.reshape(x.shape[0], -1) @ w["features.kernel"] + w["features.bias"])
        return f, jax.nn.softmax(f @ w["probs.kernel"] + w["probs.bias"])

    return features


def frechet(mean_a, cov_a, mean_b, cov_b):  # dcgan_lib.quality.frechet_distance: no Keras there
    values, vectors = np.linalg.eigh(0.5 * (cov_a + cov_a.T))
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(0.5 * (middle + middle.T)), 0.0, None)).sum()
    diff = mean_a - mean_b
    return max(float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * tr_sqrt), 0.0)


def score(features, ref, images):
    f, p = [], []
    for i in range(0, len(images), 2000):
        a, b = features(images[i : i + 2000])
        f.append(np.asarray(a, np.float64)), p.append(np.asarray(b))
    f, p = np.concatenate(f), np.concatenate(p)
    fid = frechet(f.mean(0), np.cov(f, rowvar=False), *ref)
    counts = np.bincount(p.argmax(1), minlength=10)
    return fid, int((counts >= 0.01 * len(p)).sum()), counts.tolist()


def train_one(c, seed, images, labels, features, ref, out, name):
    key = jax.random.PRNGKey(seed)
    g, gs, d = init(key, c)
    zeros = lambda tree: jax.tree.map(jnp.zeros_like, tree)  # noqa: E731
    state = (g, gs, d, zeros(g), zeros(g), zeros(d), zeros(d), g, gs, jnp.int32(0))
    chunk = 50
    run = make_chunk(c, images, labels, chunk)
    rng = np.random.default_rng(seed)
    per_epoch = len(images) // c["batch"]
    order = np.concatenate(
        [
            rng.permutation(len(images))[: per_epoch * c["batch"]]
            for _ in range(c["steps"] // per_epoch + 2)
        ]
    ).reshape(-1, c["batch"])
    at = sorted(
        {s for s in map(int, c["at"].split(","))}
        | set(range(c["every"], c["steps"] + 1, c["every"]))
    )
    at = [s for s in at if s <= c["steps"]]
    sample_key = jax.random.PRNGKey(10_000 + seed)
    z = jax.random.normal(sample_key, (10_000, c["latent"]))
    y = jax.random.randint(jax.random.fold_in(sample_key, 1), (10_000,), 0, 10)
    sample = jax.jit(lambda g, s, z, y: generator(g, s, z, y, False)[0])
    done, start, step_time = 0, time.time(), 0.0
    for target in at:
        while done < target:
            n = min(chunk, target - done)
            steps = np.arange(done, done + n)
            frac = steps / c["steps"]
            tail = c["lr_tail"]
            scales = np.where(
                frac < 1 - tail, 1.0, 1 - (1 - c["lr_end"]) * (frac - (1 - tail)) / max(tail, 1e-9)
            )
            keys = jax.vmap(lambda s: jax.random.fold_in(key, s))(jnp.asarray(steps))
            idx = jnp.asarray(order[done : done + n])
            if n != chunk:  # keep one compiled shape: pad and ignore? simpler: run exact n
                pass
            t0 = time.time()
            state, (dl, gl) = run(state, idx, keys, jnp.asarray(scales, jnp.float32))
            dl.block_until_ready()
            step_time += time.time() - t0
            done += n
        imgs = np.concatenate(
            [
                np.asarray(sample(state[7], state[8], z[i : i + 2000], y[i : i + 2000]))
                for i in range(0, 10_000, 2000)
            ]
        )
        fid, classes, counts = score(features, ref, imgs)
        raw = np.concatenate(
            [
                np.asarray(sample(state[0], state[1], z[i : i + 2000], y[i : i + 2000]))
                for i in range(0, 10_000, 2000)
            ]
        )
        fid_g = score(features, ref, raw)[0]
        row = dict(name=name, seed=seed, step=target, fid=round(fid, 3), fid_g=round(fid_g, 3), classes=classes,
                   counts=counts, d_loss=float(dl[-1]), g_loss=float(gl[-1]), wall=round(time.time() - start, 1),
                   config={k: c[k] for k in c if k not in ("seeds", "at", "every")})  # fmt: skip
        print(json.dumps(row), flush=True)
        with open(out, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        if not math.isfinite(fid):
            break


def table(path, steps=(1150, 3500, 7500, 11400)) -> str:
    """The runs of a results file as a Markdown table: per setting, median [each seed] at ``steps``."""
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    fid = {}
    for r in rows:
        fid.setdefault(r["name"], {}).setdefault(r["step"], {})[r["seed"]] = r["fid"]
    config = {r["name"]: r["config"] for r in rows}
    out = [
        "| setting | choices (differing from the fast defaults) | "
        + " | ".join(f"{s:,} steps" for s in steps)
        + " |"
    ]
    out.append("|---|---|" + "---:|" * len(steps))
    for name, by_step in fid.items():
        differ = ", ".join(
            f"{k}={v}" for k, v in config[name].items() if DEFAULTS.get(k) != v and k != "steps"
        )
        steps_set = config[name]["steps"]
        differ += f" (schedule over {steps_set:,} steps)" if config[name]["lr_tail"] else ""
        cells = []
        for s in steps:
            seeds = by_step.get(s, {})
            values = [seeds[k] for k in sorted(seeds)]
            cells.append(
                f"{np.median(values):.2f} [{', '.join(f'{v:.1f}' for v in values)}]"
                if values
                else ""
            )
        out.append(f"| {name} | {differ or 'the fast defaults'} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None):
    if argv is None and sys.argv[1:2] == ["--table"]:
        return print(
            table(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).with_suffix(".jsonl"))
        )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--floor", action="store_true", help="print the real-data floor first")
    parser.add_argument("runs", nargs="+", help="NAME key=value ... [/ NAME key=value ...]")
    args = parser.parse_args(argv)
    with np.load(args.mnist) as f:
        x_train, y_train = f["x_train"], f["y_train"]
    images = jnp.asarray(x_train[..., None].astype(np.float32) / 127.5 - 1.0)
    labels = jnp.asarray(y_train.astype(np.int32))
    stored = dict(np.load(CLASSIFIER))
    w = {k: jnp.asarray(v, jnp.float32) for k, v in stored.items() if "." in k}
    features = classifier_features(w)
    ref = (stored["ref_mean"].astype(np.float64), stored["ref_cov"].astype(np.float64))
    if args.floor:
        fid, classes, _ = score(features, ref, np.asarray(images[:10_000]))
        print(json.dumps(dict(floor=round(fid, 4), classes=classes)), flush=True)
    groups, current = [], []
    for token in args.runs:
        if token == "/":
            groups.append(current)
            current = []
        else:
            current.append(token)
    groups.append(current)
    for group in filter(None, groups):
        name, c = group[0], dict(DEFAULTS)
        for pair in group[1:]:
            key, value = pair.split("=", 1)
            if key not in c:
                sys.exit(f"unknown key {key!r}; known: {', '.join(c)}")
            c[key] = type(c[key])(value) if not isinstance(c[key], str) else value
        for seed in map(int, c["seeds"].split(",")):
            train_one(c, seed, images, labels, features, ref, args.out, name)


if __name__ == "__main__":
    main()
