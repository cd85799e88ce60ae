"""Small helpers for looking inside models and code (Chapter 1)."""
from __future__ import annotations

import inspect

import numpy as np

__all__ = ["snapshot_weights", "weights_changed", "show_source"]


def snapshot_weights(model):
    """Copies of all of ``model``'s weights (trainable or not) as numpy arrays."""
    return [v.numpy().copy() for v in model.weights]


def weights_changed(step, **models) -> dict:
    """Run ``step()`` and report, per model, whether any of its weights changed.

    >>> weights_changed(lambda: d_step(), generator=G, discriminator=D)
    {'generator': False, 'discriminator': True}

    Only *trainable* weights are compared: batch-norm moving statistics move
    whenever a layer runs in training mode, which is not an optimizer update.
    """
    before = {name: [v.numpy().copy() for v in _all_trainable(m)] for name, m in models.items()}
    step()
    after = {name: [v.numpy().copy() for v in _all_trainable(m)] for name, m in models.items()}
    return {name: any(not np.array_equal(a, b) for a, b in zip(before[name], after[name]))
            for name in models}


def _all_trainable(model):
    # A frozen model reports no trainable weights; compare the weights that
    # *would* be trained (kernels, biases, BN gamma/beta), not the moving stats.
    return [v for v in model.weights if not _is_moving_stat(v)]


def _is_moving_stat(variable) -> bool:
    path = getattr(variable, "path", getattr(variable, "name", ""))
    return "moving_mean" in path or "moving_variance" in path


def show_source(obj):
    """Display the source code of a dcgan_lib function or class, highlighted.

    Chapters use it to show the library code they teach instead of pasting it.
    """
    from IPython.display import Code, display

    display(Code(inspect.getsource(obj), language="python"))
