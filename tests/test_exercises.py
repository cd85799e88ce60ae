"""Chapter 3's self-check accepts only a step in which each network descends its own
loss through its own optimizer (tried as a student would)."""

import keras
import pytest
import tensorflow as tf

from dcgan_lib import check_train_step_fix


def make_step(*, d_sign=1.0, g_opt_for="g", d_opt_for="d", report_bug=False, apply_d=True):
    """A tutorial train_step with one thing changed at a time."""

    def make(generator, discriminator, g_optimizer, d_optimizer):
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        opts = {"g": g_optimizer, "d": d_optimizer}

        def step(real_images):
            z = tf.random.normal((tf.shape(real_images)[0], generator.input_shape[-1]))
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = generator(z, training=True)
                real_out = discriminator(real_images, training=True)
                fake_out = discriminator(fake, training=True)
                g_loss = bce(tf.ones_like(fake_out), fake_out)
                d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out),
                                                                     fake_out)
                d_loss = d_sign * d_loss
            g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
            d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
            if report_bug:   # source 000's one call: G's gradients through D's optimizer
                d_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
                return
            opts[g_opt_for].apply_gradients(zip(g_grads, generator.trainable_variables))
            if apply_d:
                opts[d_opt_for].apply_gradients(zip(d_grads, discriminator.trainable_variables))

        return step

    return make


def test_accepts_the_correct_step(capsys):
    assert check_train_step_fix(make_step())
    assert "Correct" in capsys.readouterr().out


def test_accepts_the_correct_step_under_tf_function():
    def make(*args):
        return tf.function(make_step()(*args))

    assert check_train_step_fix(make, verbose=False)


@pytest.mark.parametrize("wrong, says", [
    (dict(report_bug=True), "discriminator's weights did not change"),
    (dict(g_opt_for="d", d_opt_for="g"), "other network's optimizer"),
    (dict(d_sign=-1.0), "gradient ascent"),
    (dict(apply_d=False), "discriminator's optimizer took 0 steps"),
])
def test_refuses_wrong_steps(wrong, says, capsys):
    assert not check_train_step_fix(make_step(**wrong))
    out = capsys.readouterr().out
    assert "Not yet" in out and says in out, out
