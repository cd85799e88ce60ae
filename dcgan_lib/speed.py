"""Where the training time goes: arithmetic per image and measured throughput.

Defined in Appendix A ("Faster on a CPU, wider than one device"); used by
``benchmarks/run_benchmarks.py``.
"""
from __future__ import annotations

import time

from ._quiet import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

__all__ = ["forward_macs", "train_flops_per_image", "images_per_second"]


def forward_macs(model: keras.Model) -> int:
    """Multiply-adds of one image through ``model``'s Dense and convolution layers.

    A Dense layer costs inputs x outputs; a convolution, output pixels x
    kernel area x input channels x output channels; a transposed convolution,
    *input* pixels x kernel area x channels in x channels out (each input
    pixel is spread over a kernel-sized patch). Batch norm, activations and
    biases are left out: they are a few per cent of the total here.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_macs(layer)
        elif isinstance(layer, layers.Dense):
            total += int(layer.kernel.shape[0]) * int(layer.kernel.shape[1])
        elif isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose)):
            kh, kw, c_in, c_out = (int(n) for n in layer.kernel.shape)
            if isinstance(layer, layers.Conv2DTranspose):   # its kernel is (kh, kw, out, in)
                c_in, c_out = c_out, c_in
                h, w = layer.input.shape[1:3]
            else:
                h, w = layer.output.shape[1:3]
            total += int(h) * int(w) * kh * kw * c_in * c_out
    return total


def train_flops_per_image(generator: keras.Model, discriminator: keras.Model) -> int:
    """FLOPs to train on one image with a simultaneous step (Chapter 3's ``GAN``).

    G runs once and D twice (on a real and on a fake image); a backward pass
    costs about twice its forward pass; a multiply-add is 2 FLOPs. So
    2 x 3 x (MACs of G + 2 x MACs of D). For the TF tutorial's models this is
    about 0.43 GFLOP, 26 TFLOP an epoch of 60,000 images.
    """
    return 2 * 3 * (forward_macs(generator) + 2 * forward_macs(discriminator))


class _StepClock(keras.callbacks.Callback):
    """Times from the end of batch ``first`` to the end of the last batch."""

    def __init__(self, first: int):
        super().__init__()
        self.first, self.start, self.end = first, None, None

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.first:
            self.start = time.perf_counter()
        self.end = time.perf_counter()


def images_per_second(gan: keras.Model, dataset, steps: int, batch_size: int, *,
                      warmup: int = 2) -> float:
    """Images per second of ``gan.fit`` over ``steps`` steps, after ``warmup`` untimed ones.

    One ``fit`` call runs ``warmup + steps`` steps on ``dataset`` (batches of
    ``batch_size`` real images, e.g. :func:`dcgan_lib.resumable_dataset`); the
    clock starts when the warm-up steps have ended, so tracing the step (and
    compiling it, under XLA) and starting ``fit`` are not counted: this is
    the steady rate of a long training run.
    """
    if warmup < 1 or steps < 1:
        raise ValueError(f"need warmup >= 1 and steps >= 1, got warmup={warmup}, steps={steps}")
    clock = _StepClock(warmup)
    gan.fit(dataset, epochs=1, steps_per_epoch=warmup + steps, callbacks=[clock], verbose=0,
            shuffle=False)                # the dataset is shuffled already
    return steps * batch_size / (clock.end - clock.start)
