"""Chapter 3: the training step written with ``tf.GradientTape``, run by ``fit`` or your loop.

:func:`gan_step` is the course's one D-and-G update: :class:`GAN`, :func:`make_train_step` and
Appendix A's distributed step all run it."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from .clusters import spec as model_spec
from .models import MODELS, NOISES, draw_noise, threshold

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def gan_step(generator, discriminator, g_optimizer, d_optimizer, real_images, z, bce, real_label):
    """One update of D and one of G, each on its own loss. Defined in Chapter 3.

    ``real_images`` (batch, 28, 28, 1) in [-1, 1]; ``z`` (batch, latent_dim); ``bce(target,
    output)``: binary cross-entropy on D's logits or probabilities. D: real -> ``real_label``
    (1, or less for one-sided label smoothing), fake -> 0; G: fake -> 1 (non-saturating).
    Returns (d_loss, g_loss, real_out, fake_out), D's outputs (batch, 1).
    """
    with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
        fake_images = generator(z, training=True)  # (batch, 28, 28, 1)
        real_out = discriminator(real_images, training=True)  # (batch, 1)
        fake_out = discriminator(fake_images, training=True)  # (batch, 1)
        d_real = bce(ops.full_like(real_out, real_label), real_out)  # real -> 1
        d_loss = d_real + bce(ops.zeros_like(fake_out), fake_out)  # fake -> 0
        g_loss = bce(ops.ones_like(fake_out), fake_out)  # G wants "real"
        # scale_loss: the identity, except for mixed_float16's LossScaleOptimizer
        d_scaled, g_scaled = d_optimizer.scale_loss(d_loss), g_optimizer.scale_loss(g_loss)
    d_vars, g_vars = discriminator.trainable_variables, generator.trainable_variables
    d_optimizer.apply_gradients(zip(d_tape.gradient(d_scaled, d_vars), d_vars))
    g_optimizer.apply_gradients(zip(g_tape.gradient(g_scaled, g_vars), g_vars))
    return d_loss, g_loss, real_out, fake_out


class GAN(keras.Model):
    """G and D trained together by ``fit``, one :func:`gan_step` per batch. Defined in Chapter 3.

    ``fit`` feeds real images (batch, 28, 28, 1) in [-1, 1]; z comes from ``noise`` and the
    model's seeded ``SeedGenerator``; ``d_logits``: D outputs logits, else P(real). Logs d_loss,
    g_loss, d_acc_real, d_acc_fake (share of real / fake images D gets right). Appendix A's
    options: ``real_label`` < 1 and ``ema_decay`` (keep ``ema_generator``, a moving average of
    G's weights, whose images are usually better: :attr:`sampling_generator`).
    """

    def __init__(self, generator, discriminator, *, d_logits, noise="normal", **options):
        seed, real_label = options.pop("seed", None), options.pop("real_label", 1.0)
        ema_decay = options.pop("ema_decay", None)
        super().__init__(**options)
        if noise not in NOISES:
            raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")
        if not 0.5 < real_label <= 1.0:
            raise ValueError(f"real_label must be in (0.5, 1], got {real_label}")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) or None, got {ema_decay}")
        self.generator, self.discriminator, self.d_logits = generator, discriminator, d_logits
        self.latent_dim, self.noise = generator.input_shape[-1], noise
        self.real_label, self.ema_decay, self.ema_generator = float(real_label), ema_decay, None
        self.seed_generator = keras.random.SeedGenerator(seed)
        if ema_decay is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_steps = keras.Variable(0, dtype="int64", trainable=False, name="ema_steps")
            self.ema_warmup = keras.Variable(10.0, trainable=False, name="ema_warmup")  # h below
        self.built = True  # G and D are built; nothing of its own

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(optimizer=None, **kwargs)  # two optimizers of our own instead
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        d_optimizer.build(self.discriminator.trainable_variables)  # slots exist now, so a
        g_optimizer.build(self.generator.trainable_variables)  # checkpoint can restore them
        self.bce = keras.losses.BinaryCrossentropy(from_logits=self.d_logits)
        names = ("d_loss", "g_loss", "d_acc_real", "d_acc_fake")
        self.trackers = [keras.metrics.Mean(name=n) for n in names]
        self.players = (self.generator, self.discriminator, g_optimizer, d_optimizer)

    @property
    def metrics(self):  # fit resets these every epoch
        return self.trackers

    def call(self, z, training=False):  # gan(z) -> images
        return self.generator(z, training=training)

    def train_step(self, real_images):
        shape = (ops.shape(real_images)[0], self.latent_dim)  # (batch, latent_dim)
        z = draw_noise(shape, self.noise, self.seed_generator)
        d_loss, g_loss, real_out, fake_out = gan_step(
            *self.players, real_images, z, self.bce, self.real_label
        )
        if self.ema_generator is not None:
            self._update_ema()
        cut = threshold(self.d_logits)
        real_acc = ops.mean(ops.cast(real_out > cut, "float32"))  # reals judged real
        fake_acc = ops.mean(ops.cast(fake_out <= cut, "float32"))  # fakes judged fake
        for tracker, value in zip(self.trackers, (d_loss, g_loss, real_acc, fake_acc)):
            tracker.update_state(value)
        return {t.name: t.result() for t in self.trackers}

    def _update_ema(self):
        """average <- decay average + (1 - decay) weight; decay = min(ema_decay, (1 + n) / (h + n))
        after n steps, about the last n / (h - 1); h: ``ema_warmup``, 10 as in TF; growing_batch."""
        self.ema_steps.assign_add(1)
        steps = ops.cast(self.ema_steps, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + steps) / (self.ema_warmup + steps))
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            average.assign(decay * average + (1.0 - decay) * weight)

    @property
    def sampling_generator(self):
        """The generator to draw images from: the weight average if one is kept, else G."""
        return self.ema_generator if self.ema_generator is not None else self.generator


def learning_rates(defaults, learning_rate=None, g_learning_rate=None):
    """(D's, G's) learning rate: ``learning_rate`` alone sets both, even where ``defaults``
    give G a rate of its own; ValueError for a rate that is not positive."""
    d_rate = defaults["learning_rate"] if learning_rate is None else learning_rate
    g_rate = defaults.get("g_learning_rate", d_rate) if learning_rate is None else d_rate
    g_rate = g_rate if g_learning_rate is None else g_learning_rate
    if d_rate <= 0 or g_rate <= 0:
        raise ValueError(f"learning rates must be positive, got {d_rate} (D) and {g_rate} (G)")
    return d_rate, g_rate


def make_gan(
    model_name,
    *,
    noise="normal",
    seed=None,
    learning_rate=None,
    g_learning_rate=None,
    beta_1=None,
    real_label=None,
    ema_decay="default",
    precision="float32",
    cluster_shares=None,
    **compile_kwargs,
):
    """Build and compile a :class:`GAN` for a name of ``MODELS``. Defined in Chapter 3.

    Two Adams; what is not given comes from ``MODELS[model_name].defaults`` (``ema_decay=None``:
    no weight average; rates: :func:`learning_rates`). ``precision``: "float32", "mixed_float16"
    (GPUs, loss scaled) or "mixed_bfloat16"; ``compile_kwargs`` (``jit_compile=True``: XLA) go
    to ``compile``; ``cluster_shares`` (k,): ``--clusters`` (:func:`dcgan_lib.clusters.spec`).
    Under ``strategy.scope()`` every variable is mirrored."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    spec, defaults = model_spec(model_name, cluster_shares), MODELS[model_name].defaults
    d_rate, g_rate = learning_rates(defaults, learning_rate, g_learning_rate)
    beta_1 = defaults["beta_1"] if beta_1 is None else beta_1
    real_label = defaults.get("real_label", 1.0) if real_label is None else real_label
    ema_decay = defaults.get("ema_decay") if ema_decay == "default" else ema_decay
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        generator, discriminator = spec.generator(), spec.discriminator()
    finally:
        keras.config.set_dtype_policy(previous)
    options = dict(seed=seed, real_label=real_label, ema_decay=ema_decay, name=f"{model_name}_gan")
    gan = GAN(generator, discriminator, d_logits=spec.logits, noise=noise, **options)
    d_opt = keras.optimizers.Adam(d_rate, beta_1=beta_1, name="d_adam")
    g_opt = keras.optimizers.Adam(g_rate, beta_1=beta_1, name="g_adam")
    scaled = keras.optimizers.LossScaleOptimizer  # float16 gradients underflow without scaling
    if precision == "mixed_float16":
        d_opt, g_opt = (scaled(o, name=f"{o.name}_scaled") for o in (d_opt, g_opt))
    gan.compile(d_optimizer=d_opt, g_optimizer=g_opt, **compile_kwargs)
    return gan


def make_train_step(generator, discriminator, g_optimizer, d_optimizer, *, d_logits=True, **how):
    """The tutorial's way: ``step(real_images) -> (d_loss, g_loss)``. Defined in Chapter 3.

    Real images (batch, 28, 28, 1) in [-1, 1] in, one :func:`gan_step` done, two scalars out.
    ``how``: ``noise`` ("normal"), ``seed`` (None), ``tf_function`` (True: traced once per batch
    shape; False: eager, op by op) and ``jit_compile`` (False; True asks XLA to compile it).
    """
    noise, seed = how.pop("noise", "normal"), how.pop("seed", None)
    tf_function, jit_compile = how.pop("tf_function", True), how.pop("jit_compile", False)
    if how:
        raise TypeError(f"make_train_step got unexpected arguments {sorted(how)}")
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")
    bce = keras.losses.BinaryCrossentropy(from_logits=d_logits)
    seed_generator = keras.random.SeedGenerator(seed)
    for optimizer, model in ((g_optimizer, generator), (d_optimizer, discriminator)):
        if not optimizer.built:
            optimizer.build(model.trainable_variables)  # Adam's slots outside tf.function

    players = (generator, discriminator, g_optimizer, d_optimizer)

    def train_step(real_images):
        shape = (ops.shape(real_images)[0], generator.input_shape[-1])  # (batch, latent_dim)
        z = draw_noise(shape, noise, seed_generator)
        d_loss, g_loss, _, _ = gan_step(*players, real_images, z, bce, 1.0)
        return d_loss, g_loss

    return tf.function(train_step, jit_compile=jit_compile) if tf_function else train_step


__all__ = ["gan_step", "GAN", "make_gan", "make_train_step"]
