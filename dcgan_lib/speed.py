"""Appendix A: where training time goes, arithmetic per image and measured throughput."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time

import keras
from keras import layers


def layer_macs(model) -> list[int]:
    """Multiply-adds of one image through each Dense and convolution layer. Defined in Appendix A.

    Dense: inputs x outputs; convolution: output pixels x kernel area x channels in x out;
    transposed convolution: *input* pixels x kernel area x channels in x out (each input
    pixel is spread over a patch). Batch norm, activations and biases (a few per cent here)
    are left out; a nested model's layers are listed in its place. ``sum()`` gives the model's.
    """
    macs = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            macs += layer_macs(layer)
        elif isinstance(layer, layers.Dense):
            macs.append(int(layer.kernel.shape[0]) * int(layer.kernel.shape[1]))
        elif isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose)):
            kh, kw, c_in, c_out = (int(n) for n in layer.kernel.shape)
            transposed = isinstance(layer, layers.Conv2DTranspose)
            if transposed:  # its kernel is (kh, kw, out, in)
                c_in, c_out = c_out, c_in
            h, w = (layer.input if transposed else layer.output).shape[1:3]
            macs.append(int(h) * int(w) * kh * kw * c_in * c_out)
    return macs


def train_flops_per_image(generator, discriminator) -> int:
    """FLOPs to train on one image with :func:`dcgan_lib.gan_step`. Defined in Appendix A.

    With g, d the forward MACs of G and D and g1, d1 those of their first layers (a backward
    pass costs a layer's MACs once for its weights' gradient and once for its input's, which a
    first layer needs only when something upstream trains): forward g + 2d; D's loss backward
    through D on both batches, 2 (2d - d1); G's loss back through D to the images, d, then
    through G, 2g - g1. Total 2 (3g + 7d - 2 d1 - g1) FLOPs (1 MAC = 2 FLOPs).
    """
    g, d = layer_macs(generator), layer_macs(discriminator)
    return 2 * (sum(g) + 2 * sum(d) + 2 * (2 * sum(d) - d[0]) + sum(d) + 2 * sum(g) - g[0])


class _StepClock(keras.callbacks.Callback):
    """Times from the end of batch ``first`` to the end of the last batch."""

    def __init__(self, first):
        super().__init__()
        self.first, self.start, self.end = first, None, None

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.first:
            self.start = time.perf_counter()
        self.end = time.perf_counter()


def images_per_second(gan, dataset, steps, batch_size, *, warmup=2) -> float:
    """Steady images per second of ``gan.fit`` over ``steps`` steps. Defined in Appendix A.

    One ``fit`` runs ``warmup + steps`` steps on ``dataset`` (batches of ``batch_size``); the
    clock starts after the warm-up, so tracing (and XLA compiling) is not counted.
    """
    if warmup < 1 or steps < 1:
        raise ValueError(f"need warmup >= 1 and steps >= 1, got warmup={warmup}, steps={steps}")
    clock = _StepClock(warmup)
    gan.fit(
        dataset,
        epochs=1,
        steps_per_epoch=warmup + steps,
        callbacks=[clock],
        verbose=0,
        shuffle=False,
    )  # the dataset is shuffled already
    return steps * batch_size / (clock.end - clock.start)


_EXTENSIONS = {
    "avx2": "AVX2",
    "avx512f": "AVX-512",
    "avx512_bf16": "AVX512-BF16",
    "amx_tile": "AMX",
}
_PROBE = (
    "import tensorflow as tf; tf.nn.conv2d(tf.ones((1, 8, 8, 4)), tf.ones((3, 3, 4, 8)), 1, 'SAME')"
)


def describe_cpu() -> dict:
    """What this CPU is and how TensorFlow uses it. Defined in Appendix A.

    Keys: ``cpu`` (model name), ``cores`` (usable by this process), ``extensions`` (of AVX2,
    AVX-512, AVX512-BF16, AMX, those the CPU has), ``onednn_isa`` (the instruction set oneDNN
    dispatches to, which ``ONEDNN_MAX_CPU_ISA`` can cap; found by running one convolution in a
    fresh process with ``ONEDNN_VERBOSE=1``, a few seconds) and ``threads`` (TensorFlow's
    intra-op and inter-op threads, ``DCGAN_THREADS``).
    """
    from ._startup import import_tensorflow, usable_cores

    tf = import_tensorflow()
    try:
        cpuinfo = open("/proc/cpuinfo").read()
    except OSError:  # not Linux
        cpuinfo = ""
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    flags = re.search(r"flags\s*:(.*)", cpuinfo)
    flags = set(flags.group(1).split()) if flags else set()
    env = dict(os.environ, ONEDNN_VERBOSE="1", TF_CPP_MIN_LOG_LEVEL="3")
    probe = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True)
    isa = re.search(r"isa:(.*)", probe.stdout + probe.stderr)
    return {
        "cpu": model.group(1).strip() if model else platform.processor() or platform.machine(),
        "cores": usable_cores(),
        "extensions": [name for flag, name in _EXTENSIONS.items() if flag in flags],
        "onednn_isa": isa.group(1).strip() if isa else "unknown (oneDNN reported none)",
        "threads": (
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads(),
        ),
    }


__all__ = ["layer_macs", "train_flops_per_image", "images_per_second"]
