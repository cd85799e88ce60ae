"""Tests of dcgan_lib.confusion (Chapter 4): the discriminator as a binary classifier."""

import numpy as np
import pytest

import dcgan_lib as dl
from dcgan_lib import confusion
from dcgan_lib.confusion import BinaryConfusion


def test_public_names_are_exported():
    assert confusion.__all__ == [
        "BinaryConfusion",
        "discriminator_confusion",
        "binary_metrics",
        "roc_curve",
    ]
    for name in confusion.__all__:
        assert getattr(dl, name) is getattr(confusion, name)


def test_as_counts_reads_every_form_and_refuses_others_in_one_line():
    forms = [BinaryConfusion(4, 2, 1, 3), dict(tp=4, fn=2, fp=1, tn=3), (4, 2, 1, 3)]
    forms += [{"TP": 4, "Fn": 2, "fP": 1, "tn": 3}, np.array([4, 2, 1, 3]), [[4, 2], [1, 3]]]
    for cm in forms + [np.array([[4, 2], [1, 3]])]:
        assert confusion.as_counts(cm) == (4, 2, 1, 3)
        assert all(type(c) is int for c in confusion.as_counts(cm))
    bad_forms = [dict(tp=1), (1, 2, 3), np.ones((2, 3)), [[1, 2], [3]], "abcd", None]
    for bad in bad_forms + [(1, ..., 2, 3), (1, 2, np.nan, 3)]:
        with pytest.raises(ValueError) as err:
            confusion.as_counts(bad)
        assert "\n" not in str(err.value) and "[[TP, FN], [FP, TN]]" in str(err.value)


def test_discriminator_confusion_by_hand():
    on_real = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.2])[:, None]  # D's (N, 1) outputs
    on_fake = np.array([0.1, 0.3, 0.55, 0.05])
    cm = dl.discriminator_confusion(on_real, on_fake)
    # 0.5 is not above the threshold: judged fake, as Keras' BinaryAccuracy does.
    assert cm == BinaryConfusion(tp=4, fn=2, fp=1, tn=3)
    assert dl.discriminator_confusion(on_real, on_fake, threshold=0.25) == (5, 1, 2, 2)
    logits = np.log(on_real / (1 - on_real)), np.log(on_fake / (1 - on_fake))
    assert dl.discriminator_confusion(*logits, from_logits=True) == (4, 2, 1, 3)
    with pytest.raises(ValueError, match="from_logits"):
        dl.discriminator_confusion(*logits)
    with pytest.raises(ValueError, match="threshold"):
        dl.discriminator_confusion(*logits, threshold=1.0, from_logits=True)
    with pytest.raises(ValueError, match="NaN"):
        dl.discriminator_confusion([np.nan], [0.5])
    with pytest.raises(ValueError, match="empty"):
        dl.discriminator_confusion([], [0.5])


def test_binary_metrics_by_hand():
    m = dl.binary_metrics(BinaryConfusion(tp=8, fn=2, fp=4, tn=6))
    assert m["accuracy"] == pytest.approx((8 + 6) / (8 + 4 + 2 + 6))
    assert m["precision"] == pytest.approx(8 / 12)
    assert m["recall"] == pytest.approx(8 / 10)
    assert m["f1"] == pytest.approx(2 * (8 / 12) * 0.8 / (8 / 12 + 0.8))
    assert m["specificity"] == pytest.approx(6 / 10)
    assert dl.binary_metrics([[8, 2], [4, 6]]) == dl.binary_metrics((8, 2, 4, 6)) == m
    # Nothing judged real: precision, recall and F1 are 0 (no division by zero).
    none_real = dl.binary_metrics({"TP": 0, "FN": 5, "FP": 0, "TN": 5})
    assert none_real == {
        "accuracy": 0.5,
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "specificity": 1.0,
    }
    with pytest.raises(ValueError):
        dl.binary_metrics(BinaryConfusion(0, 0, 0, 0))
    with pytest.raises(ValueError):
        dl.binary_metrics((1, -1, 0, 0))
    with pytest.raises(ValueError, match="tp"):
        dl.binary_metrics({"tp": 1, "fn": 2})


def test_roc_and_its_area():
    auc = lambda real, fake: np.trapezoid(*dl.roc_curve(real, fake)[1::-1])  # noqa: E731
    fpr, tpr, thr = dl.roc_curve([0.9, 0.8, 0.7], [0.1, 0.2, 0.3])  # separable
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1) and thr[0] == np.inf
    assert np.trapezoid(tpr, fpr) == pytest.approx(1.0)
    assert auc([0.1, 0.2], [0.8, 0.9]) == pytest.approx(0.0)
    # By hand, with a tie between a real and a fake image at 0.5.
    fpr, tpr, thr = dl.roc_curve([0.9, 0.5, 0.2], [0.5, 0.1])
    np.testing.assert_allclose(thr, [np.inf, 0.9, 0.5, 0.2, 0.1])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 2 / 3, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    assert np.trapezoid(tpr, fpr) == pytest.approx((2 + 1.5 + 1) / 6)  # P(real > fake), ties 1/2
    rng = np.random.default_rng(3)
    real, fake = rng.random(4000), rng.random(4000)  # a guessing discriminator
    assert auc(real, fake) == pytest.approx(0.5, abs=0.03)
    real, fake = rng.integers(0, 5, 50), rng.integers(0, 5, 60)  # many ties
    pairwise = np.mean((real[:, None] > fake) + 0.5 * (real[:, None] == fake))
    assert auc(real, fake) == pytest.approx(pairwise)
    with pytest.raises(ValueError):
        dl.roc_curve([], [0.5])
