"""Chapter 1's training loop: compile, then alternate ``train_on_batch`` steps of D and G.

GANs in Action's recipe, made right for Keras 3; Chapter 2 reuses it for the DCGANs.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from .models import build_gan, draw_noise, threshold

# what the loop records at each report; "seconds": training time so far
HISTORY_KEYS = tuple(
    "iteration d_loss d_accuracy real_accuracy fake_accuracy g_loss g_accuracy".split()
)
HISTORY_KEYS += ("seconds",)


def compile_gan(
    generator, discriminator, *, d_optimizer=None, g_optimizer=None, d_loss="binary_crossentropy"
):
    """Compile D and the combined model z -> D(G(z)); return the latter. Defined in Chapter 1.

    Keras 3 reads a model's trainable weights when its train function is *traced* (its first
    ``train_on_batch`` and any call with a new batch shape), never at ``compile``: so D stays
    trainable here, and each step sets ``discriminator.trainable`` right before its call.
    ``d_loss``: "binary_crossentropy" for a sigmoid D, or
    ``keras.losses.BinaryCrossentropy(from_logits=True)`` for a logit D.
    """
    logits = bool(getattr(d_loss, "get_config", dict)().get("from_logits", False))
    cut = threshold(logits)
    accuracy = lambda: keras.metrics.BinaryAccuracy(threshold=cut, name="accuracy")
    real_accuracy = keras.metrics.Recall(thresholds=cut, name="real_accuracy")  # reals called real
    discriminator.trainable = True
    d_optimizer = d_optimizer or keras.optimizers.Adam()
    discriminator.compile(d_optimizer, d_loss, metrics=[accuracy(), real_accuracy])
    gan = build_gan(generator, discriminator)
    discriminator.trainable = False
    gan.compile(g_optimizer or keras.optimizers.Adam(), d_loss, metrics=[accuracy()])
    discriminator.trainable = True
    return gan


def train_discriminator_step(discriminator, real_images, fake_images, *, mixed=True):
    """One D update: returns (d_loss, real_accuracy, fake_accuracy). Defined in Chapter 1.

    ``real_images``, ``fake_images``: (batch, 28, 28, 1) in [-1, 1], labelled 1 and 0.
    real/fake accuracy: share of real images D calls real / of fakes it calls fake.
    ``mixed=False`` is the slides' way: two ``train_on_batch`` calls, all-real then all-fake.
    ``mixed=True`` sends both through D as *one* batch: a D with batch norm then normalises
    with the statistics of a real/fake mixture, as its moving statistics do when it is frozen
    in G's step, instead of all-real or all-fake batch statistics that give the answer away.
    """
    if len(real_images) != len(fake_images):
        raise ValueError(f"need as many fakes as reals, got {len(fake_images)}, {len(real_images)}")
    discriminator.trainable = True
    real_labels = np.ones((len(real_images), 1), np.float32)
    fake_labels = np.zeros((len(fake_images), 1), np.float32)
    if not mixed:
        real = discriminator.train_on_batch(real_images, real_labels, return_dict=True)
        fake = discriminator.train_on_batch(fake_images, fake_labels, return_dict=True)
        loss = 0.5 * (float(real["loss"]) + float(fake["loss"]))
        return loss, float(real["accuracy"]), float(fake["accuracy"])
    images = np.concatenate([real_images, fake_images])  # (2 batch, 28, 28, 1)
    labels = np.concatenate([real_labels, fake_labels])  # (2 batch, 1)
    out = discriminator.train_on_batch(images, labels, return_dict=True)
    real_acc = float(out["real_accuracy"])  # recall of the class "real"
    return float(out["loss"]), real_acc, 2.0 * float(out["accuracy"]) - real_acc  # balanced batch


def train_generator_step(gan, discriminator, z):
    """One G update through a frozen D: returns (g_loss, g_accuracy). Defined in Chapter 1.

    ``z``: noise (batch, latent_dim); the target is "real" (1), so G gains when D is fooled.
    g_accuracy: the share of fakes D called real (NaN if ``gan`` has no accuracy metric).
    """
    discriminator.trainable = False
    out = np.atleast_1d(gan.train_on_batch(z, np.ones((len(z), 1), np.float32)))
    discriminator.trainable = True
    return float(out[0]), (float(out[1]) if len(out) > 1 else float("nan"))


def train_with_train_on_batch(
    generator,
    discriminator,
    gan,
    images,
    *,
    iterations,
    batch_size=128,
    report_every=1000,
    seed=0,
    on_report=None,
    verbose=True,
    mixed=True,
    seconds=None,
    noise="normal",
    d_step=train_discriminator_step,
    g_step=train_generator_step,
):
    """Chapter 1's loop; returns a history: lists keyed by ``HISTORY_KEYS``. Defined in Chapter 1.

    ``images``: float32 (N, 28, 28, 1) in [-1, 1]. Each iteration draws a random real batch and
    noise (``noise``: "normal" or "uniform"), runs ``d_step`` then ``g_step`` (replace them to
    experiment). Every ``report_every`` iterations it records the *mean* of each quantity over
    those iterations and calls ``on_report(iteration, generator)`` (each of them, given a list;
    a ``Progress`` draws and keeps G's images). With ``seconds`` it stops
    after the iteration that brings the training time to that budget.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise ValueError(f"images must be (N, 28, 28, 1) in [-1, 1], got shape {images.shape}")
    if images.min() < -1.0001 or images.max() > 1.0001:
        raise ValueError("images must be scaled to [-1, 1] (use dcgan_lib.to_model_range).")
    rng = np.random.default_rng(seed)
    shape = (batch_size, generator.input_shape[-1])
    trackers = {k: keras.metrics.Mean(name=k) for k in HISTORY_KEYS[1:-1]}
    history = {k: [] for k in HISTORY_KEYS}
    trained = 0.0
    for it in range(1, iterations + 1):
        start = time.perf_counter()
        real = images[rng.integers(0, len(images), batch_size)]
        # G in training mode, as in its own step; a direct call is far faster than predict
        fake = generator(draw_noise(shape, noise, rng), training=True).numpy()
        d_loss, acc_real, acc_fake = d_step(discriminator, real, fake, mixed=mixed)
        g_loss, g_acc = g_step(gan, discriminator, draw_noise(shape, noise, rng))
        trained += time.perf_counter() - start
        values = (d_loss, 0.5 * (acc_real + acc_fake), acc_real, acc_fake, g_loss, g_acc)
        for tracker, value in zip(trackers.values(), values):
            tracker.update_state(value)
        out_of_time = seconds is not None and trained >= seconds
        if it % report_every == 0 or it == iterations or out_of_time:
            history["iteration"].append(it)
            history["seconds"].append(trained)
            for key, tracker in trackers.items():
                history[key].append(float(tracker.result()))
                tracker.reset_state()
            if verbose:
                h = {k: v[-1] for k, v in history.items()}
                print(
                    f"iteration {it:>6}  D loss {h['d_loss']:.3f}  D acc real "
                    f"{100 * h['real_accuracy']:5.1f}% fake {100 * h['fake_accuracy']:5.1f}%  "
                    f"G loss {h['g_loss']:.3f}  G fools D {100 * h['g_accuracy']:5.1f}%  "
                    f"({trained:.0f} s)"
                )
            for report in on_report if isinstance(on_report, (list, tuple)) else [on_report]:
                if report is not None:
                    report(it, generator)
        if out_of_time:
            break
    return history


__all__ = [
    "compile_gan",
    "train_discriminator_step",
    "train_generator_step",
    "train_with_train_on_batch",
]
