"""Chapter 5: a conditional GAN, trained as an ordinary GAN on *labelled images*.

A labelled image is a two-channel image (batch, 28, 28, 2): the digit in [-1, 1] and its
**label map**, every pixel of which holds the label y in 0..9 as ``round(255 y / 9)`` scaled to
[-1, 1] (0 -> -1, 9 -> 1); with ``classes`` labels, ``round(255 y / (classes - 1))`` (the
command line's ``--clusters``: :mod:`dcgan_lib.clusters`). The pair generator draws the digit
it is asked for, then G(z, y); D(x, y) judges the pair. So :class:`~dcgan_lib.gan.GAN`,
``gan_step``, ``fit``, the checkpoints and the CLI train it unchanged (``--model
conditional``). Used as ``dl.conditional.<name>``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from .data import resumable_dataset
from .models import _FAST, MODELS, ModelSpec, draw_noise

DIGITS = 10
__all__ = ["build_generator", "build_discriminator", "build_pair_generator", "labelled_dataset"]
__all__ += ["label_map", "read_labels", "generate_digits", "obedience", "slerp", "latent_explorer"]
__all__ += ["check_accuracy_answer"]


def _digits(labels, classes=DIGITS) -> np.ndarray:  # labels (N,) as int64, checked
    y, top = np.asarray(labels), classes - 1
    if y.ndim != 1 or y.dtype.kind not in "iu" or (len(y) and not 0 <= y.min() <= y.max() <= top):
        numbers = y.size and y.dtype.kind in "iuf"
        got = f"{y.dtype} of shape {y.shape}" + (f" in {y.min()}..{y.max()}" if numbers else "")
        raise ValueError(f"labels must be whole numbers 0..{top} of shape (N,), got {got}")
    return y.astype(np.int64)


def _levels(classes=DIGITS) -> np.ndarray:  # label y -> its map's pixel, uint8 (classes,)
    if not 2 <= classes <= 256:
        raise ValueError(f"classes must be from 2 to 256 (a uint8 level each), got {classes}")
    return np.round(np.arange(classes) * 255 / (classes - 1)).astype(np.uint8)


def label_map(labels, classes=DIGITS) -> np.ndarray:
    """Label maps of ``labels`` (N,) in 0..9: uint8 (N, 28, 28), every pixel round(255 y / 9)
    (``classes`` labels: round(255 y / (classes - 1))). Defined in Chapter 5."""
    y = _digits(labels, classes)
    return np.broadcast_to(_levels(classes)[y][:, None, None], (len(y), 28, 28)).copy()


def read_labels(pairs, classes=DIGITS):
    """The labels (batch,) int32 of labelled images (batch, 28, 28, 2), from their label maps'
    top-left pixel. Defined in Chapter 5."""
    return ops.cast(ops.round((pairs[:, 0, 0, 1] + 1.0) * 127.5 * (classes - 1) / 255), "int32")


def _as_map(labels, like, classes=DIGITS):  # labels (batch,) -> maps like images (batch, 28, 28, 1)
    levels = ops.convert_to_tensor(_levels(classes).astype(np.float32) / 127.5 - 1.0)  # as data
    return ops.ones_like(like) * ops.reshape(ops.take(levels, labels), (-1, 1, 1, 1))


def labelled_dataset(
    images, labels, batch_size: int, *, seed=0, first_epoch=0, skip=0, classes=DIGITS
):
    """:func:`~dcgan_lib.data.resumable_dataset` of labelled images (batch_size, 28, 28, 2);
    ``classes``: how many labels there are. Defined in Chapter 5.

    Images and label maps go through two resumable datasets with the same seed: their order
    depends only on (seed, epoch), so batch k of one matches batch k of the other."""
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels: give one label each")
    where = dict(seed=seed, first_epoch=first_epoch, skip=skip)
    digits = resumable_dataset(images, batch_size, **where)  # (batch, 28, 28, 1)
    maps = resumable_dataset(label_map(labels, classes), batch_size, **where)  # (batch, 28, 28, 1)
    import tensorflow as tf

    pairs = tf.data.Dataset.zip(digits, maps)
    return pairs.map(lambda x, m: tf.concat([x, m], -1))  # (batch, 28, 28, 2)


def build_generator(latent_dim=64, width=64, embedding=16, classes=DIGITS):
    """G(z, y): [z (batch, latent_dim), y (batch,) ints 0..9] -> images (batch, 28, 28, 1) in
    [-1, 1]. Appendix A's fast G with an embedding of y joined to z. Defined in Chapter 5."""
    z, y = keras.Input((latent_dim,), name="z"), keras.Input((), dtype="int32", name="y")
    e = layers.Embedding(classes, embedding)(y)  # (batch, 16): a learned vector per label
    h = layers.Concatenate()([z, e])  # (batch, 80)
    h = layers.Dense(7 * 7 * 2 * width, use_bias=False)(h)  # (batch, 6272)
    h = layers.ReLU()(layers.BatchNormalization()(h))
    h = layers.Reshape((7, 7, 2 * width))(h)  # (batch, 7, 7, 128)
    h = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(h)  # 14x14x64
    h = layers.ReLU()(layers.BatchNormalization()(h))
    x = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")(h)  # 28x28x1
    return keras.Model([z, y], x, name="conditional_generator")


@keras.saving.register_keras_serializable("dcgan_lib")
class RandomDigits(layers.Layer):
    """z (batch, latent_dim) -> digits (batch,) int32, uniform over 0..9, from its own seed
    (``shares`` (classes,): labels 0..classes-1 drawn in those shares instead)."""

    def __init__(self, seed=None, shares=None, **kwargs):
        super().__init__(**kwargs)
        self.seed, self.seed_generator = seed, keras.random.SeedGenerator(seed)
        self.shares = None if shares is None else [float(p) for p in shares]

    def call(self, z):
        if self.shares is None:
            return keras.random.randint((ops.shape(z)[0],), 0, DIGITS, "int32", self.seed_generator)
        logits = ops.log(ops.convert_to_tensor([self.shares], "float32"))  # (1, classes)
        logits = ops.repeat(logits, ops.shape(z)[0], axis=0)  # (batch, classes)
        drawn = keras.random.categorical(logits, 1, seed=self.seed_generator)  # (batch, 1)
        return ops.cast(drawn[:, 0], "int32")

    def get_config(self):
        return super().get_config() | {"seed": self.seed, "shares": self.shares}


def build_pair_generator(generator=None, seed=None, shares=None):
    """z (batch, latent_dim) -> labelled images (batch, 28, 28, 2): draws y, then G(z, y).
    ``generator``: a :func:`build_generator` G (default: a new one); ``shares`` (classes,): y in
    0..classes-1 drawn in these shares (default: 0..9, uniform). Defined in Chapter 5."""
    classes = DIGITS if shares is None else len(shares)
    generator = generator or build_generator(classes=classes)
    z = keras.Input(generator.input_shape[0][1:], name="z")
    y = RandomDigits(seed, shares, name="asked")(z)  # (batch,) the labels G is asked for
    x = generator([z, y])  # (batch, 28, 28, 1)
    pair = ops.concatenate([x, _as_map(y, x, classes)], -1)  # (batch, 28, 28, 2)
    return keras.Model(z, pair, name="pair_generator")


def build_discriminator(how="projection", width=16, depth=3, negative_slope=0.2, classes=DIGITS):
    """D(x, y): labelled images (batch, 28, 28, 2) -> one logit (batch, 1). Defined in Chapter 5.

    ``how="label_map"``: convolve the image with y's one-hot planes (28, 28, 11) (Mirza and
    Osindero, 2014); ``"projection"``: logit = w.h + embed(y).h over D's features h (Miyato and
    Koyama, 2018). The convolutions are Appendix A's fast D's. ``classes``: labels 0..classes-1."""
    if how not in ("projection", "label_map"):
        raise ValueError(f'how must be "projection" or "label_map", got {how!r}')
    pair = keras.Input((28, 28, 2), name="labelled_image")
    image, y = pair[..., :1], read_labels(pair, classes)  # (batch, 28, 28, 1), (batch,)
    planes = ops.ones_like(image) * ops.reshape(ops.one_hot(y, classes), (-1, 1, 1, classes))
    x = ops.concatenate([image, planes], -1) if how == "label_map" else image  # 11 or 1 channel
    for i in range(depth):  # as Appendix A's fast D: (batch, 14, 14, 16) ... (batch, 4, 4, 64)
        x = layers.LeakyReLU(negative_slope)(layers.Conv2D(width * 2**i, 4, 2, "same")(x))
    h = layers.Flatten()(x)  # (batch, 1024) for depth 3: D's features
    logit = layers.Dense(1)(h)  # (batch, 1)
    if how == "projection":
        embedded = layers.Embedding(classes, h.shape[-1])(y)  # (batch, 1024)
        logit = logit + ops.sum(embedded * h, axis=-1, keepdims=True)
    return keras.Model(pair, logit, name=f"{how}_discriminator")


def _inner(generator):  # G(z, y) of a pair generator, or G itself
    return generator.get_layer("conditional_generator") if len(generator.inputs) == 1 else generator


def generate_digits(generator, digits, *, noise="normal", seed=0, batch_size=500) -> np.ndarray:
    """Images of the requested ``digits`` (N,) ints: float32 (N, 28, 28, 1) in [-1, 1].
    ``generator``: G(z, y) or a pair generator (its G is used). Defined in Chapter 5."""
    generator = _inner(generator)
    classes = next(x for x in generator.layers if isinstance(x, layers.Embedding)).input_dim
    digits = _digits(digits, classes).astype(np.int32)
    rng, out = np.random.default_rng(seed), []
    for start in range(0, len(digits), batch_size):
        y = digits[start : start + batch_size]
        z = draw_noise((len(y), generator.input_shape[0][-1]), noise, rng)
        out.append(np.asarray(generator([z, y], training=False), np.float32))
    return np.clip(np.concatenate(out), -1.0, 1.0)


def obedience(images, digits) -> dict:
    """How well G obeys: the classifier reads each image. Defined in Chapter 5.

    ``matrix`` (10, 10): row = digit asked for, column = digit read; ``accuracy``: share read as
    asked; ``per_class`` (10,): that share for each digit asked for (NaN if none asked)."""
    from .quality import classify

    digits = _digits(digits)
    if len(digits) != len(images):
        raise ValueError(f"{len(images)} images but {len(digits)} labels: give one label each")
    read = classify(images).argmax(axis=1)
    matrix = np.zeros((DIGITS, DIGITS), np.int64)
    np.add.at(matrix, (digits, read), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(matrix) / matrix.sum(axis=1)
    return dict(matrix=matrix, accuracy=float(np.mean(read == digits)), per_class=per_class)


def slerp(z0, z1, steps: int) -> np.ndarray:
    """``steps`` points from z0 to z1 (latent_dim,) along the great circle, float32 (steps,
    latent_dim); norms move smoothly between theirs. Defined in Chapter 5."""
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega, t = np.arccos(np.clip(cos, -1.0, 1.0)), np.linspace(0.0, 1.0, steps)[:, None]
    if omega < 1e-6:  # (nearly) the same direction: the straight line
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    return ((np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)).astype("f4")


def latent_explorer(generator, z, *, directions=3, seed=0, scale=3.0):
    """A digit picker and ``directions`` sliders that move ``z`` (latent_dim,) along random unit
    directions, redrawing G(z, digit) live (ipywidgets). Defined in Chapter 5.

    Returns the widget; ``.draw(digit, *offsets)``: an image (28, 28) in [-1, 1]; ``.shown``:
    the (digit, *offsets) drawn last."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    generator, z = _inner(generator), np.asarray(z, np.float32)
    u = np.random.default_rng(seed).standard_normal((directions, z.size)).astype(np.float32)
    u /= np.linalg.norm(u, axis=1, keepdims=True)  # unit directions
    picker = w.Dropdown(options=list(range(DIGITS)), value=7, description="digit")
    sliders = [w.FloatSlider(0, min=-scale, max=scale, step=0.25, description=f"u{i + 1}")
               for i in range(directions)]  # fmt: skip
    output = w.Output()

    def draw(digit, *offsets):
        moved = z + np.asarray(offsets, np.float32) @ u  # (latent_dim,)
        return np.asarray(generator([moved[None], np.array([digit])], training=False))[0, ..., 0]

    def redraw(_=None):
        widget.shown = (picker.value, *(s.value for s in sliders))
        image = draw(*widget.shown)
        with output:
            output.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(2.2, 2.2))
            ax.imshow(image, cmap="gray", vmin=-1, vmax=1)
            ax.set_title(f"G(z + offsets, {picker.value})", fontsize=9)
            ax.set_axis_off()
            display(fig)
            plt.close(fig)

    widget = w.HBox([w.VBox([picker, *sliders]), output])
    widget.draw = draw
    for control in (picker, *sliders):
        control.observe(redraw, names="value")
    redraw()
    return widget


def check_accuracy_answer(matrix, answer, tol=5e-3):
    """Exercise check: is ``answer`` the conditional accuracy of the asked (rows) vs read
    (columns) counts ``matrix`` (10, 10)? A ``Verdict``. Defined in Chapter 5."""
    from .checks import Verdict

    m = np.asarray(matrix, np.float64)
    right, rows = np.trace(m) / m.sum(), np.diag(m) / np.maximum(m.sum(1), 1)
    if answer is ...:
        return Verdict(False, "replace ... with your answer, then run the check again.")
    if abs(answer - right) <= tol:
        return Verdict(True, f"{right:.4f}: the images read as asked, over all images asked for.")
    slips = {  # what the usual wrong answers compute
        100 * right: "give it as a fraction in [0, 1], not a percentage.",
        rows.mean(): "that averages the ten rows' shares; rows of different sizes count by "
        "images: the diagonal's sum over the total.",
        np.trace(m) / m.sum(1).max(): "divide by all images asked for, not by one row.",
    }
    hint = next((text for value, text in slips.items() if abs(answer - value) <= tol), None)
    return Verdict(False, hint or "sum the diagonal (read as asked) and divide by the total.")


class LearningRateTail(keras.callbacks.Callback):
    """Over the last ``share`` of a :class:`~dcgan_lib.callbacks.TimeBudget`, lower D's and G's
    learning rates (``rates``, full size) linearly to ``end`` x their own, step by step; with no
    budget (infinite seconds), keep them full. The CLI gives it to the labelled model for each
    session (issue 16: in a GPU scout, a Fréchet distance of 2.15 at 11,400 steps against 2.80
    with constant rates, 3 seeds; benchmarks/fast_config_search.md, BENCHMARKS.md section 8)."""

    def __init__(self, budget, rates, share=0.3, end=0.1):
        super().__init__()
        if not (0 < share <= 1 and 0 < end <= 1):
            raise ValueError(f"share and end must be in (0, 1], got {share} and {end}")
        self.budget, self.rates, self.share, self.end = budget, rates, share, end

    def on_train_batch_begin(self, batch, logs=None):
        left = max(0.0, 1.0 - self.budget.used / self.budget.seconds)  # share of the time left
        scale = self.end + (1.0 - self.end) * min(1.0, left / self.share)  # 1 until the tail
        for optimizer, rate in zip((self.model.d_optimizer, self.model.g_optimizer), self.rates):
            optimizer.learning_rate = rate * scale


def rate_tails(model_name, budget, learning_rate=None, g_learning_rate=None) -> list:
    """[:class:`LearningRateTail`] for ``budget`` if ``MODELS[model_name].defaults`` give an
    ``lr_tail`` (share, end), else []; the full rates as ``make_gan`` chooses them."""
    from .gan import learning_rates

    defaults = MODELS[model_name].defaults
    if "lr_tail" not in defaults:
        return []
    rates = learning_rates(defaults, learning_rate, g_learning_rate)
    return [LearningRateTail(budget, rates, *defaults["lr_tail"])]


# The CLI's --model conditional: Appendix A's fast settings (and weight average), a projection D;
# in the CLI, rates that fall over the last 30 % of each session's --seconds, to 10 %.
_LABELLED = _FAST | dict(lr_tail=(0.3, 0.1))
MODELS["conditional"] = ModelSpec(build_pair_generator, build_discriminator, True, _LABELLED, True)
