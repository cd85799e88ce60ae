"""Chapter 6: the generators and discriminators it compares, and what a training step costs.

Each is Appendix A's fast pair changed in one respect: how G upsamples, how deep G is, or
residual blocks in both players (``MODELS["resnet"]``, ``python -m dcgan_lib train --model
resnet``). Generators: z (batch, 64) -> images (batch, 28, 28, 1) in [-1, 1]; discriminators:
images -> one logit (batch, 1). Used as ``dl.architectures.<name>``.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
from functools import partial

import keras
from keras import layers

from .artefacts import ArtefactTrace, artefact_score
from .callbacks import TimeBudget
from .gan import make_gan
from .models import (
    _FAST,
    MODELS,
    ModelSpec,
    build_fast_discriminator,
    build_fast_generator,
    generate_images,
)
from .quality import evaluate_images

__all__ = ["build_variant_generator", "residual_block", "build_resnet_generator"]
__all__ += ["build_resnet_discriminator", "make_variant_gan", "width_for_parameters"]
__all__ += ["measure_training_step", "race", "CONTENDERS"]
UPSAMPLINGS, EXTRAS = ("transposed", "resize"), (None, "stride1", "residual")


def residual_block(x, filters, resample=None, *, batch_norm=True, activation="relu"):
    """Two 3x3 convolutions and a skip connection: x + F(x). Defined in Chapter 6.

    x (batch, h, w, c) -> (batch, h', w', filters): F = [BN] act conv [BN] act conv
    (pre-activation, He et al. 2016); ``resample`` "up" (nearest x2 before the first
    convolution: G's blocks) or "down" (2x2 average pooling after the second: D's); the skip
    is x, resampled alike and passed through a 1x1 convolution when its shape changes.
    ``batch_norm=False``: no batch norm (D's block on the input image, as DCGAN has none there);
    ``activation="leaky"``: LeakyReLU(0.2) (D's blocks)."""
    if resample not in (None, "up", "down") or activation not in ("relu", "leaky"):
        rule = 'resample must be None, "up" or "down", activation "relu" or "leaky"; got '
        raise ValueError(f"{rule}resample={resample!r}, activation={activation!r}")
    act = layers.ReLU if activation == "relu" else lambda: layers.LeakyReLU(0.2)
    norm = layers.BatchNormalization if batch_norm else lambda: layers.Identity()
    h = act()(norm()(x))
    if resample == "up":
        h = layers.UpSampling2D()(h)  # (batch, 2h, 2w, c)
    h = layers.Conv2D(filters, 3, padding="same")(h)
    h = layers.Conv2D(filters, 3, padding="same")(act()(norm()(h)))  # (batch, ., ., filters)
    skip = layers.UpSampling2D()(x) if resample == "up" else x
    if resample == "down":
        h, skip = layers.AveragePooling2D(2)(h), layers.AveragePooling2D(2)(skip)  # h/2, w/2
    if x.shape[-1] != filters:
        skip = layers.Conv2D(filters, 1)(skip)
    return layers.Add()([h, skip])


def build_variant_generator(
    latent_dim=64, width=64, *, upsampling="transposed", kernel=4, extra=None
):
    """Appendix A's fast G with one thing changed: z -> images in [-1, 1]. Defined in Chapter 6.

    Dense -> 7x7x(2 width) -> 14x14xwidth -> 28x28x1 (tanh). ``upsampling="transposed"``: each
    x2 is a kernel x kernel stride-2 transposed convolution (4: the fast G; 5: the tutorial's);
    ``"resize"``: nearest-neighbour UpSampling2D, then a kernel x kernel convolution (the blog's
    way, with kernel 3). ``extra`` adds depth at 7x7 and at 14x14: ``"stride1"``, a 3x3 stride-1
    transposed convolution with BN and ReLU; ``"residual"``, a :func:`residual_block`, then BN
    and ReLU.
    """
    if upsampling not in UPSAMPLINGS or extra not in EXTRAS:
        raise ValueError(f"upsampling must be one of {UPSAMPLINGS} and extra one of {EXTRAS}")

    def deeper(x):
        if extra == "stride1":
            x = layers.Conv2DTranspose(x.shape[-1], 3, 1, "same", use_bias=False)(x)
            return layers.ReLU()(layers.BatchNormalization()(x))
        if extra == "residual":  # BN and ReLU after the block too, as after every layer here
            x = layers.ReLU()(layers.BatchNormalization()(residual_block(x, x.shape[-1])))
        return x

    def up(x, filters, **kw):  # (batch, h, w, c) -> (batch, 2h, 2w, filters)
        if upsampling == "transposed":
            return layers.Conv2DTranspose(filters, kernel, 2, "same", **kw)(x)
        return layers.Conv2D(filters, kernel, padding="same", **kw)(layers.UpSampling2D()(x))

    z = keras.Input((latent_dim,))
    x = layers.Dense(7 * 7 * 2 * width, use_bias=False)(z)  # (batch, 98 width)
    x = layers.Reshape((7, 7, 2 * width))(layers.ReLU()(layers.BatchNormalization()(x)))
    x = up(deeper(x), width, use_bias=False)  # (batch, 14, 14, width)
    x = deeper(layers.ReLU()(layers.BatchNormalization()(x)))
    name = f"{upsampling}{kernel}_{extra or 'plain'}_generator"
    return keras.Model(z, up(x, 1, activation="tanh"), name=name)  # (batch, 28, 28, 1)


def build_resnet_generator(latent_dim=64, width=64):
    """ResNet G: z (batch, 64) -> images (batch, 28, 28, 1) in [-1, 1]. Defined in Chapter 6.

    Dense -> 7x7x(2 width) -> up-block to 14x14xwidth -> up-block to 28x28x(width/2) -> BN,
    ReLU, 3x3 convolution to one channel, tanh (the shape of Miyato et al.'s 2018 SNGAN G).
    At width 64 it has the fast G's parameters (558,017 against 558,849), 6.7x its arithmetic.
    """
    z = keras.Input((latent_dim,))
    x = layers.Reshape((7, 7, 2 * width))(layers.Dense(7 * 7 * 2 * width)(z))
    x = residual_block(x, width, "up")  # (batch, 14, 14, width)
    x = residual_block(x, width // 2, "up")  # (batch, 28, 28, width / 2)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    image = layers.Conv2D(1, 3, padding="same", activation="tanh")(x)  # (batch, 28, 28, 1)
    return keras.Model(z, image, name="resnet_generator")


def build_resnet_discriminator(width=16, batch_norm=True):
    """ResNet D: images (batch, 28, 28, 1) -> one **logit** (batch, 1). Defined in Chapter 6.

    Down-blocks to 14x14xwidth and 7x7x(2 width), a block at 7x7x(2 width), LeakyReLU(0.2),
    global average pooling, Dense(1). Batch norm in every block but on the input (DCGAN's rule).
    At width 16: 35,921 parameters, near the fast D's 42,353.
    """
    image = keras.Input((28, 28, 1))
    x = residual_block(image, width, "down", batch_norm=False, activation="leaky")  # 14x14
    x = residual_block(x, 2 * width, "down", batch_norm=batch_norm, activation="leaky")  # 7x7
    x = residual_block(x, 2 * width, batch_norm=batch_norm, activation="leaky")  # 7x7
    x = layers.GlobalAveragePooling2D()(layers.LeakyReLU(0.2)(x))  # (batch, 2 width)
    return keras.Model(image, layers.Dense(1)(x), name="resnet_discriminator")


def make_variant_gan(build_generator, build_discriminator=build_fast_discriminator, **kwargs):
    """:func:`~dcgan_lib.make_gan` of the fast settings for any builders. Defined in Chapter 6.

    ``build_generator()`` and ``build_discriminator()`` (a logit) make the players; Adam, batch
    size and weight average are the fast settings, G's rate 6e-4 (``MODELS["resnet"].defaults``,
    as BENCHMARKS.md section 7 measured; ``MODELS["fast"]`` has 1.8e-3); ``kwargs`` go to
    ``make_gan`` (``seed``, ``jit_compile``, ...).
    """
    MODELS["variant"] = ModelSpec(build_generator, build_discriminator, True, _FAST)
    try:
        return make_gan("variant", **kwargs)
    finally:
        del MODELS["variant"]


def width_for_parameters(build, parameters: int) -> int:
    """The width (1 to 512) at which ``build(width=width)`` has the parameter count nearest
    ``parameters``, found by bisection (the count grows with the width). Defined in Chapter 6."""
    count = lambda width: build(width=width).count_params()
    low, high = 1, 512
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if count(middle) < parameters else (low, middle)
    return min((low, high), key=lambda width: abs(count(width) - parameters))


# Chapter 6's contenders: name -> (G's builder, D's). All but "resnet" pit a G against the
# fast D; "stride1" and "residual" are narrowed to the fast G's parameters (558,849; the widths
# are width_for_parameters' answers, checked in tests/test_architectures.py).
CONTENDERS = {
    "fast": (build_fast_generator, build_fast_discriminator),
    "k5": (partial(build_variant_generator, kernel=5), build_fast_discriminator),
    "resize": (
        partial(build_variant_generator, upsampling="resize", kernel=3),
        build_fast_discriminator,
    ),
    "stride1": (
        partial(build_variant_generator, extra="stride1", width=52),
        build_fast_discriminator,
    ),
    "residual": (
        partial(build_variant_generator, extra="residual", width=46),
        build_fast_discriminator,
    ),
    "resnet": (build_resnet_generator, build_resnet_discriminator),
}


def race(name, data, *, seconds=None, steps=None, seed=0, samples=10_000, every=100, **options):
    """Train ``CONTENDERS[name]`` for ``seconds`` of wall clock (compiling included) or for
    ``steps``, then score it. Defined in Chapter 6.

    ``data``: endless batches of 64 real images (batch, 28, 28, 1) in [-1, 1]; ``options``:
    ``jit_compile`` (True: XLA) and ``callbacks``. Keras' global state is cleared first (models
    built before keep working). Scores ``samples`` images of the weight average (noise seed
    ``seed + 1``). Returns a dict: ``gan``, ``seconds``, ``steps``,
    ``images_per_s``, ``parameters`` (G, D), ``fid``, ``classes``, ``artefact`` (mean
    :func:`~dcgan_lib.artefacts.artefact_score`), ``samples`` and ``trace`` (ArtefactTrace's rows).
    """
    jit_compile, callbacks = options.pop("jit_compile", True), options.pop("callbacks", ())
    if options or (seconds is None) == (steps is None):
        raise TypeError(f"race needs seconds or steps (one), and no {sorted(options)}")
    keras.backend.clear_session()  # else each model traced before slows the tracing of the next
    keras.utils.set_random_seed(seed)
    gan = make_variant_gan(*CONTENDERS[name], seed=seed, jit_compile=jit_compile)
    clock, trace = TimeBudget(seconds or math.inf), ArtefactTrace(every)
    quiet, level = logging.getLogger("tensorflow"), logging.getLogger("tensorflow").level
    quiet.setLevel(logging.ERROR)  # each race's new train function would log a retracing warning
    try:
        gan.fit(
            data,
            epochs=1 if steps else 10**6,
            steps_per_epoch=steps or 100,
            callbacks=[clock, trace, *callbacks],
            verbose=0,
            shuffle=False,
        )
    finally:
        quiet.setLevel(level)
    done, batch = int(gan.g_optimizer.iterations), _FAST["batch_size"]
    images = generate_images(gan.sampling_generator, samples, seed=seed + 1)
    report = evaluate_images(images)
    return dict(
        name=name,
        gan=gan,
        seconds=clock.used,
        steps=done,
        images_per_s=done * batch / clock.used,
        parameters=(gan.generator.count_params(), gan.discriminator.count_params()),
        fid=report["fid"],
        classes=report["classes_covered"],
        artefact=float(artefact_score(images).mean()),
        samples=images,
        trace=trace.rows,
    )


_STEP = """
import json, os, sys
import numpy as np, tensorflow as tf
import dcgan_lib as dl
name, steps, xla = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
batch = dl.MODELS[name].defaults["batch_size"]
gan = dl.make_gan(name, seed=0, jit_compile=xla)
x = np.random.default_rng(0).uniform(-1, 1, (batch, 28, 28, 1)).astype("float32")
data = tf.data.Dataset.from_tensors(x).repeat()
def status(key):  # Linux: VmRSS (resident now) or VmHWM (peak since the reset below), bytes
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
gan.fit(data, epochs=1, steps_per_epoch=3, verbose=0)  # traced (and compiled) before measuring
gpu = bool(tf.config.list_physical_devices("GPU"))
if gpu:
    tf.config.experimental.reset_memory_stats("GPU:0")
    before = tf.config.experimental.get_memory_info("GPU:0")["current"]
elif os.path.exists("/proc/self/clear_refs"):
    open("/proc/self/clear_refs", "w").write("5")  # resets the peak to what is resident now
    before = status("VmRSS")
else:  # not Linux: no memory figures
    before = None
rate = dl.images_per_second(gan, data, steps, batch, warmup=1)
gpu_peak = gpu and tf.config.experimental.get_memory_info("GPU:0")["peak"]
peak = gpu_peak if gpu else before and status("VmHWM")
mb = lambda n: None if before is None else n / 2**20
G, D = gan.generator, gan.discriminator
print(json.dumps(dict(images_per_s=rate, batch_size=batch, device="GPU" if gpu else "CPU",
    before_mb=mb(before), peak_mb=mb(peak), step_mb=mb(peak and max(peak - before, 0)),
    parameters=G.count_params() + D.count_params())))
"""


def measure_training_step(model_name: str, steps: int = 30, *, xla: bool = True) -> dict:
    """Speed and memory of a training step of a ``MODELS`` pair, in a fresh process. Defined in
    Chapter 6.

    The process builds ``make_gan(model_name)``, trains 3 steps (tracing, XLA compiling), then
    1 + ``steps`` more on one batch of the model's size, timing the last ``steps``
    (:func:`~dcgan_lib.images_per_second`). Keys: ``images_per_s``, ``batch_size``, ``device``,
    ``parameters`` (G + D), and in MiB ``before_mb`` (resident memory, or GPU memory in use,
    after the 3 steps: weights, optimizer state, compiled code), ``peak_mb`` (the peak while
    the others ran) and ``step_mb`` = peak - before, what a step needs on top (activations,
    gradients). On a CPU they need Linux's /proc (elsewhere None).
    """
    if model_name not in MODELS or steps < 1:
        raise ValueError(f"need a model of {sorted(MODELS)} and steps >= 1, got {model_name!r}")
    argv = [sys.executable, "-c", _STEP, model_name, str(steps), "1" if xla else "0"]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"measuring {model_name!r} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ResNet G and D of about the fast pair's parameters, trained with its settings (and XLA).
MODELS["resnet"] = ModelSpec(build_resnet_generator, build_resnet_discriminator, True, _FAST)
