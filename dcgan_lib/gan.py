"""Writing the training loop yourself (defined in Chapter 3).

Two ways to train a generator and a discriminator together with
``tf.GradientTape`` instead of Chapter 1's ``train_on_batch``:

- :class:`GAN`, a ``keras.Model`` whose ``train_step`` does one simultaneous
  D and G update, so ``gan.fit(dataset)`` trains it with callbacks, progress
  bars and metrics for free (the Keras "override train_step" way);
- :func:`make_train_step`, a plain function returning a ``tf.function`` step,
  which you call in your own ``for`` loop (the TensorFlow DCGAN tutorial's
  way; Chapter 3 also times it eagerly, without ``tf.function``).

Both take real images (batch, 28, 28, 1) in [-1, 1] and noise z of shape
(batch, latent_dim) drawn from N(0, 1) (``noise="normal"``) or uniformly from
[-1, 1] (``noise="uniform"``). :func:`make_gan` builds and compiles a
:class:`GAN` for a model name of :data:`dcgan_lib.models.MODEL_BUILDERS`.
"""
from __future__ import annotations

import numpy as np

from ._startup import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

__all__ = ["GAN", "TunedGAN", "make_gan", "make_train_step", "generate_images", "NOISES",
           "TRAINING_DEFAULTS", "training_defaults", "PRECISIONS"]

NOISES = ("normal", "uniform")

# Per-model optimizer settings and batch size; a model missing here (a new
# entry of MODEL_BUILDERS) trains with the "default" row.
TRAINING_DEFAULTS = {
    "default": {"learning_rate": 2e-4, "beta_1": 0.5, "batch_size": 128},
    # Chapter 1 uses Keras' Adam() (1e-3, 0.9) with alternating train_on_batch steps; with
    # this simultaneous tape step, DCGAN's Adam reached a lower Fréchet distance in 60 s
    # (148.9 against 239.8 for 1e-3/0.9, 10,000 samples, measured here on 2 CPU cores).
    "dense": {"learning_rate": 2e-4, "beta_1": 0.5, "batch_size": 128},
    "tutorial": {"learning_rate": 1e-4, "beta_1": 0.9, "batch_size": 256},   # TF tutorial
    "upsample": {"learning_rate": 2e-4, "beta_1": 0.5, "batch_size": 128},   # DCGAN paper's Adam
    # Appendix A, chosen by measurement on 2 CPU cores (benchmarks/fast_config_search.md,
    # BENCHMARKS.md): learning rates 3e-4 for D and 6e-4 for G.
    "fast": {"learning_rate": 3e-4, "g_learning_rate": 6e-4, "beta_1": 0.5, "batch_size": 64,
             "real_label": 1.0, "ema_decay": 0.999},
}


def training_defaults(model_name: str) -> dict:
    """Learning rate, Adam's beta_1, batch size (and, where set, G's own
    ``g_learning_rate``, and ``real_label`` and ``ema_decay`` of :class:`TunedGAN`)
    used for ``model_name``."""
    return dict(TRAINING_DEFAULTS.get(model_name, TRAINING_DEFAULTS["default"]))


def learning_rates(defaults: dict, learning_rate=None, g_learning_rate=None) -> tuple:
    """``(D's, G's)`` learning rate from :func:`training_defaults`' ``defaults`` and
    the rates given: ``learning_rate`` alone sets both, even where the defaults
    give G a rate of its own. Raises ``ValueError`` for a rate that is not positive."""
    d_rate = defaults["learning_rate"] if learning_rate is None else learning_rate
    if g_learning_rate is None:
        g_learning_rate = defaults.get("g_learning_rate", d_rate) if learning_rate is None else d_rate
    if d_rate <= 0 or g_learning_rate <= 0:
        raise ValueError(f"learning rates must be positive, got {d_rate} (D) and {g_learning_rate} (G)")
    return d_rate, g_learning_rate


def _noise(shape, noise, seed):
    if noise == "uniform":
        return keras.random.uniform(shape, minval=-1.0, maxval=1.0, seed=seed)
    return keras.random.normal(shape, seed=seed)


def _check_noise(noise):
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")


class GAN(keras.Model):
    """G and D trained together by ``fit`` with two GradientTapes (Defined in Chapter 3).

    ``generator``: z (batch, latent_dim) -> images (batch, 28, 28, 1) in [-1, 1];
    ``discriminator``: images -> (batch, 1), a logit if ``d_logits`` else P(real).
    ``fit`` feeds batches of real images (batch, 28, 28, 1) in [-1, 1]; each step
    draws z from ``noise`` ("normal" or "uniform" in [-1, 1]) with the model's
    own seeded ``SeedGenerator`` and updates D and G once each. Logs per epoch:
    ``d_loss`` (BCE on real + BCE on fake), ``g_loss`` (-log D(G(z))),
    ``d_acc_real`` / ``d_acc_fake`` (share of real / fake images D gets right).
    """

    def __init__(self, generator, discriminator, *, d_logits, noise="normal", seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_noise(noise)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.d_logits, self.noise = generator.input_shape[-1], d_logits, noise
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True                      # G and D are built; nothing of its own

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(optimizer=None, **kwargs)        # two optimizers of our own instead
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        d_optimizer.build(self.discriminator.trainable_variables)  # slots exist now, so a
        g_optimizer.build(self.generator.trainable_variables)      # checkpoint can restore them
        self.bce = keras.losses.BinaryCrossentropy(from_logits=self.d_logits)
        self.trackers = [keras.metrics.Mean(name=n) for n in
                         ("d_loss", "g_loss", "d_acc_real", "d_acc_fake")]

    @property
    def metrics(self):                                   # fit resets these every epoch
        return self.trackers

    def call(self, z, training=False):                   # gan(z) -> images
        return self.generator(z, training=training)

    def train_step(self, real_images):
        z = _noise((ops.shape(real_images)[0], self.latent_dim), self.noise, self.seed_generator)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake_images = self.generator(z, training=True)
            real_out = self.discriminator(real_images, training=True)
            fake_out = self.discriminator(fake_images, training=True)
            d_loss = (self.bce(ops.ones_like(real_out), real_out)        # real -> 1
                      + self.bce(ops.zeros_like(fake_out), fake_out))    # fake -> 0
            g_loss = self.bce(ops.ones_like(fake_out), fake_out)         # G wants "real"
        d_vars, g_vars = self.discriminator.trainable_variables, self.generator.trainable_variables
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        cut = 0.0 if self.d_logits else 0.5
        values = (d_loss, g_loss, ops.mean(ops.cast(real_out > cut, "float32")),
                  ops.mean(ops.cast(fake_out <= cut, "float32")))
        for tracker, value in zip(self.trackers, values):
            tracker.update_state(value)
        return {t.name: t.result() for t in self.trackers}

    @property
    def sampling_generator(self):
        """The generator to draw images from (G itself here)."""
        return self.generator


class TunedGAN(GAN):
    """:class:`GAN` with the options of the fast CPU configuration (Defined in Appendix A).

    Its ``train_step`` is :meth:`GAN.train_step` written out again with three
    options added (Chapter 3 prints ``GAN.train_step`` and keeps it minimal),
    each option measured in ``BENCHMARKS.md``:

    - ``real_label`` < 1: one-sided label smoothing, D's target for real
      images (fakes stay 0); 1.0 is :class:`GAN`'s loss;
    - ``ema_decay``: keep ``ema_generator``, an exponential moving average of
      G's weights (and batch-norm statistics) updated after every step, whose
      images are usually better than G's own (:attr:`sampling_generator`).
      Its decay is min(ema_decay, (1 + step) / (10 + step)), as in
      ``tf.train.ExponentialMovingAverage``, so early on it follows G closely;
    - mixed precision: with a ``LossScaleOptimizer`` (float16) the losses are
      scaled before differentiation so that small gradients do not underflow.
    """

    def __init__(self, generator, discriminator, *, real_label=1.0, ema_decay=None, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        if not 0.5 < real_label <= 1.0:
            raise ValueError(f"real_label must be in (0.5, 1], got {real_label}")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) or None, got {ema_decay}")
        self.real_label, self.ema_decay, self.ema_generator = float(real_label), ema_decay, None
        if ema_decay is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_steps = keras.Variable(0, dtype="int64", trainable=False, name="ema_steps")

    def train_step(self, real_images):
        z = _noise((ops.shape(real_images)[0], self.latent_dim), self.noise, self.seed_generator)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake_images = self.generator(z, training=True)
            real_out = self.discriminator(real_images, training=True)
            fake_out = self.discriminator(fake_images, training=True)
            d_loss = (self.bce(ops.full_like(real_out, self.real_label), real_out)
                      + self.bce(ops.zeros_like(fake_out), fake_out))
            g_loss = self.bce(ops.ones_like(fake_out), fake_out)
            # scale_loss is the identity unless the optimizer is a LossScaleOptimizer
            d_scaled, g_scaled = self.d_optimizer.scale_loss(d_loss), self.g_optimizer.scale_loss(g_loss)
        d_vars, g_vars = self.discriminator.trainable_variables, self.generator.trainable_variables
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_scaled, d_vars), d_vars))
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(g_scaled, g_vars), g_vars))
        if self.ema_generator is not None:
            self._update_ema()
        return self._track_metrics(d_loss, g_loss, real_out, fake_out)

    def _track_metrics(self, d_loss, g_loss, real_out, fake_out):
        """Update the four trackers as :meth:`GAN.train_step` does; return their values."""
        cut = 0.0 if self.d_logits else 0.5
        values = (d_loss, g_loss, ops.mean(ops.cast(real_out > cut, "float32")),
                  ops.mean(ops.cast(fake_out <= cut, "float32")))
        for tracker, value in zip(self.trackers, values):
            tracker.update_state(value)
        return {t.name: t.result() for t in self.trackers}

    def _update_ema(self):
        self.ema_steps.assign_add(1)
        steps = ops.cast(self.ema_steps, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + steps) / (10.0 + steps))
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            average.assign(decay * average + (1.0 - decay) * weight)

    @property
    def sampling_generator(self):
        """The weight average if one is kept, else G."""
        return self.ema_generator if self.ema_generator is not None else self.generator


PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def make_gan(model_name: str, *, noise: str = "normal", seed: int | None = None,
             learning_rate: float | None = None, g_learning_rate: float | None = None,
             beta_1: float | None = None, real_label: float | None = None,
             ema_decay: float | None | str = "default", precision: str = "float32", **compile_kwargs) -> GAN:
    """Build and compile a :class:`GAN` for a name of ``MODEL_BUILDERS`` (Defined in Chapter 3).

    Two separate Adam optimizers; every setting not given comes from
    :func:`training_defaults` (``ema_decay=None`` turns the weight average
    off). ``learning_rate`` is D's, and G's too unless ``g_learning_rate`` is
    given: a ``learning_rate`` given alone sets both, even for a model whose
    defaults give G a rate of its own (:func:`learning_rates`). The
    discriminator's loss uses logits or probabilities as the model's
    ``MODEL_BUILDERS`` entry says.

    ``precision``: "float32", or a Keras mixed-precision policy for the layers
    (variables stay float32): "mixed_float16" (GPUs; the optimizers are then
    wrapped in ``LossScaleOptimizer``) or "mixed_bfloat16" (recent CPUs,
    TPUs, Ampere and later GPUs). ``compile_kwargs`` go to ``compile``, e.g.
    ``jit_compile=True`` for XLA (Keras' default "auto" turns XLA on when a
    GPU is visible and off on a CPU-only machine). Measured in ``BENCHMARKS.md``.
    """
    from .models import MODEL_BUILDERS

    if model_name not in MODEL_BUILDERS:
        raise ValueError(f"unknown model {model_name!r}; known: {', '.join(MODEL_BUILDERS)}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    build_g, build_d, d_logits = MODEL_BUILDERS[model_name]
    defaults = training_defaults(model_name)
    lr, g_learning_rate = learning_rates(defaults, learning_rate, g_learning_rate)
    b1 = defaults["beta_1"] if beta_1 is None else beta_1
    real_label = defaults.get("real_label", 1.0) if real_label is None else real_label
    ema_decay = defaults.get("ema_decay") if ema_decay == "default" else ema_decay
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        generator, discriminator = build_g(), build_d()
    finally:
        keras.config.set_dtype_policy(previous)
    tuned = real_label != 1.0 or ema_decay is not None or precision != "float32"
    options = {"real_label": real_label, "ema_decay": ema_decay} if tuned else {}
    gan = (TunedGAN if tuned else GAN)(generator, discriminator, d_logits=d_logits, noise=noise,
                                       seed=seed, name=f"{model_name}_gan", **options)
    d_opt = keras.optimizers.Adam(lr, beta_1=b1, name="d_adam")
    g_opt = keras.optimizers.Adam(g_learning_rate, beta_1=b1, name="g_adam")
    if precision == "mixed_float16":         # float16 gradients underflow without loss scaling
        d_opt, g_opt = (keras.optimizers.LossScaleOptimizer(o, name=f"{o.name}_scaled")
                        for o in (d_opt, g_opt))
    gan.compile(d_optimizer=d_opt, g_optimizer=g_opt, **compile_kwargs)
    return gan


def make_train_step(generator, discriminator, g_optimizer, d_optimizer, *, d_logits: bool = True,
                    noise: str = "normal", seed: int | None = None, tf_function: bool = True,
                    jit_compile: bool = False):
    """The DCGAN tutorial's training step as a plain function (Defined in Chapter 3).

    Returns ``step(real_images) -> (d_loss, g_loss)``: real images (batch, 28,
    28, 1) in [-1, 1] in, two scalar tensors out, one simultaneous D and G
    update done. Wrapped in ``tf.function`` (traced once per batch shape: use
    ``drop_remainder`` batches) unless ``tf_function=False``, which runs it
    eagerly, op by op -- Chapter 3 times both. ``jit_compile=True`` asks XLA
    to compile it too (worth it on GPUs; measure before using it on a CPU).
    """
    _check_noise(noise)
    bce = keras.losses.BinaryCrossentropy(from_logits=d_logits)
    seed_generator = keras.random.SeedGenerator(seed)
    latent_dim = generator.input_shape[-1]
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    for optimizer, variables in ((g_optimizer, g_vars), (d_optimizer, d_vars)):
        if not optimizer.built:
            optimizer.build(variables)   # create Adam's slots outside tf.function

    def train_step(real_images):
        z = _noise((ops.shape(real_images)[0], latent_dim), noise, seed_generator)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = generator(z, training=True)
            real_out = discriminator(real_images, training=True)
            fake_out = discriminator(fake_images, training=True)
            g_loss = bce(ops.ones_like(fake_out), fake_out)
            d_loss = bce(ops.ones_like(real_out), real_out) + bce(ops.zeros_like(fake_out), fake_out)
        g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        return d_loss, g_loss

    if not tf_function:
        return train_step
    return tf.function(train_step, jit_compile=jit_compile)


def generate_images(generator, n: int, *, noise: str = "normal", seed: int | None = 0,
                    batch_size: int = 500) -> np.ndarray:
    """``n`` images from ``generator`` as float32 (n, 28, 28, 1) in [-1, 1] (Defined in Chapter 3).

    The noise is drawn with numpy from ``seed`` (same seed, same images) and fed
    in batches of ``batch_size`` in inference mode (batch norm uses its moving
    statistics, dropout is off).
    """
    return np.concatenate(list(_generate_batches(generator, n, noise=noise, seed=seed,
                                                 batch_size=batch_size)))


def _generate_batches(generator, n: int, *, noise: str = "normal", seed: int | None = 0,
                      batch_size: int = 500):
    """:func:`generate_images` one batch at a time: the same images, holding one batch in memory."""
    _check_noise(noise)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = np.random.default_rng(seed)           # drawn in pieces, numpy's streams stay the same
    latent_dim = generator.input_shape[-1]
    for start in range(0, n, batch_size):
        size = (min(batch_size, n - start), latent_dim)
        z = (rng.uniform(-1.0, 1.0, size).astype(np.float32) if noise == "uniform"
             else rng.standard_normal(size, dtype=np.float32))
        yield np.clip(np.asarray(generator(z, training=False), np.float32), -1.0, 1.0)
