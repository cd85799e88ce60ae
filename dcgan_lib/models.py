"""Generators and discriminators for MNIST, their noise and their verdicts.

Generators: z (batch, latent_dim) -> images (batch, 28, 28, 1) in [-1, 1]; discriminators:
images -> (batch, 1), P(real) or a logit. :data:`MODELS` names the pairs.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import keras
import numpy as np
from keras import layers

IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 100
NOISES = ("normal", "uniform")


def draw_noise(shape, kind: str = "normal", seed=None):
    """The noise z ~ N(0, 1) (``kind="normal"``) or U(-1, 1) (``"uniform"``), float32 ``shape``.

    ``seed``: a numpy ``Generator`` (a numpy array, outside a step), a stateless seed tensor of
    two ints (a replica's own noise), or what ``keras.random`` takes (an int, a SeedGenerator).
    """
    if kind not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {kind!r}")
    uniform = kind == "uniform"
    if isinstance(seed, np.random.Generator):
        z = seed.uniform(-1.0, 1.0, shape) if uniform else seed.standard_normal(shape, np.float32)
        return z.astype(np.float32, copy=False)
    if hasattr(seed, "dtype") and not isinstance(seed, keras.random.SeedGenerator):
        import tensorflow as tf

        if uniform:
            return tf.random.stateless_uniform(shape, seed, minval=-1.0, maxval=1.0)
        return tf.random.stateless_normal(shape, seed)
    if uniform:
        return keras.random.uniform(shape, minval=-1.0, maxval=1.0, seed=seed)
    return keras.random.normal(shape, seed=seed)


def threshold(logits: bool) -> float:
    """D's output at which an image counts as judged real: logit 0 is probability 0.5."""
    return 0.0 if logits else 0.5


def generate_batches(generator, n: int, *, noise="normal", seed=0, batch_size=500):
    """:func:`generate_images` one batch at a time (same images, one batch in memory)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = np.random.default_rng(seed)  # drawn in pieces, numpy's stream stays the same
    for start in range(0, n, batch_size):
        z = draw_noise((min(batch_size, n - start), generator.input_shape[-1]), noise, rng)
        yield np.clip(np.asarray(generator(z, training=False), np.float32), -1.0, 1.0)


def generate_images(generator, n: int, *, noise="normal", seed=0, batch_size=500):
    """``n`` images of ``generator``: float32 (n, 28, 28, 1) in [-1, 1]. Defined in Chapter 1.

    The same ``seed`` gives the same images; G runs in inference mode, ``batch_size`` at a time.
    """
    batches = generate_batches(generator, n, noise=noise, seed=seed, batch_size=batch_size)
    return np.concatenate(list(batches))


# --- Chapter 1: the dense GAN ---------------------------------------------------------


def build_dense_generator(latent_dim=LATENT_DIM, hidden=128, negative_slope=0.01):
    """z (batch, latent_dim) -> (batch, 28, 28, 1) in [-1, 1], Dense. Defined in Chapter 1."""
    return keras.Sequential(
        [
            keras.Input((latent_dim,)),
            layers.Dense(hidden),  # (batch, 128)
            layers.LeakyReLU(negative_slope),
            layers.Dense(28 * 28, activation="tanh"),  # (batch, 784) in [-1, 1]
            layers.Reshape(IMAGE_SHAPE),  # (batch, 28, 28, 1)
        ],
        name="dense_generator",
    )


def build_dense_discriminator(hidden=128, negative_slope=0.01):
    """(batch, 28, 28, 1) -> P(real) (batch, 1) in (0, 1), Dense. Defined in Chapter 1."""
    return keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Flatten(),  # (batch, 784)
            layers.Dense(hidden),  # (batch, 128)
            layers.LeakyReLU(negative_slope),
            layers.Dense(1, activation="sigmoid"),  # (batch, 1) in (0, 1)
        ],
        name="dense_discriminator",
    )


def build_gan(generator, discriminator):
    """The combined model z -> D(G(z)): (batch, latent_dim) -> (batch, 1). Defined in Chapter 1."""
    z = keras.Input(generator.input_shape[1:])
    return keras.Model(z, discriminator(generator(z)), name="gan")


# --- Chapter 2: convolutional GANs ----------------------------------------------------


def build_tutorial_generator(latent_dim=LATENT_DIM, negative_slope=0.3):
    """TensorFlow's DCGAN tutorial G: z -> (batch, 28, 28, 1) in [-1, 1]. Defined in Chapter 2.

    Dense -> 7x7x256 -> transposed convolutions to 7x7x128, 14x14x64, 28x28x1 (tanh), batch
    norm and LeakyReLU after the hidden layers. The tutorial's ``LeakyReLU()`` has slope 0.3
    (DCGAN's paper: 0.2); ``negative_slope=0`` makes it a ReLU.
    """
    bn_act = lambda: [layers.BatchNormalization(), layers.LeakyReLU(negative_slope)]
    stack = [keras.Input((latent_dim,)), layers.Dense(7 * 7 * 256, use_bias=False), *bn_act()]
    stack += [layers.Reshape((7, 7, 256))]  # (batch, 7, 7, 256)
    for filters, stride in ((128, 1), (64, 2)):  # (batch, 7, 7, 128), (batch, 14, 14, 64)
        stack += [layers.Conv2DTranspose(filters, 5, stride, "same", use_bias=False), *bn_act()]
    tanh = layers.Conv2DTranspose(1, 5, 2, "same", use_bias=False, activation="tanh")
    return keras.Sequential([*stack, tanh], name="tutorial_generator")  # (batch, 28, 28, 1)


def build_tutorial_discriminator(negative_slope=0.3, dropout=0.3, batch_norm=False):
    """The tutorial's D: images -> one **logit** (batch, 1). Defined in Chapter 2.

    Conv 64 and Conv 128 (5x5, stride 2), each with LeakyReLU and dropout (``batch_norm=True``:
    batch normalisation before the LeakyReLU instead of dropout), flatten, Dense(1).
    """
    stack = [keras.Input(IMAGE_SHAPE)]
    for filters in (64, 128):  # (batch, 14, 14, 64), (batch, 7, 7, 128)
        stack.append(layers.Conv2D(filters, 5, strides=2, padding="same"))
        stack += [layers.BatchNormalization()] if batch_norm else []
        stack.append(layers.LeakyReLU(negative_slope))
        stack += [] if batch_norm else [layers.Dropout(dropout)]
    stack += [layers.Flatten(), layers.Dense(1)]  # (batch, 6272) -> (batch, 1) logit
    return keras.Sequential(stack, name="tutorial_discriminator")


def _upsampling_generator(latent_dim, blocks, momentum, dense_activation, name):
    z = keras.Input((latent_dim,))
    x = layers.Dense(7 * 7 * 32, activation=dense_activation)(z)  # (batch, 1568)
    x = layers.Reshape((7, 7, 32))(x)  # (batch, 7, 7, 32)
    for filters, upsample in blocks:
        x = layers.Conv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization(momentum=momentum)(x)
        x = layers.ReLU()(x)
        if upsample:
            x = layers.UpSampling2D()(x)  # 7 -> 14 -> 28
    x = layers.Conv2D(1, 3, padding="same", activation="tanh")(x)  # (batch, 28, 28, 1)
    return keras.Model(z, x, name=name)


def build_blog_generator(latent_dim=LATENT_DIM):
    """The blog's G as its code gives it (source 001): z -> images. Defined in Chapter 2.

    Dense(1568, ReLU) -> 7x7x32 -> Conv 64, UpSampling, Conv 128, UpSampling, Conv 64 (each
    3x3 with BN(momentum 0.8) and ReLU) -> Conv 1 (tanh). 326,113 parameters.
    """
    blocks = ((64, True), (128, True), (64, False))
    return _upsampling_generator(latent_dim, blocks, 0.8, "relu", "blog_generator")


def build_upsample_generator(latent_dim=LATENT_DIM, widths=(128, 64)):
    """The course's variant of the blog's G: z -> images in [-1, 1]. Defined in Chapter 2.

    Dense(1568) -> 7x7x32 -> one Conv/BN/ReLU/UpSampling block per width -> Conv(1, tanh).
    Upsampling then an ordinary convolution, not a transposed one: no checkerboard artefacts.
    """
    blocks = [(width, True) for width in widths]
    return _upsampling_generator(latent_dim, blocks, 0.99, None, "upsample_generator")


def _strided_discriminator(blocks, momentum, negative_slope, name):
    image = keras.Input(IMAGE_SHAPE)
    x = image
    for filters, stride, batch_norm in blocks:
        x = layers.Conv2D(filters, 3, strides=stride, padding="same")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=momentum)(x)
        x = layers.LeakyReLU(negative_slope)(x)
    x = layers.GlobalAveragePooling2D()(x)  # (batch, channels)
    return keras.Model(image, layers.Dense(1, activation="sigmoid")(x), name=name)


def build_blog_discriminator(negative_slope=0.2):
    """The blog's D as its code gives it: images -> P(real) (batch, 1). Defined in Chapter 2.

    Conv 32, 64, 128 (3x3, stride 2), each with BN(momentum 0.8) and LeakyReLU(0.2); global
    average pooling; Dense(1, sigmoid). 93,697 parameters.
    """
    blocks = ((32, 2, True), (64, 2, True), (128, 2, True))  # 14x14x32, 7x7x64, 4x4x128
    return _strided_discriminator(blocks, 0.8, negative_slope, "blog_discriminator")


def build_upsample_discriminator(negative_slope=0.2, momentum=0.9):
    """The course's variant of the blog's D: images -> P(real) (batch, 1). Defined in Chapter 2.

    Conv 64 (stride 2), 128 (stride 2), 128 (stride 1) with LeakyReLU(0.2); batch norm in the
    last two only (DCGAN: none on D's input layer), momentum 0.9 so that the moving statistics
    a frozen D uses in G's step keep up with G; global average pooling; Dense(1, sigmoid).
    """
    blocks = ((64, 2, False), (128, 2, True), (128, 1, True))  # 14x14x64, 7x7x128, 7x7x128
    return _strided_discriminator(blocks, momentum, negative_slope, "upsample_discriminator")


# --- Appendix A: a DCGAN for CPUs -----------------------------------------------------


def build_fast_generator(latent_dim=64, width=64):
    """Narrow DCGAN G for CPUs: z (batch, 64) -> images in [-1, 1]. Defined in Appendix A.

    Dense -> 7x7x(2 width) -> 4x4 stride-2 transposed convolutions to 14x14xwidth, 28x28x1 (tanh).
    """
    return keras.Sequential(
        [
            keras.Input((latent_dim,)),
            layers.Dense(7 * 7 * 2 * width, use_bias=False),  # (batch, 6272)
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Reshape((7, 7, 2 * width)),  # (batch, 7, 7, 128)
            layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False),  # 14x14x64
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),  # 28x28x1
        ],
        name="fast_generator",
    )


def build_fast_discriminator(width=16, depth=3, negative_slope=0.2):
    """Narrow DCGAN D for CPUs: images -> one **logit** (batch, 1). Defined in Appendix A.

    ``depth`` 4x4 stride-2 convolutions of width, 2 width, ... filters, each with LeakyReLU(0.2),
    no batch norm, no dropout; flatten, Dense(1). Chosen by measurement (BENCHMARKS.md).
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    stack = [keras.Input(IMAGE_SHAPE)]
    for i in range(depth):  # (batch, 14, 14, 16) -> (batch, 7, 7, 32) -> (batch, 4, 4, 64)
        stack += [layers.Conv2D(width * 2**i, 4, 2, "same"), layers.LeakyReLU(negative_slope)]
    stack += [layers.Flatten(), layers.Dense(1)]  # (batch, 1024) -> (batch, 1) logit
    return keras.Sequential(stack, name="fast_discriminator")


class ModelSpec(NamedTuple):
    """A named pair: its builders, whether D outputs logits, its training defaults, and whether
    it trains on labelled images, as Chapter 5's conditional GAN does."""

    generator: object
    discriminator: object
    logits: bool
    defaults: dict
    labelled: bool = False


# Each model's name (the CLI's --model), builders and training defaults, chosen by measurement
# (benchmarks/fast_config_search.md, its rounds; BENCHMARKS.md). "dense": Adam(1e-3) and an average.
_DCGAN = dict(learning_rate=2e-4, beta_1=0.5, batch_size=128)  # Radford et al. (2015)
_DENSE = dict(learning_rate=1e-3, beta_1=0.5, batch_size=128, ema_decay=0.999)
_TUTORIAL = dict(learning_rate=1e-4, beta_1=0.9, batch_size=256)  # the TF tutorial's
_FAST = dict(learning_rate=3e-4, g_learning_rate=6e-4, beta_1=0.5, batch_size=64, ema_decay=0.999)
_FAST["xla"] = "on"  # 1.5 x the images/s on AVX2, 0.92 x on AVX-512 (BENCHMARKS.md §2)
_FAST_G18 = _FAST | dict(g_learning_rate=1.8e-3)  # §8; Chapters 5-6 were measured with 6e-4
_NARROW_G = partial(build_fast_generator, width=32)  # better in 3 min on slow CPUs, not 10 (§8)
MODELS = {
    "dense": ModelSpec(build_dense_generator, build_dense_discriminator, False, _DENSE),
    "tutorial": ModelSpec(build_tutorial_generator, build_tutorial_discriminator, True, _TUTORIAL),
    "upsample": ModelSpec(build_upsample_generator, build_upsample_discriminator, False, _DCGAN),
    "fast": ModelSpec(build_fast_generator, build_fast_discriminator, True, _FAST_G18),
    "fast-narrow": ModelSpec(_NARROW_G, build_fast_discriminator, True, _FAST_G18),
}

__all__ = [name for name in dir() if name.startswith("build_")] + ["MODELS", "generate_images"]

from . import architectures, conditional  # noqa: E402, F401  register "resnet", "conditional"
