"""Training GANs.

- Chapter 1: :func:`compile_gan`, :func:`train_discriminator_step`,
  :func:`train_generator_step`, :func:`train_with_train_on_batch` -- the
  compile-and-``train_on_batch`` way of GANs in Action, made right for Keras 3.
- Chapter 2 reuses them for the DCGANs, with the real/fake/generator
  accuracies split out (:func:`train_discriminator_step_detailed`,
  :func:`generator_step_with_accuracy`).
"""
from __future__ import annotations

import time

import numpy as np

from ._startup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

__all__ = [
    "compile_gan",
    "train_discriminator_step",
    "train_discriminator_step_detailed",
    "train_generator_step",
    "generator_step_with_accuracy",
    "train_with_train_on_batch",
    "HISTORY_KEYS",
]


def compile_gan(generator, discriminator, *, d_optimizer=None, g_optimizer=None,
                d_loss="binary_crossentropy"):
    """Compile D and the combined model z -> D(G(z)) for ``train_on_batch`` (Chapter 1).

    Returns the combined model. Keras 3 reads a model's list of trainable
    variables each time its train function is *traced*: at its first
    ``train_on_batch``/``fit`` after ``compile``, and again whenever a call
    brings a new input shape (a smaller last batch, say) -- never at
    ``compile``. So this leaves ``discriminator.trainable`` True; the two step
    functions below set it right before every call, so that whenever D's step
    is traced it sees D's weights and whenever G's step is traced it does not.
    ``d_loss``: "binary_crossentropy" for a sigmoid D; pass
    ``keras.losses.BinaryCrossentropy(from_logits=True)`` for a logit D.
    """
    from .models import build_gan

    d_optimizer = d_optimizer or keras.optimizers.Adam()
    g_optimizer = g_optimizer or keras.optimizers.Adam()
    discriminator.trainable = True
    threshold = 0.0 if _from_logits(d_loss) else 0.5        # logit 0 = probability 0.5
    discriminator.compile(loss=d_loss, optimizer=d_optimizer,
                          metrics=[keras.metrics.BinaryAccuracy(threshold=threshold, name="accuracy"),
                                   keras.metrics.Recall(thresholds=threshold, name="real_accuracy")])
    gan = build_gan(generator, discriminator)
    discriminator.trainable = False
    gan.compile(loss=d_loss, optimizer=g_optimizer,
                metrics=[keras.metrics.BinaryAccuracy(
                    threshold=0.0 if _from_logits(d_loss) else 0.5, name="accuracy")])
    discriminator.trainable = True
    return gan


def _from_logits(loss) -> bool:
    return bool(getattr(loss, "from_logits", False)) or (
        hasattr(loss, "get_config") and loss.get_config().get("from_logits", False))


def train_discriminator_step(discriminator, real_images, fake_images, *, mixed: bool = True):
    """Step 1 of GAN training (Chapter 1): one D update on a real and a fake batch.

    ``real_images``, ``fake_images``: (batch, 28, 28, 1) in [-1, 1]. Labels are
    1 for real and 0 for fake. Returns ``(d_loss, d_accuracy)``, each the
    mean over the two batches; :func:`train_discriminator_step_detailed` also
    gives the accuracy on each, and explains ``mixed``.
    """
    loss, acc_real, acc_fake = train_discriminator_step_detailed(
        discriminator, real_images, fake_images, mixed=mixed)
    return loss, 0.5 * (acc_real + acc_fake)


def train_discriminator_step_detailed(discriminator, real_images, fake_images, *, mixed: bool = True):
    """Like :func:`train_discriminator_step`; returns (d_loss, real_accuracy, fake_accuracy).

    real_accuracy: share of real images D calls real; fake_accuracy: share of
    fakes D calls fake. Needs ``discriminator`` compiled by :func:`compile_gan`.

    ``mixed=False`` is the slides' way (Chapter 1): two ``train_on_batch``
    calls, all-real then all-fake, so two optimizer steps. ``mixed=True``
    (Chapter 2 on) sends real and fake through D as *one* batch -- one step on
    the same loss. That keeps batch normalisation honest: a D with BN layers
    then normalises with statistics of a real/fake mixture, which is also what
    its moving statistics hold when it is frozen in G's step, instead of
    all-real or all-fake batch statistics that by themselves give the answer.
    """
    if len(real_images) != len(fake_images):
        raise ValueError(f"need as many fakes as real images, got {len(fake_images)} and {len(real_images)}")
    discriminator.trainable = True
    real_labels = np.ones((len(real_images), 1), np.float32)
    fake_labels = np.zeros((len(fake_images), 1), np.float32)
    if not mixed:
        real = discriminator.train_on_batch(real_images, real_labels, return_dict=True)
        fake = discriminator.train_on_batch(fake_images, fake_labels, return_dict=True)
        return 0.5 * (float(real["loss"]) + float(fake["loss"])), float(real["accuracy"]), float(fake["accuracy"])
    out = discriminator.train_on_batch(np.concatenate([real_images, fake_images]),   # (2 * batch, 28, 28, 1)
                                       np.concatenate([real_labels, fake_labels]), return_dict=True)
    real_acc = float(out["real_accuracy"])                 # recall of the class "real"
    return float(out["loss"]), real_acc, 2.0 * float(out["accuracy"]) - real_acc   # balanced batch


def train_generator_step(gan, discriminator, z):
    """Step 2 of GAN training (Chapter 1): one G update through a frozen D.

    ``z``: noise (batch, latent_dim). The target is "real" (1): G is rewarded
    when D is fooled. Returns the generator's loss (and, if ``gan`` was
    compiled with an accuracy metric, see :func:`generator_step_with_accuracy`).
    """
    return generator_step_with_accuracy(gan, discriminator, z)[0]


def generator_step_with_accuracy(gan, discriminator, z):
    """G's step, returning (g_loss, g_accuracy): the share of fakes D called real."""
    discriminator.trainable = False
    out = gan.train_on_batch(z, np.ones((len(z), 1), np.float32))
    discriminator.trainable = True
    out = np.atleast_1d(out)
    return float(out[0]), (float(out[1]) if len(out) > 1 else float("nan"))


HISTORY_KEYS = ("iteration", "d_loss", "d_accuracy", "real_accuracy", "fake_accuracy",
                "g_loss", "g_accuracy", "seconds")


def train_with_train_on_batch(generator, discriminator, gan, images, *, iterations: int,
                              batch_size: int = 128, report_every: int = 1000,
                              seed: int = 0, on_report=None, verbose: bool = True,
                              mixed: bool = True, seconds: float | None = None):
    """The training loop of Chapter 1 (GANs in Action's, for Keras 3); Chapter 2 reuses it.

    ``images``: float32 (N, 28, 28, 1) in [-1, 1]. Each iteration draws a random
    real batch and a batch of noise ~ N(0, 1), runs D's step (``mixed``: see
    :func:`train_discriminator_step_detailed`) then G's step.
    Every ``report_every`` iterations it records the *mean* over those
    iterations of D's loss and accuracy (also split into real and fake), G's
    loss and G's accuracy (share of fakes that fooled D), resets the trackers
    (``keras.metrics.Mean``, ``reset_state()``) and calls
    ``on_report(iteration, generator)``. With ``seconds``, it stops (and
    reports) after the first iteration that brings the training time to that
    budget, even before ``iterations``. Returns a dict of lists keyed by
    ``HISTORY_KEYS`` (``seconds``: training time so far).
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise ValueError(f"images must be (N, 28, 28, 1) in [-1, 1], got shape {images.shape}")
    if images.min() < -1.0001 or images.max() > 1.0001:
        raise ValueError("images must be scaled to [-1, 1] (use dcgan_lib.to_model_range).")
    rng = np.random.default_rng(seed)
    latent_dim = generator.input_shape[-1]
    trackers = {k: keras.metrics.Mean(name=k) for k in HISTORY_KEYS[1:-1]}
    history = {k: [] for k in HISTORY_KEYS}
    trained = 0.0
    for it in range(1, iterations + 1):
        start = time.perf_counter()
        real = images[rng.integers(0, len(images), batch_size)]
        z = rng.standard_normal((batch_size, latent_dim), dtype=np.float32)
        # G in training mode, as in G's own step (its batch norm, if any, then behaves
        # the same in both); a direct call is far faster than predict.
        fake = generator(z, training=True).numpy()
        d_loss, acc_real, acc_fake = train_discriminator_step_detailed(discriminator, real, fake, mixed=mixed)
        z = rng.standard_normal((batch_size, latent_dim), dtype=np.float32)
        g_loss, g_acc = generator_step_with_accuracy(gan, discriminator, z)
        trained += time.perf_counter() - start
        for key, value in (("d_loss", d_loss), ("d_accuracy", 0.5 * (acc_real + acc_fake)),
                           ("real_accuracy", acc_real), ("fake_accuracy", acc_fake),
                           ("g_loss", g_loss), ("g_accuracy", g_acc)):
            trackers[key].update_state(value)
        out_of_time = seconds is not None and trained >= seconds
        if it % report_every == 0 or it == iterations or out_of_time:
            history["iteration"].append(it)
            history["seconds"].append(trained)
            for key, tracker in trackers.items():
                history[key].append(float(tracker.result()))
                tracker.reset_state()
            if verbose:
                h = {k: v[-1] for k, v in history.items()}
                print(f"iteration {it:>6}  D loss {h['d_loss']:.3f}  D acc real {100 * h['real_accuracy']:5.1f}%"
                      f" fake {100 * h['fake_accuracy']:5.1f}%  G loss {h['g_loss']:.3f}"
                      f"  G fools D {100 * h['g_accuracy']:5.1f}%  ({trained:.0f} s)")
            if on_report is not None:
                on_report(it, generator)
        if out_of_time:
            break
    return history
