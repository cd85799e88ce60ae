"""Tests of Chapter 4's threshold explorer, driven the way a student drives it: by the slider."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import dcgan_lib as dl  # noqa: E402
from dcgan_lib.confusion import BinaryConfusion  # noqa: E402
from dcgan_lib.widgets import _to_probabilities  # noqa: E402

REAL = [0.95, 0.80, 0.62, 0.55, 0.40, 0.10]  # D's P(real) on six real images
FAKE = [0.90, 0.58, 0.45, 0.30, 0.20, 0.05]  # ... and on six fakes


def test_the_explorer_shows_the_confusion_at_its_threshold():
    ex = dl.threshold_explorer(REAL, FAKE, draw=False)
    assert ex.threshold == 0.5
    assert ex.confusion == BinaryConfusion(tp=4, fn=2, fp=2, tn=4)
    assert ex.metrics == dl.binary_metrics(ex.confusion)
    assert ex.metrics["accuracy"] == pytest.approx(8 / 12)
    assert "TP 4 FN 2 FP 2 TN 4" in ex.text.value and "TP 4 FN 2 FP 2 TN 4" in ex.summary()


def test_moving_the_slider_changes_the_matrix_and_the_metrics():
    ex = dl.threshold_explorer(REAL, FAKE, draw=False)
    before = ex.confusion
    ex.slider.value = 0.6
    assert ex.threshold == pytest.approx(0.6)
    assert ex.confusion == BinaryConfusion(tp=3, fn=3, fp=1, tn=5) != before
    assert ex.metrics["precision"] == pytest.approx(3 / 4)
    assert ex.metrics["recall"] == pytest.approx(3 / 6)
    ex.slider.value = 0.0  # everything above 0: "real" to all
    assert ex.confusion == BinaryConfusion(tp=6, fn=0, fp=6, tn=0)
    assert ex.metrics["accuracy"] == pytest.approx(0.5)
    ex.slider.value = 1.0  # nothing above 1: "fake" to all
    assert ex.confusion == BinaryConfusion(tp=0, fn=6, fp=0, tn=6)
    assert "TP 0 FN 6 FP 0 TN 6" in ex.text.value


def test_each_move_redraws_the_figure_with_the_new_counts():
    ex = dl.threshold_explorer(REAL, FAKE, threshold=0.5)
    assert ex.redraws == 1 and ex.figure is not None

    def counts_drawn(fig):
        texts = [t.get_text() for t in fig.axes[0].texts]  # the matrix panel
        return [int(t.split("\n")[1].replace(",", "")) for t in texts]

    assert counts_drawn(ex.figure) == [4, 2, 2, 4]  # TP, FN, FP, TN
    ex.slider.value = 0.85
    assert ex.redraws == 2
    assert counts_drawn(ex.figure) == [1, 5, 1, 5]
    assert "0.85" in ex.figure.axes[0].get_title()


def test_auc_does_not_depend_on_the_threshold_and_is_the_area_under_the_roc_curve():
    ex = dl.threshold_explorer(REAL, FAKE, draw=False)
    fpr, tpr, _ = dl.roc_curve(REAL, FAKE)
    assert ex.auc == pytest.approx(np.trapezoid(tpr, fpr))
    ex.slider.value = 0.3
    assert ex.auc == pytest.approx(np.trapezoid(tpr, fpr))
    # AUC = P(a real scores above a fake), ties half: count the pairs by hand
    pairs = [(r > f) + 0.5 * (r == f) for r in REAL for f in FAKE]
    assert ex.auc == pytest.approx(np.mean(pairs))


def test_logits_are_turned_into_probabilities():
    logits_real, logits_fake = np.array([[3.0], [0.2], [-1.0]]), np.array([[-4.0], [0.5]])
    ex = dl.threshold_explorer(logits_real, logits_fake, from_logits=True, draw=False)
    assert ex.real.min() > 0 and ex.real.max() < 1
    assert ex.confusion == dl.discriminator_confusion(logits_real, logits_fake, from_logits=True)
    np.testing.assert_allclose(_to_probabilities([-800.0, 0.0, 800.0], True), [0, 0.5, 1])
    assert _to_probabilities([0.0], True)[0] == 0.5  # exactly: logit 0 is not "real"


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="from_logits"):
        dl.threshold_explorer([2.0, 0.5], [0.1], draw=False)
    with pytest.raises(ValueError, match="threshold"):
        dl.threshold_explorer(REAL, FAKE, threshold=1.5, draw=False)
    with pytest.raises(ValueError, match="NaN"):
        dl.threshold_explorer([np.nan], FAKE, draw=False)
    with pytest.raises(ValueError, match="threshold"):
        dl.threshold_explorer(REAL, FAKE, threshold="high", draw=False)


def test_the_explorer_is_a_displayable_widget():
    import ipywidgets

    ex = dl.threshold_explorer(REAL, FAKE, draw=False)
    assert isinstance(ex.widget, ipywidgets.VBox)
    assert ex.slider in ex.widget.children[0].children
    assert "threshold 0.50" in repr(ex)
    assert ex._repr_mimebundle_()["text/plain"].startswith("VBox")
    assert "image/png" not in ex._repr_mimebundle_()  # nothing drawn: no picture
    drawn = dl.threshold_explorer(REAL, FAKE)  # a static page (a deck) shows its picture
    bundle = drawn._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"].startswith("iVBOR")


def test_slider_options_pass_through_and_redraw_on_release_by_default():
    assert not dl.threshold_explorer(REAL, FAKE, draw=False).slider.continuous_update
    ex = dl.threshold_explorer(REAL, FAKE, draw=False, continuous_update=True, step=0.05)
    assert ex.slider.continuous_update and ex.slider.step == 0.05 and ex.slider.max == 1
