"""Self-checks for the chapters' exercises.

- Chapter 3: :func:`check_train_step_fix` -- the report's ``train_step``
  (source 000), whose one ``apply_gradients`` call steps the generator with the
  discriminator's optimizer and never updates the discriminator.
"""

from __future__ import annotations

import numpy as np

from ._startup import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

__all__ = ["check_train_step_fix"]

_G_RATE, _D_RATE = 1e-3, 4e-3  # different, so an update tells which optimizer made it


def _tiny_models(latent_dim=8):
    """A G whose output does not depend on z at first (zero kernel, random bias) and a
    linear D: the first step's gradients of D and of G's bias are then the same whatever
    noise the step draws, so the check can compute them itself."""
    bias = keras.initializers.RandomNormal(stddev=0.5, seed=1)
    g = keras.Sequential([keras.Input((latent_dim,)),
                          keras.layers.Dense(28 * 28, activation="tanh",
                                             kernel_initializer="zeros", bias_initializer=bias),
                          keras.layers.Reshape((28, 28, 1))], name="tiny_g")
    d = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                          keras.layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(
                              stddev=0.05, seed=2))], name="tiny_d")
    return g, d


def _descent_steps(g, d, real):
    """Expected first Adam updates: D's variables, and G's bias, for the tutorial's losses
    (``lr * g / (|g| + eps)`` is Adam's first step; any positive scaling of a loss gives the
    same one)."""
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    z = tf.zeros((len(real), g.input_shape[-1]))           # G's output ignores z at first
    with tf.GradientTape(persistent=True) as tape:
        fake = g(z, training=True)
        real_out, fake_out = d(real, training=True), d(fake, training=True)
        d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        g_loss = bce(tf.ones_like(fake_out), fake_out)
    adam_step = lambda grad, rate: -rate * grad / (np.abs(grad) + 1e-7)  # noqa: E731
    d_steps = [adam_step(grad.numpy(), _D_RATE)
               for grad in tape.gradient(d_loss, d.trainable_variables)]
    g_bias_step = adam_step(tape.gradient(g_loss, g.trainable_variables[1]).numpy(), _G_RATE)
    return d_steps, g_bias_step


def _judge(name, moved, expected):
    """What is wrong with one network's update, or None. ``moved``, ``expected``: flat."""
    if not np.any(moved):
        return f"the {name}'s weights did not change"
    cosine = float(moved @ expected / (np.linalg.norm(moved) * np.linalg.norm(expected)))
    if cosine < -0.5:
        return (f"the {name} went UP its loss (gradient ascent): its update points against "
                "its gradient's descent direction")
    if cosine < 0.9:
        return f"the {name}'s update does not follow the gradient of its loss"
    size = np.abs(moved).mean() / np.abs(expected).mean()
    if not 0.7 < size < 1.4:
        return (f"the {name} moved {size:.2f} times as far as its own optimizer's first step: "
                "was it updated by the other network's optimizer?")
    return None


def check_train_step_fix(make_step, *, verbose: bool = True) -> bool:
    """Check a fixed training step (Chapter 3's exercise). Returns True if right.

    ``make_step(generator, discriminator, g_optimizer, d_optimizer)`` must
    return ``step(real_images)`` that does one update of each network, D's
    output being a logit (the tutorial's losses). The check calls it once on
    tiny models with two fresh Adam optimizers of different learning rates and
    accepts only a step in which each network's gradients *descend* its own
    loss through *its own* optimizer: each optimizer takes exactly one step,
    D's update is Adam's first step down D's loss, and G's is Adam's first step
    down G's loss at G's rate. Prints what is wrong with a hint, or "Correct".
    """
    g, d = _tiny_models()
    g_opt, d_opt = keras.optimizers.Adam(_G_RATE), keras.optimizers.Adam(_D_RATE)
    real = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype(np.float32)
    d_expected, g_expected = _descent_steps(g, d, real)
    d_before = [v.numpy().copy() for v in d.trainable_variables]
    g_bias_before = g.trainable_variables[1].numpy().copy()
    problems = []
    try:
        make_step(g, d, g_opt, d_opt)(real)
    except Exception as err:  # noqa: BLE001 - report any failure as a failed check
        lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [""]
        problems.append(f"the step raised {type(err).__name__}: {lines[-1][:300]}")
    else:
        for name, opt in (("generator", g_opt), ("discriminator", d_opt)):
            if int(opt.iterations) != 1:
                problems.append(f"the {name}'s optimizer took {int(opt.iterations)} steps in "
                                "one call, not 1")
        d_moved = np.concatenate([(v.numpy() - b).ravel()
                                  for v, b in zip(d.trainable_variables, d_before)])
        g_moved = (g.trainable_variables[1].numpy() - g_bias_before).ravel()
        d_expected = np.concatenate([s.ravel() for s in d_expected])
        problems += filter(None, [_judge("discriminator", d_moved, d_expected),
                                  _judge("generator", g_moved, g_expected.ravel())])
    if verbose:
        if problems:
            print("Not yet:\n- " + "\n- ".join(problems))
            print("Hint: each network's gradients go to that network's own optimizer, "
                  "applied to that network's own variables, to make its own loss smaller.")
        else:
            print("Correct: each network descends its own loss through its own optimizer.")
    return not problems
