"""The measurements that chose the ``fast`` configuration (``benchmarks/fast_config_search.md``).

One run trains the fast architecture with one set of choices for a wall-clock
budget and scores 10,000 samples of G and of the moving average of its
weights at each checkpoint time (Fréchet distance in the course classifier's
features, classes covered, classifier score). Results are appended as one JSON
line to ``--log``; ``--table`` prints them as a Markdown table.

    DCGAN_MNIST=../shared/data/mnist.npz python benchmarks/search_fast_config.py lr5 lr=5e-4
    python benchmarks/search_fast_config.py --table

Choices (``key=value``); the defaults are the first run's, the baseline:

- ``gw``/``dw``: G's and D's width; ``ddepth``: D's strided convolutions, each
  doubling the width (the library's default D is ``dw=16 ddepth=3``);
- ``gk``: kernel size of G's transposed convolutions;
- ``batch``; ``lr``: both networks' learning rate; ``glr``: G's, if different;
  ``b1``, ``b2``: Adam's betas;
- ``smooth``: D's target for real images; ``ema``: the average's decay (0 = none);
- ``anneal``: 0 = off, else the learning rates fall linearly to that fraction of
  their value over each budget's segment (meant for a single budget);
- ``recal``: 0 = off, else also score the average with its batch-norm statistics
  re-estimated on that many of its own images;
- ``ddrop``: dropout rate after D's activations; ``mbstd``: 1 = a minibatch
  standard-deviation channel in D; ``sn``: 1 = spectral normalisation of D's layers;
- ``evals``: seconds of training at which to score, comma-separated.
- ``seed``: the seed of the weights, noise and data order (0 in the earlier runs);
- ``at``: a budget in steps instead: the optimizer steps at which to score,
  comma-separated (``evals`` is then ignored);
- ``decay``: with ``at``, 0 = off, else both learning rates fall linearly to that
  fraction of their value over the whole run (to the last ``at``), in steps;
- ``r1``: 0 = off, else the weight gamma of an R1 penalty on D, gamma / 2 times the mean
  squared norm of D's gradient at the real images (Mescheder et al., 2018);
- ``hinge``: 1 = the hinge loss (D: relu(1 - real) + relu(1 + fake); G: -fake) instead of
  binary cross-entropy on D's logits;
- ``pac``: 1 = off, else D judges ``pac`` images at once, stacked as channels (PacGAN; Lin et
  al., 2018), so that it can see a batch's lack of variety;
- ``xla``: 1 = compile the step with XLA (``jit_compile=True``), as ``train --model fast``
  does; 0 (the earlier runs) = Keras' default;
- ``emah``: the average's warm-up h: its decay is min(``ema``, (1 + n) / (h + n))
  after n steps, so it averages over about the last n / (h - 1) steps early on;
- ``grow``: 0 = off, else the batch doubles once that many epochs are done at ``batch``
  (with a time budget; Smith et al., 2018, "Don't decay the learning rate, increase the
  batch size"); ``grow2``: 0 = off, else it doubles again once that many epochs are done
  in all (after ``grow``);
- ``emas``: more averages of G's weights, kept beside the ``ema`` one, comma-separated, each a
  decay with the same warm-up as ``emah``, ``decay/h`` with a warm-up of its own, or
  ``decay/h>h2@S``, whose warm-up's h becomes h2 from step S on (e.g. ``0.998,0.9999/4,
  0.9999/10>5@7500``): each is scored too, so that averages are compared on one run of G;
- ``clusters``: 0 = off, else k: the training images' pixels are split into k clusters by
  k-means (``dl.clusters.kmeans``, seed 0, before the clock starts; its seconds are logged),
  G draws a cluster in its share of the images and is told which (an embedding joined to z, as
  Chapter 5's G), D judges the image with its cluster (a projection, as Chapter 5's D): a
  self-conditioned GAN (Liu et al., 2020) whose clusters are fixed. Needs ``grow``.

Runs with a time budget go one at a time on an otherwise idle machine: the budget is
wall-clock time. Runs with a step budget do not depend on the machine's speed, so they
may run side by side (with ``DCGAN_THREADS=1`` each, on 2 cores).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOG = ROOT / "benchmarks" / "fast_config_search.jsonl"
CHOICES = dict(
    gw=64,
    dw=32,
    batch=64,
    lr=2e-4,
    glr=0.0,
    b1=0.5,
    b2=0.999,
    smooth=1.0,
    ema=0.999,
    anneal=0.0,
    evals="60,180",
    recal=0,
    ddrop=0.0,
    mbstd=0,
    ddepth=2,
    gk=4,
    sn=0,
    seed=0,
    at="",
    decay=0.0,
    emah=10.0,
    r1=0.0,
    hinge=0,
    pac=1,
    xla=0,
    grow=0,
    grow2=0,
    emas="",
    clusters=0,
)


def parse(pairs):
    cfg = dict(CHOICES)
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in cfg or not value:
            raise SystemExit(f"error: {pair!r} is not key=value with key one of {', '.join(cfg)}")
        cfg[key] = type(CHOICES[key])(value)
    if cfg["grow2"] and cfg["grow2"] <= cfg["grow"]:
        raise SystemExit(f"error: grow2={cfg['grow2']} must come after grow={cfg['grow']}")
    if cfg["clusters"] and not (cfg["grow"] and 2 <= cfg["clusters"] <= 255):
        raise SystemExit(f"error: clusters={cfg['clusters']} needs grow=E and 2 <= k <= 255")
    return cfg


def anneal_callback(gan, start, end, final):
    """A callback lowering both learning rates linearly, from their value to ``final`` x it,
    over the ``end - start`` seconds of the segment it is given to."""
    import keras

    class Anneal(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.began = time.perf_counter()
            self.base = [float(o.learning_rate) for o in (gan.d_optimizer, gan.g_optimizer)]

        def on_train_batch_begin(self, batch, logs=None):
            frac = min(1.0, (time.perf_counter() - self.began) / (end - start))
            for opt, base in zip((gan.d_optimizer, gan.g_optimizer), self.base):
                opt.learning_rate = base * (1.0 - (1.0 - final) * frac)

    return Anneal()


def train_through_steps(gan, images, batch_size, steps):
    """Train ``gan`` up to each of ``steps`` (increasing optimizer steps); yield the seconds
    of training after each, as ``train_through_budgets`` does for seconds."""
    import keras

    import dcgan_lib as dl

    class StopAt(keras.callbacks.Callback):
        def __init__(self, step):
            super().__init__()
            self.step = step

        def on_train_batch_end(self, batch, logs=None):
            if int(gan.g_optimizer.iterations) >= self.step:
                self.model.stop_training = True

    steps_per_epoch = len(images) // batch_size
    used, epoch = 0.0, 0
    for step in steps:
        dataset = dl.resumable_dataset(images, batch_size, seed=0, first_epoch=epoch)
        began = time.perf_counter()
        history = gan.fit(
            dataset,
            epochs=10**9,
            initial_epoch=epoch,
            steps_per_epoch=steps_per_epoch,
            callbacks=[StopAt(step)],
            verbose=0,
            shuffle=False,
        )
        epoch += len(history.epoch)
        used += time.perf_counter() - began
        yield used


def train_growing(gan, images, batch_size, grows, budgets, seen, batches=None):
    """As ``train_through_budgets``, but the batch doubles at each epoch of ``grows`` (increasing;
    a segment ends at the budget or at such an epoch); ``seen["images"]``: the images trained
    on so far; ``batches``: a function as ``dl.resumable_dataset`` (its default)."""
    import dcgan_lib as dl

    batches = batches or dl.resumable_dataset

    used, epoch = 0.0, 0
    for budget in budgets:
        while used < budget:
            passed = sum(epoch >= g for g in grows)
            size, end = batch_size * 2**passed, ([*grows, 10**9])[passed]
            clock, before = dl.TimeBudget(budget - used), int(gan.g_optimizer.iterations)
            history = gan.fit(
                batches(images, size, seed=0, first_epoch=epoch),
                epochs=end,
                initial_epoch=epoch,
                steps_per_epoch=len(images) // size,
                callbacks=[clock],
                verbose=0,
                shuffle=False,
            )
            epoch += len(history.epoch)
            used += clock.used
            seen["images"] += (int(gan.g_optimizer.iterations) - before) * size
            if clock.stopped:
                break
        yield used


def move_average(average, generator, steps, decay, h):
    """One step of an average of ``generator``'s weights: decay min(decay, (1 + n) / (h + n))
    after n = ``steps`` steps (the library's warm-up has h = 10)."""
    from keras import ops

    d = ops.minimum(decay, (1.0 + steps) / (h + steps))
    for mean, weight in zip(average.weights, generator.weights):
        mean.assign(d * mean + (1.0 - d) * weight)


def with_more_averages(gan, averages, h=10.0):
    """Extra averages of G's weights, updated in the step beside ``gan``'s own: ``averages``
    "decay" (warm-up ``h``), "decay/h" or "decay/h>h2@S" (h2 from step S on) strings, decay
    min(decay, (1 + n) / (h + n)) after n steps; returns {"average_<string>": generator}."""
    import keras
    from keras import ops

    if not averages:
        return {}
    extra = {}
    for text in averages:
        decay, _, own_h = text.partition("/")
        early, _, later = (own_h or str(h)).partition(">")  # "10>5@7500": h 10, then 5 from 7,500
        late, _, switch = later.partition("@")
        copy = keras.models.clone_model(gan.generator)
        copy.set_weights(gan.generator.get_weights())
        warmups = (float(early), float(late or early), float(switch or 0))
        extra[f"average_{text}"] = (float(decay), warmups, copy)
    update_main = gan._update_ema

    def update():
        update_main()  # advances gan.ema_steps
        steps = ops.cast(gan.ema_steps, "float32")
        for decay, (early, late, switch), copy in extra.values():
            warmup = ops.where(steps < switch, early, late)
            move_average(copy, gan.generator, steps, decay, warmup)

    gan._update_ema = update
    return {name: copy for name, (_, _, copy) in extra.items()}


def recalibrated(generator, n):
    """A copy of ``generator`` whose batch-norm moving statistics are those of one batch of
    ``n`` of its own images (the averaged weights' statistics, not an average of G's)."""
    import keras
    import numpy as np

    copy = keras.models.clone_model(generator)
    copy.set_weights(generator.get_weights())
    norms = [layer for layer in copy.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.momentum = 0.0
    z = np.random.default_rng(2).standard_normal((n, copy.input_shape[-1]), dtype=np.float32)
    copy(z, training=True)
    return copy


def generator_variant(cfg):
    """``dl.build_fast_generator`` with ``gk`` x ``gk`` transposed convolutions."""
    import keras
    from keras import layers

    w, k = cfg["gw"], cfg["gk"]
    return keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(7 * 7 * 2 * w, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Reshape((7, 7, 2 * w)),
            layers.Conv2DTranspose(w, k, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Conv2DTranspose(1, k, strides=2, padding="same", activation="tanh"),
        ]
    )


def discriminator_variant(cfg):
    """``dl.build_fast_discriminator`` with dropout after each LeakyReLU (``ddrop``) and/or a
    minibatch standard-deviation channel before the second convolution (``mbstd``)."""
    import keras
    from keras import layers, ops

    class MinibatchStddev(layers.Layer):
        """Append one channel: the spread of the batch's features, averaged to one number."""

        def call(self, x):
            spread = ops.mean(ops.sqrt(ops.var(x, axis=0) + 1e-8))
            return ops.concatenate([x, ops.ones_like(x[..., :1]) * spread], axis=-1)

    w = cfg["dw"]
    wrap = keras.layers.SpectralNormalization if cfg["sn"] else (lambda layer: layer)
    stack = [
        keras.Input((28, 28, cfg["pac"])),
        wrap(layers.Conv2D(w, 4, strides=2, padding="same")),
        layers.LeakyReLU(0.2),
    ]
    stack += [layers.Dropout(cfg["ddrop"])] if cfg["ddrop"] else []
    stack += [MinibatchStddev()] if cfg["mbstd"] else []
    for depth in range(1, cfg["ddepth"]):
        stack += [
            wrap(layers.Conv2D(2**depth * w, 4, strides=2, padding="same")),
            layers.LeakyReLU(0.2),
        ]
        stack += [layers.Dropout(cfg["ddrop"])] if cfg["ddrop"] else []
    return keras.Sequential(stack + [layers.Flatten(), wrap(layers.Dense(1))])


def regularised_step(gan, r1, hinge, pac=1):
    """Replace ``gan.train_step`` with ``dl.gan_step``'s update plus an R1 penalty on D (weight
    ``r1``; 0 = none) and/or the hinge loss (``hinge``), D judging ``pac`` images at once: the
    runs ``r1=``, ``hinge=1`` and ``pac=``."""
    import tensorflow as tf
    from keras import ops

    from dcgan_lib.models import draw_noise

    generator, critic = gan.generator, gan.discriminator

    def discriminator(images, training):  # (batch, 28, 28, 1) -> (batch / pac, 1)
        packed = ops.reshape(images, (-1, pac, 28, 28))  # pac consecutive images together
        return critic(ops.transpose(packed, (0, 2, 3, 1)), training=training)

    def train_step(real_images):
        z = draw_noise((ops.shape(real_images)[0], gan.latent_dim), gan.noise, gan.seed_generator)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake_images = generator(z, training=True)  # (batch, 28, 28, 1)
            with tf.GradientTape() as x_tape:
                x_tape.watch(real_images)
                real_out = discriminator(real_images, training=True)  # (batch, 1) logits
                real_sum = ops.sum(real_out)  # inside x_tape, so that it can differentiate it
            fake_out = discriminator(fake_images, training=True)
            if hinge:
                d_loss = ops.mean(ops.relu(1.0 - real_out)) + ops.mean(ops.relu(1.0 + fake_out))
                g_loss = -ops.mean(fake_out)
            else:
                d_loss = gan.bce(ops.ones_like(real_out), real_out)
                d_loss += gan.bce(ops.zeros_like(fake_out), fake_out)
                g_loss = gan.bce(ops.ones_like(fake_out), fake_out)
            d_total = d_loss
            if r1:
                slope = x_tape.gradient(real_sum, real_images)  # (batch, 28, 28, 1)
                d_total = d_loss + 0.5 * r1 * ops.mean(ops.sum(slope**2, axis=(1, 2, 3)))
        d_vars, g_vars = critic.trainable_variables, generator.trainable_variables
        gan.d_optimizer.apply_gradients(zip(d_tape.gradient(d_total, d_vars), d_vars))
        gan.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        gan._update_ema()
        return {"d_loss": d_loss, "g_loss": g_loss}

    gan.train_step = train_step


def clustered_players(k, shares, seed, width=64, dw=16, ddepth=3):
    """(G, D) told a cluster of 0..k-1: Chapter 5's pair for k labels (``dl.conditional``), G
    drawing them in ``shares`` (k,), as ``train --clusters`` builds it. (The log's ``r12_*`` runs
    used this script's own copy of the pair, which encoded a cluster c in the map as c / 127.5 - 1
    instead of the library's round(255 c / (k - 1)) level; the same networks otherwise.)"""
    import dcgan_lib as dl

    cgan = dl.conditional
    inner = cgan.build_generator(width=width, classes=k)
    generator = cgan.build_pair_generator(inner, seed=seed, shares=shares)
    return generator, cgan.build_discriminator(width=dw, depth=ddepth, classes=k)


def cluster_pairs(maps, k):
    """A ``dl.resumable_dataset``-like function of pairs (batch, 28, 28, 2): an image and its
    label map (``dl.conditional.labelled_dataset``), ``maps`` (N,) each image's cluster."""
    import dcgan_lib as dl

    def batches(images, size, seed=0, first_epoch=0):
        where = dict(seed=seed, first_epoch=first_epoch)
        return dl.conditional.labelled_dataset(images, maps, size, classes=k, **where)

    return batches


def clustered_images(generator, shares, n, seed=1):
    """``n`` images (n, 28, 28, 1) of a :func:`clustered_players` G (or its average), clusters
    drawn in ``shares``."""
    import numpy as np

    import dcgan_lib as dl

    asked = np.random.default_rng(seed).choice(len(shares), n, p=shares)
    return dl.conditional.generate_digits(generator, asked, seed=seed)


def run(name, cfg, log_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run_benchmarks import train_through_budgets  # noqa: I001  dcgan_lib, TF first

    import dcgan_lib as dl
    import keras

    keras.utils.set_random_seed(cfg["seed"])
    generator = dl.build_fast_generator(width=cfg["gw"])
    discriminator = (
        discriminator_variant(cfg)
        if cfg["ddrop"] or cfg["mbstd"] or cfg["sn"] or cfg["pac"] > 1
        else dl.build_fast_discriminator(width=cfg["dw"], depth=cfg["ddepth"])
    )
    if cfg["gk"] != 4:
        generator = generator_variant(cfg)
    (x_train, y_train), _ = dl.load_mnist(verbose=False)
    clustering, batches = {}, None
    if cfg["clusters"]:
        import numpy as np

        began, k = time.perf_counter(), cfg["clusters"]
        cluster = dl.clusters.kmeans(x_train.reshape(len(x_train), -1).astype(np.float32) / 255, k)
        counts = np.zeros((k, 10), np.int64)
        np.add.at(counts, (cluster, y_train), 1)  # the labels only to report purity
        shares = dl.clusters.shares(cluster, k)  # as train --clusters draws them
        clustering = dict(
            seconds=round(time.perf_counter() - began, 1),
            purity=round(float(counts.max(1).sum() / len(cluster)), 3),
            sizes=[int(n) for n in np.bincount(cluster, minlength=k)],
        )
        print(name, "clusters:", clustering, flush=True)
        batches = cluster_pairs(cluster, k)
        generator, discriminator = clustered_players(
            k, shares, cfg["seed"], cfg["gw"], cfg["dw"], cfg["ddepth"]
        )
    gan = dl.GAN(
        generator,
        discriminator,
        d_logits=True,
        seed=cfg["seed"],
        real_label=cfg["smooth"],
        ema_decay=cfg["ema"] or None,
    )
    if gan.ema_generator is not None:  # the library's warm-up, (1 + n) / (h + n), h 10 unless set
        gan.ema_warmup.assign(cfg["emah"])
    more = with_more_averages(gan, [a for a in cfg["emas"].split(",") if a], cfg["emah"])
    if cfg["r1"] or cfg["hinge"] or cfg["pac"] > 1:
        regularised_step(gan, cfg["r1"], cfg["hinge"], cfg["pac"])
    at = [int(n) for n in cfg["at"].split(",")] if cfg["at"] else []

    def adam(lr):
        if at and cfg["decay"]:
            lr = keras.optimizers.schedules.PolynomialDecay(lr, at[-1], lr * cfg["decay"])
        return keras.optimizers.Adam(lr, beta_1=cfg["b1"], beta_2=cfg["b2"])

    xla = dict(jit_compile=True) if cfg["xla"] else {}
    gan.compile(d_optimizer=adam(cfg["lr"]), g_optimizer=adam(cfg["glr"] or cfg["lr"]), **xla)
    budgets = [float(t) for t in cfg["evals"].split(",")]
    anneal = (
        (lambda start, end: [anneal_callback(gan, start, end, cfg["anneal"])])
        if cfg["anneal"]
        else None
    )  # learning rates fall over each budget's segment
    rows, seen = [], {"images": 0}
    if at:
        trained = train_through_steps(gan, x_train, cfg["batch"], at)
    elif cfg["grow"] or cfg["grow2"]:
        grows = [g for g in (cfg["grow"], cfg["grow2"]) if g]
        trained = train_growing(gan, x_train, cfg["batch"], grows, budgets, seen, batches)
    else:
        trained = train_through_budgets(gan, x_train, cfg["batch"], budgets, anneal)
    for used in trained:
        steps = int(gan.g_optimizer.iterations)
        row = {
            "seconds": round(used),
            "steps": steps,
            "images_per_s": round((seen["images"] or steps * cfg["batch"]) / used),
        }
        scored = [("G", gan.generator), ("average", gan.ema_generator), *more.items()]
        if cfg["recal"] and gan.ema_generator is not None:
            scored.append(("recalibrated", recalibrated(gan.ema_generator, cfg["recal"])))
        for which, g in scored:
            if g is not None:
                r = dl.evaluate_images(
                    clustered_images(g, shares, 10_000)
                    if cfg["clusters"]
                    else dl.generate_images(g, 10_000, seed=1)
                )
                row[which] = [
                    round(r["fid"], 2),
                    r["classes_covered"],
                    round(r["classifier_score"], 2),
                ]
        rows.append(row)
        print(name, row, flush=True)
    with open(log_path, "a") as log:
        log.write(
            json.dumps(
                {
                    "name": name,
                    "when": time.strftime("%Y-%m-%d %H:%M"),
                    "choices": cfg,
                    "results": rows,
                }
                | ({"clustering": clustering} if clustering else {})
            )
            + "\n"
        )


def table(log_path):
    print(
        "| run | choices (differing from the first run's) | at s | steps | images/s "
        "| fid G | fid average | classes | score |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    entries = [json.loads(line) for line in Path(log_path).read_text().splitlines() if line.strip()]
    base = {**CHOICES, **entries[0]["choices"]} if entries else {}  # older lines lack newer keys
    for e in entries:
        choices = {**CHOICES, **e["choices"]}
        diff = ", ".join(
            f"{k}={v}" for k, v in choices.items() if base.get(k) != v and k != "evals"
        )
        for r in e["results"]:
            avg = r.get("average", [None, None, None])
            print(
                f"| {e['name']}{' *' if e.get('note') else ''} | {diff or 'baseline'} | {r['seconds']} | {r['steps']} | {r['images_per_s']} "
                f"| {r['G'][0]} | {avg[0]} | {(avg[1] or r['G'][1])}/10 | {avg[2] or r['G'][2]} |"
            )
    notes = sorted({e["note"] for e in entries if e.get("note")})
    for note in notes:
        print(f"\n\\* {note}")


if __name__ == "__main__":
    args = sys.argv[1:]
    log = DEFAULT_LOG
    if "--log" in args:
        i = args.index("--log")
        log, args = Path(args[i + 1]), args[:i] + args[i + 2 :]
    if args[:1] == ["--table"]:
        table(log)
    elif not args or args[0].startswith("-"):
        raise SystemExit(__doc__)
    else:
        run(args[0], parse(args[1:]), log)
