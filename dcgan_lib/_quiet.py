"""Import TensorFlow without its start-up log lines on stderr.

TensorFlow 2.21 prints a oneDNN notice and an absl warning straight to file
descriptor 2 while it loads, before ``TF_CPP_MIN_LOG_LEVEL`` can act on them.
In a notebook they show up as a red box under the first cell; in CI they bury
real warnings. We point fd 2 at /dev/null for the duration of the import only:
Python exceptions (an ImportError, say) still surface normally.
"""
from __future__ import annotations

import contextlib
import os
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


def import_tensorflow():
    """Return the ``tensorflow`` module, imported quietly the first time."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # errors too: grappler "remapper failed" notices are noise
    with _stderr_fd_silenced():
        import tensorflow as tf

        tf.constant(0.0) + 1.0  # first op: some notices appear only now
    return tf
