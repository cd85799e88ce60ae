"""Training GANs.

- Chapter 1: :func:`compile_gan`, :func:`train_discriminator_step`,
  :func:`train_generator_step`, :func:`train_with_train_on_batch` -- the
  compile-and-``train_on_batch`` way of GANs in Action, made right for Keras 3.
"""
from __future__ import annotations

import time

import numpy as np

from ._quiet import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

__all__ = [
    "compile_gan",
    "train_discriminator_step",
    "train_generator_step",
    "train_with_train_on_batch",
]


def compile_gan(generator, discriminator, *, d_optimizer=None, g_optimizer=None,
                d_loss="binary_crossentropy"):
    """Compile D and the combined model z -> D(G(z)) for ``train_on_batch`` (Chapter 1).

    Returns the combined model. Keras 3 fixes a model's list of trainable
    weights when its train function is *first built* (its first
    ``train_on_batch``/``fit`` after ``compile``), not at ``compile``. So this
    leaves ``discriminator.trainable`` True; the two step functions below set
    it right before each call, which is what makes the first D step build a
    train function with D's weights and the first G step one without them.
    ``d_loss``: "binary_crossentropy" for a sigmoid D; pass
    ``keras.losses.BinaryCrossentropy(from_logits=True)`` for a logit D.
    """
    from .models import build_gan

    d_optimizer = d_optimizer or keras.optimizers.Adam()
    g_optimizer = g_optimizer or keras.optimizers.Adam()
    discriminator.trainable = True
    discriminator.compile(loss=d_loss, optimizer=d_optimizer,
                          metrics=[keras.metrics.BinaryAccuracy(
                              threshold=0.0 if _from_logits(d_loss) else 0.5, name="accuracy")])
    gan = build_gan(generator, discriminator)
    discriminator.trainable = False
    gan.compile(loss=d_loss, optimizer=g_optimizer)
    discriminator.trainable = True
    return gan


def _from_logits(loss) -> bool:
    return bool(getattr(loss, "from_logits", False)) or (
        hasattr(loss, "get_config") and loss.get_config().get("from_logits", False))


def train_discriminator_step(discriminator, real_images, fake_images):
    """Step 1 of GAN training (Chapter 1): one D update on a real and a fake batch.

    ``real_images``, ``fake_images``: (batch, 28, 28, 1) in [-1, 1]. Labels are
    1 for real and 0 for fake. Returns ``(d_loss, d_accuracy)``, each the
    mean over the two batches.
    """
    discriminator.trainable = True
    real_labels = np.ones((len(real_images), 1), np.float32)
    fake_labels = np.zeros((len(fake_images), 1), np.float32)
    loss_real, acc_real = discriminator.train_on_batch(real_images, real_labels)
    loss_fake, acc_fake = discriminator.train_on_batch(fake_images, fake_labels)
    return 0.5 * (loss_real + loss_fake), 0.5 * (acc_real + acc_fake)


def train_generator_step(gan, discriminator, z):
    """Step 2 of GAN training (Chapter 1): one G update through a frozen D.

    ``z``: noise (batch, latent_dim). The target is "real" (1): G is rewarded
    when D is fooled. Returns the generator's loss.
    """
    discriminator.trainable = False
    loss = gan.train_on_batch(z, np.ones((len(z), 1), np.float32))
    discriminator.trainable = True
    return float(loss if np.ndim(loss) == 0 else loss[0])


def train_with_train_on_batch(generator, discriminator, gan, images, *, iterations: int,
                              batch_size: int = 128, report_every: int = 1000,
                              seed: int = 0, on_report=None, verbose: bool = True):
    """The training loop of Chapter 1 (GANs in Action's, for Keras 3).

    ``images``: float32 (N, 28, 28, 1) in [-1, 1]. Each iteration draws a random
    real batch and a batch of noise ~ N(0, 1), runs
    :func:`train_discriminator_step` then :func:`train_generator_step`. Every
    ``report_every`` iterations it records the *mean* D loss, D accuracy and G
    loss over those iterations and calls ``on_report(iteration, generator)``
    (to draw samples, say). Returns a dict of lists: iteration, d_loss,
    d_accuracy, g_loss, seconds (training time so far).
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise ValueError(f"images must be (N, 28, 28, 1) in [-1, 1], got shape {images.shape}")
    if images.min() < -1.0001 or images.max() > 1.0001:
        raise ValueError("images must be scaled to [-1, 1] (use dcgan_lib.to_model_range).")
    rng = np.random.default_rng(seed)
    latent_dim = generator.input_shape[-1]
    history = {"iteration": [], "d_loss": [], "d_accuracy": [], "g_loss": [], "seconds": []}
    sums = np.zeros(3)
    trained = 0.0
    for it in range(1, iterations + 1):
        start = time.perf_counter()
        real = images[rng.integers(0, len(images), batch_size)]
        z = rng.standard_normal((batch_size, latent_dim), dtype=np.float32)
        fake = generator(z, training=False).numpy()   # a direct call: far faster than predict
        d_loss, d_acc = train_discriminator_step(discriminator, real, fake)
        z = rng.standard_normal((batch_size, latent_dim), dtype=np.float32)
        g_loss = train_generator_step(gan, discriminator, z)
        trained += time.perf_counter() - start
        sums += (d_loss, d_acc, g_loss)
        if it % report_every == 0 or it == iterations:
            n = it - (history["iteration"][-1] if history["iteration"] else 0)
            d_loss_m, d_acc_m, g_loss_m = sums / n
            sums[:] = 0
            for key, value in zip(history, (it, d_loss_m, d_acc_m, g_loss_m, trained)):
                history[key].append(float(value))
            if verbose:
                print(f"iteration {it:>6}  D loss {d_loss_m:.4f}  D accuracy {100 * d_acc_m:5.1f}%"
                      f"  G loss {g_loss_m:.4f}  ({trained:.0f} s)")
            if on_report is not None:
                on_report(it, generator)
    return history
