"""Import TensorFlow without its start-up log lines on stderr.

TensorFlow 2.21 prints a oneDNN notice and an absl warning straight to file
descriptor 2 while it loads, before ``TF_CPP_MIN_LOG_LEVEL`` can act on them.
In a notebook they show up as a red box under the first cell; in CI they bury
real warnings. We point fd 2 at /dev/null for the duration of the import only:
Python exceptions (an ImportError, say) still surface normally. Without
TensorFlow, the error says in one line how to install it for this platform.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys


@contextlib.contextmanager
def _stderr_fd_silenced():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (embedded use)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _logical_cpu_devices() -> int:
    """``DCGAN_CPU_DEVICES``: into how many logical devices to split the CPU (default 1)."""
    value = os.environ.get("DCGAN_CPU_DEVICES", "").strip() or "1"
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"DCGAN_CPU_DEVICES={value!r} should be a whole number of logical CPU "
                         "devices, at least 1 (2 to try tf.distribute on one CPU; Appendix A).")
    return int(value)


class TensorFlowMissing(ModuleNotFoundError):
    """TensorFlow is not installed; the message says how to install it."""


def _tensorflow_missing() -> TensorFlowMissing:
    """The error, and a hook that prints it as one line if nothing catches it (``dcgan --help``)."""
    wheel = "tensorflow==2.21.*"                                   # macOS and others
    if sys.platform.startswith("linux"):                           # make install's choice
        wheel = f"tensorflow{'[and-cuda]' if shutil.which('nvidia-smi') else '-cpu'}==2.21.*"
    previous = sys.excepthook

    def one_line(kind, err, tb):
        if isinstance(err, TensorFlowMissing):
            print(f"error: {err}", file=sys.stderr)
        else:
            previous(kind, err, tb)

    sys.excepthook = one_line
    return TensorFlowMissing(
        f"dcgan_lib needs TensorFlow 2.21, which this Python ({sys.executable}) does not have: "
        f"install it with `pip install '{wheel}'`, or run `make install` in the course folder",
        name="tensorflow")


def import_tensorflow():
    """Return the ``tensorflow`` module, imported quietly the first time.

    If ``DCGAN_CPU_DEVICES`` is set to N > 1, the CPU is split into N logical
    devices before TensorFlow's first operation (afterwards it cannot be):
    ``os.environ["DCGAN_CPU_DEVICES"] = "2"`` before ``import dcgan_lib`` lets
    :func:`dcgan_lib.two_cpu_devices` build a two-replica strategy.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    devices = _logical_cpu_devices()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # errors too: grappler "remapper failed" notices are noise
    with _stderr_fd_silenced():
        try:
            import tensorflow as tf
        except ModuleNotFoundError as err:
            if err.name != "tensorflow":
                raise
            raise _tensorflow_missing() from None

        if devices > 1:
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(devices)])
        tf.constant(0.0) + 1.0  # first op: some notices appear only now
    return tf
