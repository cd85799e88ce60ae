"""Self-checks for the chapters' exercises.

- Chapter 3: :func:`check_train_step_fix` -- the seed ``train_step`` that applies
  the generator's gradients with the discriminator's optimizer.
"""
from __future__ import annotations

import numpy as np

from ._quiet import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

__all__ = ["check_train_step_fix"]


def _tiny_models(latent_dim=8):
    g = keras.Sequential([keras.Input((latent_dim,)), keras.layers.Dense(28 * 28, activation="tanh"),
                          keras.layers.Reshape((28, 28, 1))], name="tiny_g")
    d = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)],
                         name="tiny_d")
    return g, d


def check_train_step_fix(make_step, *, verbose: bool = True) -> bool:
    """Check a fixed training step (Chapter 3's exercise). Returns True if right.

    ``make_step(generator, discriminator, g_optimizer, d_optimizer)`` must
    return ``step(real_images)`` that does one update of each network (D's
    output is a logit). The check runs it twice on tiny models with fresh
    Adam optimizers and verifies: each optimizer took exactly one step per
    call, each optimizer updates only its own network's variables, and both
    networks changed. Prints what is wrong, with a hint, otherwise "Correct".
    """
    g, d = _tiny_models()
    g_opt, d_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    real = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype(np.float32)
    g_before = [v.numpy().copy() for v in g.trainable_variables]
    d_before = [v.numpy().copy() for v in d.trainable_variables]
    problems = []
    try:
        step = make_step(g, d, g_opt, d_opt)
        for _ in range(2):
            step(real)
    except Exception as err:  # noqa: BLE001 - report any failure as a failed check
        lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [""]
        problems.append(f"the step raised {type(err).__name__}: {lines[-1][:300]}")
    else:
        if int(g_opt.iterations) != 2:
            problems.append(f"the generator's optimizer took {int(g_opt.iterations)} steps in 2 calls, not 2")
        if int(d_opt.iterations) != 2:
            problems.append(f"the discriminator's optimizer took {int(d_opt.iterations)} steps in 2 calls, not 2")
        if not any(not np.array_equal(a, v.numpy()) for a, v in zip(g_before, g.trainable_variables)):
            problems.append("the generator's weights did not change")
        if not any(not np.array_equal(a, v.numpy()) for a, v in zip(d_before, d.trainable_variables)):
            problems.append("the discriminator's weights did not change")
    if verbose:
        if problems:
            print("Not yet:\n- " + "\n- ".join(problems))
            print("Hint: each network's gradients go to that network's own optimizer, "
                  "applied to that network's own variables.")
        else:
            print("Correct: each optimizer updates only its own network, once per step.")
    return not problems
