"""Where the training time goes: arithmetic per image and measured throughput.

Defined in Appendix A ("Faster on a CPU, wider than one device"); used by
``benchmarks/run_benchmarks.py``.
"""
from __future__ import annotations

import time

from ._startup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

__all__ = ["layer_macs", "forward_macs", "train_flops_per_image", "images_per_second"]


def layer_macs(model: keras.Model) -> list[int]:
    """Multiply-adds of one image through each Dense and convolution layer of ``model``, in order.

    A Dense layer costs inputs x outputs; a convolution, output pixels x
    kernel area x input channels x output channels; a transposed convolution,
    *input* pixels x kernel area x channels in x channels out (each input
    pixel is spread over a kernel-sized patch). Batch norm, activations and
    biases are left out: they are a few per cent of the total here. Layers of
    a nested model are listed in its place.
    """
    macs = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            macs += layer_macs(layer)
        elif isinstance(layer, layers.Dense):
            macs.append(int(layer.kernel.shape[0]) * int(layer.kernel.shape[1]))
        elif isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose)):
            kh, kw, c_in, c_out = (int(n) for n in layer.kernel.shape)
            if isinstance(layer, layers.Conv2DTranspose):   # its kernel is (kh, kw, out, in)
                c_in, c_out = c_out, c_in
                h, w = layer.input.shape[1:3]
            else:
                h, w = layer.output.shape[1:3]
            macs.append(int(h) * int(w) * kh * kw * c_in * c_out)
    return macs


def forward_macs(model: keras.Model) -> int:
    """Multiply-adds of one image through ``model``'s Dense and convolution layers.

    The sum of :func:`layer_macs`, which says how each layer is counted.
    """
    return sum(layer_macs(model))


def train_flops_per_image(generator: keras.Model, discriminator: keras.Model) -> int:
    """FLOPs to train on one image with a simultaneous step (Chapter 3's ``GAN``).

    Counted in multiply-adds (MACs; one is 2 FLOPs). Write g and d for the
    forward MACs of G and D, g1 and d1 for those of their first layers. A
    layer's backward pass costs its forward MACs once for the gradient of its
    weights and once for the gradient of its input; a network's first layer
    needs the second only when something upstream is trained.

    - forward: G on the noise (g), D on the real and on the fake batch (2d);
    - D's loss: backward through D on both batches, weights and inputs, but
      not into the images (2 x (2d - d1));
    - G's loss, on the same forward pass of D on the fakes: backward through
      D for the inputs only, down to the images (d), then through G, weights
      and inputs, but not into the noise (2g - g1).

    Total 2 x (3g + 7d - 2 d1 - g1). The last two terms (G's loss through D,
    less the first layers' input gradients) add d - 2 d1 - g1 to the rough
    rule 2 x 3 x (g + 2d), "backward = twice forward": 4 % more for the TF
    tutorial's models, about 0.45 GFLOP per image, 27 TFLOP an epoch of
    60,000 images. A ``train_on_batch`` loop (Chapters 1 and 2) draws a second
    batch of fakes for G's step, which adds a forward pass of G and of D
    (g + d).
    """
    g, d = layer_macs(generator), layer_macs(discriminator)
    forward = sum(g) + 2 * sum(d)
    d_loss_backward = 2 * (2 * sum(d) - d[0])
    g_loss_backward = sum(d) + 2 * sum(g) - g[0]
    return 2 * (forward + d_loss_backward + g_loss_backward)


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
