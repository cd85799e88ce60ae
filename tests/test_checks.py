"""Tests of the exercises' self-checks: right answers pass, usual slips get their hint.

Chapter 4's checks of D's confusion and metrics; Chapter 3's check of a fixed training step,
which accepts only a step in which each network descends its own loss through its own
optimizer (tried as a student would)."""

import keras
import pytest
import tensorflow as tf

import dcgan_lib as dl
from dcgan_lib.confusion import BinaryConfusion

REAL = [0.91, 0.62, 0.50, 0.97, 0.35, 0.73]
FAKE = [0.12, 0.55, 0.08, 0.66, 0.30, 0.50]
# at 0.5 (judged real when > 0.5): TP 4 (0.91 0.62 0.97 0.73), FN 2, FP 2 (0.55 0.66), TN 4


def test_confusion_right_answer_in_every_form():
    for answer in (
        dict(tp=4, fn=2, fp=2, tn=4),
        dict(TP=4, FN=2, FP=2, TN=4),
        (4, 2, 2, 4),
        [[4, 2], [2, 4]],
        BinaryConfusion(4, 2, 2, 4),
    ):
        verdict = dl.check_confusion_answer(answer, REAL, FAKE)
        assert verdict and repr(verdict).startswith("Right")


@pytest.mark.parametrize(
    "answer, hint",
    [
        (dict(tp=5, fn=1, fp=3, tn=3), "strictly above"),  # counted 0.50 as real
        (dict(tp=2, fn=4, fp=4, tn=2), "reversed"),  # judged real when below
        (dict(tp=4, fn=3, fp=2, tn=4), "add up to the 6 real"),
        (dict(tp=3, fn=3, fp=2, tn=4), "TP, FN are off"),
    ],
)
def test_confusion_slips_get_their_hint(answer, hint):
    verdict = dl.check_confusion_answer(answer, REAL, FAKE)
    assert not verdict and verdict.message.startswith("Not yet") and hint in verdict.message


def test_confusion_swaps_get_their_hint():
    real, fake = [0.9, 0.8, 0.7, 0.2], [0.1, 0.1, 0.3, 0.2]  # TP 3 FN 1 FP 0 TN 4
    assert "FP and FN are swapped" in str(dl.check_confusion_answer((3, 0, 1, 4), real, fake))
    assert "positive class" in str(dl.check_confusion_answer((4, 0, 1, 3), real, fake))
    with pytest.raises(ValueError, match="tp"):
        dl.check_confusion_answer(dict(tp=1), real, fake)


def test_metrics_right_and_the_slides_accuracy_mistake():
    cm = dict(tp=40, fn=10, fp=20, tn=30)
    assert dl.check_metrics_answer(
        cm, accuracy=0.70, precision=40 / 60, recall=0.8, f1=2 * (2 / 3) * 0.8 / (2 / 3 + 0.8)
    )
    slides = dl.check_metrics_answer(cm, accuracy=(40 + 30) / 30)  # source 004, section 3.2
    assert not slides and "slides' mistake" in slides.message and "1 + TP / TN" in slides.message
    judged_real = dl.check_metrics_answer(cm, accuracy=(40 + 30) / (40 + 20))
    assert not judged_real and "judged real only" in judged_real.message
    assert "slides" not in judged_real.message
    no_tn = dl.check_metrics_answer(dict(tp=5, fn=5, fp=10, tn=0), accuracy=2.0)  # no TN: no slip
    assert not no_tn and "slides" not in no_tn.message
    assert "TP *and* TN" in str(dl.check_metrics_answer(cm, accuracy=0.4))
    assert "percentage" in str(dl.check_metrics_answer(cm, accuracy=70))


def test_metrics_swaps_and_means_get_their_hint():
    cm = (40, 10, 20, 30)
    assert "that is recall" in str(dl.check_metrics_answer(cm, precision=0.8))
    assert "that is precision" in str(dl.check_metrics_answer(cm, recall=40 / 60))
    assert "specificity" in str(dl.check_metrics_answer(cm, recall=0.6))
    assert "harmonic" in str(dl.check_metrics_answer(cm, f1=(40 / 60 + 0.8) / 2))
    mixed = dl.check_metrics_answer(cm, accuracy=0.7, recall=0.5)
    assert not mixed and "(right: accuracy = 0.7000.)" in mixed.message
    with pytest.raises(ValueError):
        dl.check_metrics_answer(cm)


def test_cell_names():
    assert dl.check_cell_names(type_i="FP", type_ii="FN", g_wants="FP", d_wants="TP and TN")
    assert dl.check_cell_names(
        type_i="false positive", type_ii="False Negatives", d_wants=["tn", "tp"]
    )
    swapped = dl.check_cell_names(type_i="FN", type_ii="FP")
    assert not swapped and "false alarm" in swapped.message and "a miss" in swapped.message
    assert "'fake' row" in str(dl.check_cell_names(g_wants="TP"))
    assert "both diagonal cells" in str(dl.check_cell_names(d_wants="TP"))
    with pytest.raises(ValueError, match="name cells"):
        dl.check_cell_names(type_i="the bad one")


def test_threshold_answer():
    real = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1]
    fake = [0.75, 0.5, 0.3, 0.2, 0.1, 0.1, 0.05, 0.05, 0.01, 0.0]
    # at most 10% of the fakes may pass: only 0.75 may be above -> threshold in [0.5, 0.75)
    assert dl.check_threshold_answer(0.5, real, fake, max_fpr=0.1)
    too_low = dl.check_threshold_answer(0.45, real, fake, max_fpr=0.1)
    assert not too_low and "Raise" in too_low.message
    too_high = dl.check_threshold_answer(0.8, real, fake, max_fpr=0.1)
    assert not too_high and "Lower" in too_high.message
    with pytest.raises(ValueError):
        dl.check_threshold_answer("high", real, fake)


def test_placeholders_are_not_yet_and_no_error():
    for verdict in (
        dl.check_confusion_answer(dict(tp=..., fn=..., fp=..., tn=...), REAL, FAKE),
        dl.check_metrics_answer((1, 1, 1, 1), accuracy=...),
        dl.check_cell_names(type_i=..., type_ii="FN"),
        dl.check_threshold_answer(..., REAL, FAKE),
    ):
        assert not verdict and "replace each ..." in verdict.message
    assert not dl.check_cell_names(d_wants=["TP", ...])


def test_every_verdict_is_one_line_right_or_not_yet():
    verdicts = [
        dl.check_confusion_answer((4, 2, 2, 4), REAL, FAKE),
        dl.check_confusion_answer((4, 2, 4, 2), REAL, FAKE),
        dl.check_metrics_answer((4, 2, 2, 4), accuracy=8 / 12),
        dl.check_metrics_answer((4, 2, 2, 4), accuracy=8 / 4, f1=0.5),
        dl.check_cell_names(type_i="FP"),
        dl.check_cell_names(type_i="TN"),
        dl.check_threshold_answer(0.7, REAL, FAKE),
        dl.check_threshold_answer(0.0, REAL, FAKE),
    ]
    assert [bool(v) for v in verdicts] == [True, False] * 4
    for v in verdicts:
        assert str(v) == repr(v) == v.message and "\n" not in v.message
        assert v.message.startswith("Right: " if v else "Not yet: ")


# --- Chapter 3: the fixed training step ------------------------------------------------


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
                d_loss = bce(tf.ones_like(real_out), real_out) + bce(
                    tf.zeros_like(fake_out), fake_out
                )
                d_loss = d_sign * d_loss
            g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
            d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
            if report_bug:  # source 000's one call: G's gradients through D's optimizer
                d_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
                return
            opts[g_opt_for].apply_gradients(zip(g_grads, generator.trainable_variables))
            if apply_d:
                opts[d_opt_for].apply_gradients(zip(d_grads, discriminator.trainable_variables))

        return step

    return make


def test_accepts_the_correct_step(capsys):
    verdict = dl.check_train_step_fix(make_step())
    assert verdict and repr(verdict).startswith("Right: ")
    assert capsys.readouterr().out == ""  # it says so by its Verdict, not by printing


def test_accepts_the_correct_step_under_tf_function():
    def make(*args):
        return tf.function(make_step()(*args))

    assert dl.check_train_step_fix(make)


@pytest.mark.parametrize(
    "wrong, says",
    [
        (dict(report_bug=True), "discriminator's weights did not change"),
        (dict(g_opt_for="d", d_opt_for="g"), "other network's optimizer"),
        (dict(d_sign=-1.0), "gradient ascent"),
        (dict(apply_d=False), "discriminator's optimizer took 0 steps"),
    ],
)
def test_refuses_wrong_steps(wrong, says):
    verdict = dl.check_train_step_fix(make_step(**wrong))
    assert not verdict and verdict.message.startswith("Not yet: ") and says in verdict.message
    assert verdict.message.endswith("to its own optimizer, to lower its own loss.")  # the hint


def test_a_step_that_raises_is_not_yet():
    def make(*args):
        def step(real_images):
            raise RuntimeError("shapes do not match\n  (8, 784) vs (8, 1)")

        return step

    verdict = dl.check_train_step_fix(make)
    assert not verdict and "the step raised RuntimeError: (8, 784) vs (8, 1)" in verdict.message
