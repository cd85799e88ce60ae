"""Generators and discriminators for 28x28x1 MNIST digits.

Every generator maps noise z of shape (batch, latent_dim) to images of shape
(batch, 28, 28, 1) in [-1, 1] (tanh). Every discriminator maps such images to
one number per image, shape (batch, 1): a probability in (0, 1) for the
``sigmoid`` ones, an unbounded logit for the ``logit`` ones (noted per model).

- Chapter 1: :func:`build_dense_generator`, :func:`build_dense_discriminator`,
  :func:`build_gan` (the dense GAN of GANs in Action, ch. 3).
- Chapter 2: :func:`build_tutorial_generator`, :func:`build_tutorial_discriminator`
  (TensorFlow's DCGAN tutorial); :func:`build_blog_generator`,
  :func:`build_blog_discriminator` (the Keras functional-API blog's DCGAN, exactly
  as its code gives it, source 001) and :func:`build_upsample_generator`,
  :func:`build_upsample_discriminator` (the course's stabilised variant of it).
- Appendix A: :func:`build_fast_generator`, :func:`build_fast_discriminator`
  (a narrow DCGAN chosen by measurement for CPUs; see ``BENCHMARKS.md``).
"""
from __future__ import annotations

from ._startup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

__all__ = [
    "IMAGE_SHAPE",
    "LATENT_DIM",
    "build_dense_generator",
    "build_dense_discriminator",
    "build_gan",
    "build_tutorial_generator",
    "build_tutorial_discriminator",
    "build_blog_generator",
    "build_blog_discriminator",
    "build_upsample_generator",
    "build_upsample_discriminator",
    "build_fast_generator",
    "build_fast_discriminator",
    "MODEL_BUILDERS",
]

IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 100


# --- Chapter 1: the dense GAN ------------------------------------------------

def build_dense_generator(latent_dim: int = LATENT_DIM, hidden: int = 128,
                          negative_slope: float = 0.01) -> keras.Model:
    """Dense generator of Chapter 1: z (batch, latent_dim) -> (batch, 28, 28, 1) in [-1, 1].

    Dense(hidden) -> LeakyReLU(0.01) -> Dense(784, tanh) -> Reshape(28, 28, 1).
    """
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(hidden),                          # (batch, 128)
        layers.LeakyReLU(negative_slope),
        layers.Dense(28 * 28, activation="tanh"),      # (batch, 784) in [-1, 1]
        layers.Reshape(IMAGE_SHAPE),                   # (batch, 28, 28, 1)
    ], name="dense_generator")


def build_dense_discriminator(hidden: int = 128, negative_slope: float = 0.01) -> keras.Model:
    """Dense discriminator of Chapter 1: (batch, 28, 28, 1) -> P(real), (batch, 1) in (0, 1).

    Flatten -> Dense(hidden) -> LeakyReLU(0.01) -> Dense(1, sigmoid).
    """
    return keras.Sequential([
        keras.Input(IMAGE_SHAPE),
        layers.Flatten(),                              # (batch, 784)
        layers.Dense(hidden),                          # (batch, 128)
        layers.LeakyReLU(negative_slope),
        layers.Dense(1, activation="sigmoid"),         # (batch, 1) in (0, 1)
    ], name="dense_discriminator")


def build_gan(generator: keras.Model, discriminator: keras.Model) -> keras.Model:
    """The combined model of Chapter 1: z -> D(G(z)), (batch, latent_dim) -> (batch, 1).

    It shares its layers with ``generator`` and ``discriminator``: training it
    changes whichever of them is trainable when its train function is built
    (see :func:`dcgan_lib.training.compile_gan`).
    """
    z = keras.Input(generator.input_shape[1:])
    return keras.Model(z, discriminator(generator(z)), name="gan")


# --- Chapter 2: two convolutional GANs -----------------------------------------

def build_tutorial_generator(latent_dim: int = LATENT_DIM, negative_slope: float = 0.3) -> keras.Model:
    """Generator of TensorFlow's DCGAN tutorial: z -> (batch, 28, 28, 1) in [-1, 1].

    Dense -> 7x7x256 -> Conv2DTranspose 7x7x128 -> 14x14x64 -> 28x28x1 (tanh),
    batch norm and LeakyReLU after each hidden layer. The tutorial writes
    ``LeakyReLU()``, whose default slope is 0.3 in both Keras 2 and Keras 3
    (DCGAN's paper uses 0.2); we spell the 0.3 out.
    """
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(7 * 7 * 256, use_bias=False),     # (batch, 12544)
        layers.BatchNormalization(),
        layers.LeakyReLU(negative_slope),
        layers.Reshape((7, 7, 256)),                   # (batch, 7, 7, 256)
        layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),  # (batch, 7, 7, 128)
        layers.BatchNormalization(),
        layers.LeakyReLU(negative_slope),
        layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),   # (batch, 14, 14, 64)
        layers.BatchNormalization(),
        layers.LeakyReLU(negative_slope),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                               activation="tanh"),   # (batch, 28, 28, 1)
    ], name="tutorial_generator")


def build_tutorial_discriminator(negative_slope: float = 0.3, dropout: float = 0.3) -> keras.Model:
    """Discriminator of TensorFlow's DCGAN tutorial: images -> one **logit**, (batch, 1).

    Conv 64 and Conv 128 (5x5, stride 2) with LeakyReLU and dropout 0.3,
    flatten, Dense(1) without activation: pair it with
    ``BinaryCrossentropy(from_logits=True)``.
    """
    return keras.Sequential([
        keras.Input(IMAGE_SHAPE),
        layers.Conv2D(64, 5, strides=2, padding="same"),   # (batch, 14, 14, 64)
        layers.LeakyReLU(negative_slope),
        layers.Dropout(dropout),
        layers.Conv2D(128, 5, strides=2, padding="same"),  # (batch, 7, 7, 128)
        layers.LeakyReLU(negative_slope),
        layers.Dropout(dropout),
        layers.Flatten(),                                  # (batch, 6272)
        layers.Dense(1),                                   # (batch, 1) logit
    ], name="tutorial_discriminator")


def build_blog_generator(latent_dim: int = LATENT_DIM) -> keras.Model:
    """The blog's generator as its code gives it (Chapter 2): z -> (batch, 28, 28, 1) in [-1, 1].

    Dense(1568, ReLU) -> 7x7x32 -> Conv 64 -> BN(momentum 0.8) -> ReLU -> UpSampling ->
    Conv 128 -> BN -> ReLU -> UpSampling -> Conv 64 -> BN -> ReLU -> Conv 1 (tanh); all
    convolutions 3x3, stride 1, "same". 326,113 parameters.
    """
    z = keras.Input((latent_dim,))
    x = layers.Dense(7 * 7 * 32, activation="relu")(z)           # (batch, 1568)
    x = layers.Reshape((7, 7, 32))(x)                            # (batch, 7, 7, 32)
    for filters, upsample in ((64, True), (128, True), (64, False)):
        x = layers.Conv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization(momentum=0.8)(x)
        x = layers.ReLU()(x)                                     # 7x7x64, 14x14x128, 28x28x64
        if upsample:
            x = layers.UpSampling2D()(x)                         # 7 -> 14 -> 28
    x = layers.Conv2D(1, 3, padding="same", activation="tanh")(x)  # (batch, 28, 28, 1)
    return keras.Model(z, x, name="blog_generator")


def build_blog_discriminator(negative_slope: float = 0.2) -> keras.Model:
    """The blog's discriminator as its code gives it (Chapter 2): images -> P(real), (batch, 1).

    Three blocks of Conv (3x3, stride 2; 32, 64, 128 filters) -> BN(momentum 0.8) ->
    LeakyReLU(0.2), global average pooling, Dense(1, sigmoid). 93,697 parameters.
    """
    image = keras.Input(IMAGE_SHAPE)
    x = image
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization(momentum=0.8)(x)
        x = layers.LeakyReLU(negative_slope)(x)                  # 14x14x32, 7x7x64, 4x4x128
    x = layers.GlobalAveragePooling2D()(x)                       # (batch, 128)
    p = layers.Dense(1, activation="sigmoid")(x)                 # (batch, 1) in (0, 1)
    return keras.Model(image, p, name="blog_discriminator")


def build_upsample_generator(latent_dim: int = LATENT_DIM) -> keras.Model:
    """The course's variant of the blog's generator: z -> (batch, 28, 28, 1) in [-1, 1].

    Dense(1568) -> reshape 7x7x32 -> two blocks of Conv/BN/ReLU/UpSampling ->
    Conv(1, tanh). Upsampling plus an ordinary convolution instead of a
    transposed convolution avoids checkerboard artefacts.
    """
    z = keras.Input((latent_dim,))
    x = layers.Dense(7 * 7 * 32)(z)                    # (batch, 1568)
    x = layers.Reshape((7, 7, 32))(x)                  # (batch, 7, 7, 32)
    for filters in (128, 64):
        x = layers.Conv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.UpSampling2D()(x)                   # 7 -> 14 -> 28
    x = layers.Conv2D(1, 3, padding="same", activation="tanh")(x)  # (batch, 28, 28, 1)
    return keras.Model(z, x, name="upsample_generator")


def build_upsample_discriminator(negative_slope: float = 0.2) -> keras.Model:
    """The course's variant of the blog's discriminator: images -> P(real), (batch, 1).

    Three Conv/LeakyReLU(0.2) blocks (stride 2, 2, 1), batch norm in the last
    two (DCGAN: none on D's input layer; momentum 0.9 so the moving statistics
    a *frozen* D uses in G's step keep up with G), global average pooling,
    Dense(1, sigmoid).
    """
    image = keras.Input(IMAGE_SHAPE)
    x = image
    for block, (filters, stride) in enumerate(((64, 2), (128, 2), (128, 1))):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same")(x)
        if block > 0:                                  # DCGAN: no batch norm on D's input layer
            x = layers.BatchNormalization(momentum=0.9)(x)  # moving stats follow G within ~10 steps
        x = layers.LeakyReLU(negative_slope)(x)        # 14x14x64, 7x7x128, 7x7x128
    x = layers.GlobalAveragePooling2D()(x)             # (batch, 128)
    p = layers.Dense(1, activation="sigmoid")(x)       # (batch, 1) in (0, 1)
    return keras.Model(image, p, name="upsample_discriminator")


# --- Appendix A: a DCGAN for CPUs -----------------------------------------------------

def build_fast_generator(latent_dim: int = 64, width: int = 64) -> keras.Model:
    """Narrow DCGAN generator for CPUs: z (batch, 64) -> (batch, 28, 28, 1) in [-1, 1].

    The DCGAN paper's recipe at a width that suits a laptop: Dense -> 7x7x(2*width),
    one 4x4 stride-2 transposed convolution to 14x14xwidth, another to 28x28x1
    (tanh); batch norm and ReLU after each hidden layer. About 1/7 of the
    tutorial generator's arithmetic per image (``BENCHMARKS.md``).
    """
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(7 * 7 * 2 * width, use_bias=False),           # (batch, 6272)
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.Reshape((7, 7, 2 * width)),                          # (batch, 7, 7, 128)
        layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False),  # (batch, 14, 14, 64)
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),   # (batch, 28, 28, 1)
    ], name="fast_generator")


def build_fast_discriminator(width: int = 16, depth: int = 3, negative_slope: float = 0.2) -> keras.Model:
    """Narrow DCGAN discriminator for CPUs: images -> one **logit**, (batch, 1).

    ``depth`` 4x4 stride-2 convolutions, the first with ``width`` filters and
    each next one with twice as many, each followed by LeakyReLU(0.2); no
    batch norm and no dropout; flatten, Dense(1). The default (widths 16, 32,
    64) reached a far lower Fréchet distance in three minutes than two wider
    layers (32, 64), for less arithmetic (``benchmarks/fast_config_search.md``).
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    stack = [keras.Input(IMAGE_SHAPE)]                               # (batch, 28, 28, 1)
    for i in range(depth):   # (batch, 14, 14, 16) -> (batch, 7, 7, 32) -> (batch, 4, 4, 64)
        stack += [layers.Conv2D(width * 2 ** i, 4, strides=2, padding="same"),
                  layers.LeakyReLU(negative_slope)]
    stack += [layers.Flatten(),                                      # (batch, 1024)
              layers.Dense(1)]                                       # (batch, 1) logit
    return keras.Sequential(stack, name="fast_discriminator")


# name -> (generator builder, discriminator builder, discriminator outputs logits?)
MODEL_BUILDERS = {
    "dense": (build_dense_generator, build_dense_discriminator, False),
    "tutorial": (build_tutorial_generator, build_tutorial_discriminator, True),
    "upsample": (build_upsample_generator, build_upsample_discriminator, False),
    "fast": (build_fast_generator, build_fast_discriminator, True),
}
