"""Start TensorFlow as the course needs it: quietly, its thread pools sized, the CPU split if asked.

TensorFlow prints start-up notices straight to file descriptor 2 (a red box in a notebook):
fd 2 points at /dev/null while it loads. ``DCGAN_THREADS`` (:func:`thread_counts`) sizes its
thread pools, ``DCGAN_CPU_DEVICES=N`` splits the CPU into N logical devices for ``tf.distribute``
(as Appendix A does), both before its first operation.
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


def usable_cores():
    """Cores this process may use: its affinity, capped by a cgroup CPU quota (TF sees no quota)."""
    affinity = getattr(os, "sched_getaffinity", None)  # not on macOS, Windows
    cores = len(affinity(0)) if affinity else os.cpu_count() or 1
    v1 = "/sys/fs/cgroup/cpu/cpu.cfs_"
    for files in (["/sys/fs/cgroup/cpu.max"], [v1 + "quota_us", v1 + "period_us"]):
        try:
            quota = " ".join(open(name).read() for name in files).split()
        except OSError:
            continue
        if len(quota) == 2 and quota[0].isdigit():  # "max" or -1: no quota
            cores = min(cores, max(1, round(int(quota[0]) / int(quota[1]))))
    return cores


def thread_counts(setting=None):
    """(intra-op, inter-op) threads for ``DCGAN_THREADS`` (or ``setting``); (0, 0): TensorFlow's
    own. ``auto``: all usable cores within an op, two ops at once (D's and G's gradients are
    independent), chosen by measurement (benchmarks/speed_under_load.py, BENCHMARKS.md)."""
    value = os.environ.get("DCGAN_THREADS", "") if setting is None else setting
    value = value.strip().lower() or "auto"
    if value == "auto":
        return usable_cores(), min(2, usable_cores())
    if value == "tf":
        return 0, 0
    parts = value.split(",")
    if len(parts) in (1, 2) and all(p.strip().isdigit() and int(p) > 0 for p in parts):
        return int(parts[0]), int(parts[-1]) if len(parts) == 2 else 1
    raise ValueError(
        f"DCGAN_THREADS={value!r} is not understood: set auto (the default), tf (TensorFlow's "
        "own), N or N,M (N threads within an op, M ops at once; M is 1 if not given), N, M >= 1."
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
    intra, inter = thread_counts()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # errors too: grappler notices are noise
    with _stderr_silenced():
        try:
            import tensorflow as tf
        except ModuleNotFoundError as err:
            if err.name != "tensorflow":
                raise
            raise _tensorflow_missing() from None
        if intra:
            tf.config.threading.set_intra_op_parallelism_threads(intra)
            tf.config.threading.set_inter_op_parallelism_threads(inter)
        if int(devices) > 1:
            parts = [tf.config.LogicalDeviceConfiguration() for _ in range(int(devices))]
            tf.config.set_logical_device_configuration(
                tf.config.list_physical_devices("CPU")[0], parts
            )
        tf.constant(0.0) + 1.0  # first op: some notices appear only now
    return tf
