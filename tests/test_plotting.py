"""Tests of Chapter 4's drawing helpers (headless: matplotlib's Agg backend)."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import dcgan_lib as dl  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_binary_confusion_layout_rows_truth_columns_verdict(ax):
    cm = dl.BinaryConfusion(tp=90, fn=10, fp=30, tn=70)
    assert dl.plot_confusion(cm, ax=ax, title="D") is ax
    texts = _texts(ax)
    assert [t.split("\n")[0] for t in texts] == ["TP", "FN", "FP", "TN"]
    assert [int(t.split("\n")[1]) for t in texts] == [90, 10, 30, 70]
    assert texts[0].endswith("90% of row") and texts[2].endswith("30% of row")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["judged real", "judged fake"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["real", "fake"]
    assert ax.get_title() == "D"


def test_binary_confusion_accepts_a_mapping_and_a_table(ax):
    dl.plot_confusion({"tp": 1, "fn": 2, "fp": 3, "tn": 4}, ax=ax)
    first = _texts(ax)
    ax.clear()
    dl.plot_confusion([[1, 2], [3, 4]], ax=ax)
    assert _texts(ax) == first
    with pytest.raises(ValueError):
        dl.plot_confusion({"tp": 1}, ax=ax)
    with pytest.raises(ValueError):
        dl.plot_confusion(np.ones((2, 3), int), ax=ax)


def test_class_confusion_matrix(ax):
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 2, 0])
    cm = dl.confusion_matrix(y_true, y_pred, n_classes=3)
    dl.plot_confusion(cm, ax=ax)
    assert sorted(_texts(ax)) == sorted(["1", "1", "1", "1", "2"])   # zero cells stay blank
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"


def test_roc_and_histogram(ax):
    fpr, tpr, _ = dl.roc_curve([0.9, 0.8, 0.4], [0.5, 0.1])
    dl.plot_roc(fpr, tpr, auc_value=dl.auc(fpr, tpr), ax=ax, mark=(0.5, 1.0))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("AUC 0.833" in s for s in labels) and "current threshold" in labels
    ax.clear()
    dl.plot_class_histogram([5, 0, 3], reference=[1, 1, 1], ax=ax)
    assert [p.get_height() for p in ax.patches] == [5, 0, 3]
    with pytest.raises(ValueError):
        dl.plot_class_histogram([1, 2], reference=[1, 2, 3], ax=ax)


def test_without_an_axis_each_helper_draws_its_own_figure(monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    assert dl.plot_confusion(dl.BinaryConfusion(1, 1, 1, 1)) is None
    assert dl.plot_roc([0, 1], [0, 1]) is None
    assert dl.plot_class_histogram([1, 2]) is None
    assert len(shown) == 3 and len({id(f) for f in shown}) == 3
    plt.close("all")
