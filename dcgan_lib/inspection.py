"""Looking inside models and code: which weights a step changed, and a function's source."""

from __future__ import annotations

import inspect

import numpy as np


def weights_changed(step, **models) -> dict:
    """Run ``step()``; say per model whether its weights changed. Defined in Chapter 1.

    >>> weights_changed(lambda: d_step(), generator=G, discriminator=D)
    {'generator': False, 'discriminator': True}

    Compares the weights an optimizer would train (frozen or not), not batch norm's moving
    statistics, which move whenever a layer runs in training mode.
    """

    def values(model):
        return [
            v.numpy().copy()
            for v in model.weights
            if not any(s in v.path for s in ("moving_mean", "moving_variance"))
        ]

    before = {name: values(m) for name, m in models.items()}
    step()
    return {
        name: any(not np.array_equal(a, b) for a, b in zip(before[name], values(m)))
        for name, m in models.items()
    }


def show_source(*objects):
    """Display the source code of library functions, classes or methods. Defined in Chapter 1.

    The chapters show with it the library code they teach, instead of pasting it.
    """
    from IPython.display import Code, display

    for obj in objects:
        display(Code(inspect.getsource(obj), language="python"))


__all__ = ["weights_changed", "show_source"]
