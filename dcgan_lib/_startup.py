"""Start TensorFlow as the course needs it: quietly, with the CPU split when asked.

TensorFlow prints start-up notices straight to file descriptor 2 (a red box in a notebook):
fd 2 points at /dev/null while it loads. ``DCGAN_CPU_DEVICES=N`` splits the CPU into N
logical devices before its first operation, for ``tf.distribute`` (as Appendix A does).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys


@contextlib.contextmanager
def _stderr_silenced():
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


class TensorFlowMissing(ModuleNotFoundError):
    """TensorFlow is not installed; the message says how to install it."""


def _tensorflow_missing():
    """The error, and a hook that prints it as one line if nothing catches it (``--help``)."""
    wheel = "tensorflow==2.21.*"  # macOS and others; on Linux, make install's choice:
    if sys.platform.startswith("linux"):
        wheel = f"tensorflow{'[and-cuda]' if shutil.which('nvidia-smi') else '-cpu'}==2.21.*"
    previous = sys.excepthook

    def one_line(kind, err, tb):  # uncaught, the error is one line, not a traceback
        if not isinstance(err, TensorFlowMissing):
            return previous(kind, err, tb)
        print(f"error: {err}", file=sys.stderr)

    sys.excepthook = one_line
    return TensorFlowMissing(
        f"dcgan_lib needs TensorFlow 2.21, which this Python ({sys.executable}) does not have: "
        f"install it with `pip install '{wheel}'`, or run `make install` in the course folder",
        name="tensorflow",
    )


def import_tensorflow():
    """The ``tensorflow`` module, imported quietly (and the CPU split) the first time."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    devices = os.environ.get("DCGAN_CPU_DEVICES", "").strip() or "1"
    if not devices.isdigit() or int(devices) < 1:
        raise ValueError(
            f"DCGAN_CPU_DEVICES={devices!r} should be a whole number of logical CPU "
            "devices, at least 1 (2 to try tf.distribute on one CPU)."
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # errors too: grappler notices are noise
    with _stderr_silenced():
        try:
            import tensorflow as tf
        except ModuleNotFoundError as err:
            if err.name != "tensorflow":
                raise
            raise _tensorflow_missing() from None
        if int(devices) > 1:
            parts = [tf.config.LogicalDeviceConfiguration() for _ in range(int(devices))]
            tf.config.set_logical_device_configuration(
                tf.config.list_physical_devices("CPU")[0], parts
            )
        tf.constant(0.0) + 1.0  # first op: some notices appear only now
    return tf
