"""Tests of the drawing helpers (headless: matplotlib's Agg backend)."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import tensorflow as tf  # noqa: E402

import dcgan_lib as dl  # noqa: E402
from dcgan_lib import plotting  # noqa: E402
from dcgan_lib.confusion import BinaryConfusion  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


@pytest.fixture
def shown(monkeypatch):
    """The figures the helpers show (plt.show is replaced)."""
    figures = []
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()))
    yield figures
    plt.close("all")


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_image_grid_tiles_images_with_black_borders():
    images = np.stack([np.full((28, 28, 1), v, np.float32) for v in (-1.0, 0.0, 1.0, 0.5)])
    grid = plotting.image_grid(images, 2, 2)
    assert grid.dtype == np.uint8 and grid.shape == (2 * 30 + 2, 2 * 30 + 2)
    assert grid[2:30, 2:30].max() == 0 and (grid[2:30, 32:60] == 127).all()
    assert (grid[32:60, 2:30] == 255).all() and (grid[32:60, 32:60] == 191).all()
    assert grid[:2].max() == 0 and grid[:, 30:32].max() == 0 and grid[-2:].max() == 0
    assert plotting.image_grid(images[:, :, :, 0], 1, 3, pad=0).shape == (28, 84)
    with pytest.raises(ValueError, match="need 9 images"):
        plotting.image_grid(images, 3, 3)


def test_show_images_draws_one_grid(ax, shown):
    images = np.zeros((16, 28, 28), np.float32)
    assert dl.show_images(images, title="zeros", ax=ax) is ax and ax.get_title() == "zeros"
    assert ax.images[0].get_array().shape == (122, 122)
    assert dl.show_images(images, 2, 2) is None and len(shown) == 1


def test_plot_history_labels_axes_and_shows_accuracy_in_per_cent(shown):
    history = {
        "iteration": [1, 2],
        "d_loss": [0.7, 0.6],
        "g_loss": [0.8, 0.9],
        "d_accuracy": [0.5, 0.75],
    }
    dl.plot_history(history)
    losses, accuracy = shown[0].axes
    assert losses.get_ylabel() == "loss" and losses.get_xlabel() == "iteration"
    assert accuracy.get_ylabel() == "accuracy (%)"
    np.testing.assert_allclose(accuracy.lines[0].get_ydata(), [50, 75])
    assert [t.get_text() for t in accuracy.get_legend().get_texts()] == [
        "d accuracy",
        "50%: guessing",
    ]


def test_layer_table_and_show_architecture(capsys, monkeypatch):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="hidden")], name="m")
    table = dl.layer_table(model)
    assert "hidden (Dense)" in table and "(None, 3)" in table and table.endswith("15")
    monkeypatch.setattr(keras.utils, "plot_model", lambda *a, **k: None)  # wrote no file
    assert dl.show_architecture(model) == "text"
    out = capsys.readouterr().out
    assert "no diagram" in out and "hidden (Dense)" in out


def test_save_gif_with_and_without_captions(tmp_path):
    pytest.importorskip("imageio")
    frames = [
        np.zeros((10, 12), np.uint8),
        np.full((10, 12, 1), 255, np.uint8),
        np.zeros((10, 12), np.float32),
    ]  # a float frame in [-1, 1]
    path = plotting.save_gif(frames, tmp_path / "sub" / "a.gif", scale=3)
    assert path.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    import imageio.v2 as imageio

    read = imageio.mimread(path)
    assert len(read) == 3 and read[0].shape[:2] == (30, 36) and abs(int(read[2].max()) - 127) <= 1
    with pytest.raises(ValueError, match="no frames"):
        plotting.save_gif([], tmp_path / "empty.gif")
    captioned = plotting.save_gif(frames, tmp_path / "c.gif", scale=3, captions="abc")
    first = imageio.mimread(captioned)[0]
    assert first.shape[:2] == (44, 36) and first[:14].max() > 200  # a band with light text
    assert first[14:].max() == 0  # the black frame below it, untouched


def test_binary_confusion_layout_rows_truth_columns_verdict(ax):
    cm = BinaryConfusion(tp=90, fn=10, fp=30, tn=70)
    assert dl.plot_confusion(cm, ax=ax, title="D") is ax
    texts = _texts(ax)
    assert [t.split("\n")[0] for t in texts] == ["TP", "FN", "FP", "TN"]
    assert [int(t.split("\n")[1]) for t in texts] == [90, 10, 30, 70]
    assert texts[0].endswith("90% of row") and texts[2].endswith("30% of row")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["judged real", "judged fake"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["real", "fake"]
    assert ax.get_xlabel() == "D's verdict" and ax.get_ylabel() == "the image is"
    assert ax.get_title() == "D"


def test_binary_confusion_accepts_a_mapping_a_tuple_and_a_table(ax):
    dl.plot_confusion({"tp": 1, "fn": 2, "fp": 3, "tn": 4}, ax=ax)
    first = _texts(ax)
    for other in ([[1, 2], [3, 4]], (1, 2, 3, 4)):
        ax.clear()
        dl.plot_confusion(other, ax=ax)
        assert _texts(ax) == first
    with pytest.raises(ValueError):
        dl.plot_confusion({"tp": 1}, ax=ax)
    with pytest.raises(ValueError):
        dl.plot_confusion(np.ones((2, 3), int), ax=ax)
    with pytest.raises(ValueError):
        dl.plot_confusion([[1, -2], [3, 4]], ax=ax)


def test_class_confusion_matrix(ax):
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 2, 0])
    cm = tf.math.confusion_matrix(y_true, y_pred, num_classes=3)
    dl.plot_confusion(cm, ax=ax)
    assert sorted(_texts(ax)) == [""] * 4 + ["1", "1", "1", "1", "2"]  # zero cells stay blank
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    ax.clear()
    dl.plot_confusion(cm.numpy(), ax=ax, class_names="abc")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]


def test_roc_and_histogram(ax):
    fpr, tpr, _ = dl.roc_curve([0.9, 0.8, 0.4], [0.5, 0.1])
    dl.plot_roc(fpr, tpr, auc_value=np.trapezoid(tpr, fpr), ax=ax, mark=(0.5, 1.0))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("AUC 0.833" in s for s in labels) and "current threshold" in labels
    assert ax.get_xlabel().startswith("FPR") and ax.get_ylabel().startswith("TPR")
    ax.clear()
    dl.plot_class_histogram([5, 0, 3], reference=[1, 1, 1], ax=ax)
    assert [p.get_height() for p in ax.patches] == [5, 0, 3]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    with pytest.raises(ValueError):
        dl.plot_class_histogram([1, 2], reference=[1, 2, 3], ax=ax)


def test_without_an_axis_each_helper_draws_its_own_figure(shown):
    assert dl.plot_confusion(BinaryConfusion(1, 1, 1, 1)) is None
    assert dl.plot_roc([0, 1], [0, 1]) is None
    assert dl.plot_class_histogram([1, 2]) is None
    assert len(shown) == 3 and len({id(f) for f in shown}) == 3
