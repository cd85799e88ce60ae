"""Chapter 6: checkerboard artefacts, seen in overlap maps and measured in the spectrum.

After Odena, Dumoulin and Olah, "Deconvolution and checkerboard artifacts" (Distill, 2016): a
stride-2 transposed convolution whose kernel size is not a multiple of 2 writes some output
pixels more often than others, and a period-2 pattern shows at the highest frequencies an
image has. Used as ``dl.artefacts.<name>``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from .checks import Verdict
from .data import to_model_range
from .models import generate_images

__all__ = ["overlap_map", "artefact_score", "mean_spectrum", "ArtefactTrace"]
__all__ += ["check_overlap_answer"]


def overlap_map(kernel: int, stride: int = 2, size: int = 6, *, upsampling="transposed"):
    """How many kernel taps write each output pixel of an upsampling layer. Defined in Chapter 6.

    An all-ones kernel applied to an all-ones (size, size) input, one channel: float32
    (stride size, stride size). ``"transposed"``: ``Conv2DTranspose(1, kernel, stride, "same")``;
    ``"resize"``: ``UpSampling2D(stride)`` then ``Conv2D(1, kernel, padding="same")``. Away from
    the border an even map means even overlap; "same" padding lowers the border's counts.
    """
    ones = dict(use_bias=False, kernel_initializer="ones")
    if upsampling == "transposed":
        stack = [layers.Conv2DTranspose(1, kernel, stride, "same", **ones)]
    elif upsampling == "resize":
        stack = [layers.UpSampling2D(stride), layers.Conv2D(1, kernel, padding="same", **ones)]
    else:
        raise ValueError(f"upsampling must be 'transposed' or 'resize', got {upsampling!r}")
    model = keras.Sequential([keras.Input((size, size, 1)), *stack])
    return np.asarray(model(np.ones((1, size, size, 1), np.float32)))[0, :, :, 0]


def _power(images):
    """|FFT|^2 of each image less its mean: float64 (N, 28, 28); [0, 0] (the mean) is 0."""
    x = to_model_range(images)[..., 0].astype(np.float64)
    x -= x.mean(axis=(1, 2), keepdims=True)
    return np.abs(np.fft.fft2(x)) ** 2


def artefact_score(images, batch_size: int = 1000) -> np.ndarray:
    """Share of each image's spectral energy at period 2: float64 (N,) in [0, 1]. Defined in
    Chapter 6.

    ``images`` as for :func:`~dcgan_lib.to_model_range`. The energy is |FFT|^2 of the image less
    its mean (the mean is brightness, not pattern); the period-2 frequencies are the Nyquist row
    and column of the 28 x 28 spectrum (index 14, their corner counted once): a checkerboard
    scores 1, stripes 2 pixels apart 1, a smooth blob near 0. Take ``.mean()`` over many images.
    """
    scores = []
    for start in range(0, len(images), batch_size):
        power = _power(images[start : start + batch_size])
        nyquist = np.zeros(power.shape[1:], bool)
        nyquist[14, :] = nyquist[:, 14] = True
        total = power.sum(axis=(1, 2))
        share = power[:, nyquist].sum(axis=1) / np.where(total > 0, total, 1.0)
        scores.append(np.where(total > 0, share, 0.0))  # a flat image has no pattern: 0
    return np.concatenate(scores)


def mean_spectrum(images, batch_size: int = 1000) -> np.ndarray:
    """log10 of the mean power spectrum of images less their means: float64 (28, 28). Defined
    in Chapter 6. Shifted so that the lowest frequencies are in the middle (row, column 14) and
    the period-2 ones are row 0 and column 0; floored at 1e-12 of the maximum; the mean itself,
    [14, 14], is set to the minimum."""
    total = sum(
        _power(images[s : s + batch_size]).sum(axis=0) for s in range(0, len(images), batch_size)
    )
    spectrum = np.fft.fftshift(total / len(images))
    spectrum = np.maximum(spectrum, spectrum.max() * 1e-12)  # no log of 0
    spectrum[14, 14] = np.delete(spectrum, 14 * 28 + 14).min()  # flattened index of the mean
    return np.log10(spectrum)


class ArtefactTrace(keras.callbacks.Callback):
    """Records G's artefact score during ``fit``, every ``every`` steps. Defined in Chapter 6.

    ``rows``: ``(step, mean score of G's samples, of the weight average's)`` for ``n`` samples
    of a fixed noise (``seed``), from step 0 (untrained) on; the average's is NaN without one.
    """

    def __init__(self, every: int = 250, n: int = 1000, seed: int = 1):
        super().__init__()
        self.every, self.n, self.seed, self.rows = every, n, seed, []

    def _record(self):
        gan = self.model
        step = int(gan.g_optimizer.iterations)
        scores = [
            artefact_score(generate_images(g, self.n, seed=self.seed)).mean() if g else np.nan
            for g in (gan.generator, gan.ema_generator)
        ]
        self.rows.append((step, *scores))

    def on_train_begin(self, logs=None):
        self._record()

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.g_optimizer.iterations) % self.every == 0:
            self._record()

    def on_train_end(self, logs=None):
        if self.rows[-1][0] != int(self.model.g_optimizer.iterations):
            self._record()


def check_overlap_answer(kernel: int, stride: int, answer) -> Verdict:
    """Exercise: one period (stride x stride) of the interior of :func:`overlap_map`. Defined in
    Chapter 6. Any period of the interior counts (where it starts is Keras' padding's choice)."""
    if answer is ...:
        return Verdict(False, "replace ... with your stride x stride array, then run it again.")
    got = np.asarray(answer, np.float64)
    if got.shape != (stride, stride):
        return Verdict(False, f"give one period, a {stride} x {stride} array; got {got.shape}.")
    full = overlap_map(kernel, stride, size=4 * kernel)
    inner = full[2 * kernel : 2 * kernel + stride, 2 * kernel : 2 * kernel + stride]
    shifts = [np.roll(inner, (i, j), (0, 1)) for i in range(stride) for j in range(stride)]
    if any(np.array_equal(got, s) for s in shifts):
        return Verdict(True, f"the interior repeats {inner.astype(int).tolist()} (up to a shift).")
    hint = f"one period's counts add up to {kernel}^2 = {kernel**2}. In 1-D, count how many of the"
    hint += (
        f" {kernel} taps land on each of {stride} neighbouring outputs; a 2-D count is a product."
    )
    return Verdict(False, hint)
