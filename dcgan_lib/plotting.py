"""Pictures: digit grids, curves, layer tables, GIFs, D's confusion matrix and ROC curve."""

import contextlib
import tempfile
from pathlib import Path

import keras
import numpy as np

from .confusion import as_counts

__all__ = ["show_images", "plot_history", "layer_table", "show_architecture"]
__all__ += ["plot_confusion", "plot_roc", "plot_class_histogram"]
_CURVES = (("d_loss", "g_loss"), ("d_accuracy",))
_CELLS = (("TP", "FN"), ("FP", "TN"))


@contextlib.contextmanager  # into the caller's ax, or a new figure's, shown at the end
def _axes(ax, figsize, title=None, fontsize=10, ncols=1):
    import matplotlib.pyplot as plt

    drawn = plt.subplots(1, ncols, figsize=figsize, layout="tight")[1] if ax is None else ax
    yield drawn
    if title:
        drawn.set_title(title, fontsize=fontsize)
    if ax is None:
        plt.show()


def image_grid(images, nrows=4, ncols=4, pad=2) -> np.ndarray:
    """Images (N, 28, 28[, 1]) in [-1, 1] -> a uint8 grid, ``pad`` px apart; too few: ValueError."""
    images, n = np.asarray(images, np.float32), nrows * ncols
    if len(images) < n:
        raise ValueError(f"need {n} images for a {nrows}x{ncols} grid, got {len(images)}")
    pixels = np.clip((images[:n].reshape(n, *images.shape[1:3]) + 1) * 127.5, 0, 255)
    tiles = np.pad(pixels.astype(np.uint8), ((0, 0), (pad, 0), (pad, 0)))  # border above, left
    grid = np.block([[tiles[r * ncols + c] for c in range(ncols)] for r in range(nrows)])
    return np.pad(grid, ((0, pad), (0, pad)))  # and below, right of the last tiles


def show_images(images, nrows=4, ncols=4, title=None, ax=None, scale=0.6):
    """Draw images (N, 28, 28[, 1]) in [-1, 1] as a grid, white on black. Defined in Chapter 1."""
    with _axes(ax, (ncols * scale * 1.1, nrows * scale * 1.1), title, fontsize=9) as drawn:
        drawn.imshow(image_grid(images, nrows, ncols), cmap="gray", vmin=0, vmax=255)
        drawn.set_axis_off()
    return ax  # None when drawn (and shown) as a figure of its own


def plot_history(history, x="iteration", groups=_CURVES, titles=("Losses", "D's accuracy")):
    """Plot a dict of lists against ``x``, a panel per group of keys; keys with "acc" hold
    fractions, drawn in per cent beside guessing's 50%. Defined in Chapter 1."""
    with _axes(None, (5.5 * len(groups), 3.2), ncols=len(groups)) as axes:
        for ax, keys, title in zip(np.ravel(axes), groups, titles):
            accuracy, loss = (all(word in key for key in keys) for word in ("acc", "loss"))
            for key in keys:
                values = np.asarray(history[key], float) * (100 if accuracy else 1)
                ax.plot(history[x], values, marker=".", label=key.replace("_", " "))
            if accuracy:
                ax.axhline(50, color="gray", lw=0.8, ls="--", label="50%: guessing")
            ylabel = "accuracy (%)" if accuracy else "loss" if loss else ""
            ax.set(xlabel=x, ylabel=ylabel, title=title)
            ax.legend(loc="best")


def layer_table(model) -> str:
    """A text table of a model's layers: name, output shape, parameters. Defined in Chapter 1."""
    rows = [("layer", "output shape", "params")]
    for layer in model.layers:
        shape = str(tuple(layer.output.shape)) if hasattr(layer, "output") else "?"
        rows.append((f"{layer.name} ({type(layer).__name__})", shape, f"{layer.count_params():,}"))
    rows.append(("total", "", f"{model.count_params():,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    line = lambda r: f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}"
    return "\n".join([line(rows[0]), "-" * (sum(widths) + 4)] + [line(r) for r in rows[1:]])


def show_architecture(model, path=None, dpi=60) -> str:
    """Draw ``model`` with ``keras.utils.plot_model``, or, without pydot and graphviz, print why
    and its layer_table; never raises. Returns "diagram" or "text". Defined in Chapter 2."""
    try:
        target = str(path or Path(tempfile.mkdtemp()) / f"{model.name}.png")
        keras.utils.plot_model(model, to_file=target, show_shapes=True, dpi=dpi)
        from IPython.display import Image, display

        display(Image(filename=target))  # OSError when plot_model wrote no file
        return "diagram"
    except (ImportError, OSError) as err:
        print(f"(no diagram: {str(err).splitlines()[0][:100]}; install pydot and graphviz for one)")
        print(layer_table(model))
        return "text"


def save_gif(frames, path, *, fps=4.0, scale=2, loop=0, captions=None) -> Path:
    """GIF of frames (uint8 grids or [-1, 1] images), ``scale`` x larger, each ``captions[i]``
    written in a band above it (GANMonitor: "epoch N"); no frames: ValueError."""
    import imageio.v2 as imageio
    from PIL import Image, ImageDraw

    if len(frames) == 0:
        raise ValueError("no frames to write: train with a GANMonitor first")
    grids = [np.asarray(f) for f in frames]
    grids = [g if g.dtype == np.uint8 else image_grid(g[None], 1, 1, pad=0) for g in grids]
    grids = [g.reshape(g.shape[:2]).repeat(scale, 0).repeat(scale, 1) for g in grids]
    if captions is not None:  # a 14-pixel band above each frame, the caption in white
        banded = [Image.fromarray(np.pad(g, ((14, 0), (0, 0)))) for g in grids]
        for image, text in zip(banded, captions):
            ImageDraw.Draw(image).text((3, 1), str(text), fill=255)
        grids = [np.asarray(image) for image in banded]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    imageio.mimsave(path, grids, duration=1000.0 / fps, loop=loop)
    return Path(path)


def plot_confusion(cm, *, title=None, ax=None, normalize=False, cmap="Blues", class_names=None):
    """Draw a confusion matrix, rows the truth, columns the verdict: D's counts (cells: name, count,
    % of row) or a KxK class matrix. Not square or negative: ValueError. Defined in Chapter 4."""
    binary = hasattr(cm, "items") or np.shape(cm) in ((4,), (2, 2))
    table = np.reshape(as_counts(cm), (2, 2)) if binary else np.asarray(cm, dtype=np.int64)
    if table.ndim != 2 or table.shape[0] != table.shape[1] or table.min() < 0:
        raise ValueError(f"a confusion matrix is square with counts >= 0, got shape {table.shape}")
    shares = table / np.maximum(table.sum(axis=1, keepdims=True), 1)  # of each row
    colours = shares if (normalize or not binary) else table / max(table.max(), 1)
    names = [str(c) for c in (range(len(table)) if class_names is None else class_names)]
    ticks = (("judged real", "judged fake"), ("real", "fake")) if binary else (names, names)
    labels = ("D's verdict", "the image is") if binary else ("predicted", "true")
    with _axes(ax, (3.0, 2.7) if binary else (5.2, 4.9), title) as drawn:
        drawn.imshow(colours, cmap=cmap, vmin=0, vmax=1)
        drawn.set(xticks=range(len(table)), yticks=range(len(table)), xticklabels=ticks[0])
        drawn.set(yticklabels=ticks[1], xlabel=labels[0], ylabel=labels[1])
        for (i, j), n in np.ndenumerate(table):  # zeros of a class matrix stay blank
            text = f"{_CELLS[i][j]}\n{n:,}\n{shares[i, j]:.0%} of row" if binary else f"{n or ''}"
            colour = "white" if colours[i, j] > 0.55 else "black"
            size = 9 if binary else 6 if n >= 1000 else 7
            drawn.text(j, i, text, ha="center", va="center", fontsize=size, color=colour)
    return ax


def plot_roc(fpr, tpr, *, auc_value=None, ax=None, label=None, mark=None, title="ROC of D"):
    """Draw a ROC curve (``roc_curve``'s fpr, tpr), ``mark``: one point. Defined in Chapter 4."""
    auc = "" if auc_value is None else f" (AUC {auc_value:.3f})"
    with _axes(ax, (3.6, 3.4), title) as drawn:
        drawn.plot(fpr, tpr, lw=1.6, label=(label or "D") + auc)
        drawn.plot([0, 1], [0, 1], color="gray", lw=0.8, ls="--", label="guessing (AUC 0.5)")
        if mark is not None:
            drawn.plot(*mark, "o", color="crimson", ms=6, label="current threshold")
        drawn.set(xlabel="FPR: fakes judged real (Type I)", ylabel="TPR, recall: reals judged real")
        drawn.legend(fontsize=7, loc="best")
    return ax


def plot_class_histogram(counts, *, title=None, ax=None, reference=None, color="tab:orange"):
    """Bar chart of the images in each class; ``reference`` (K counts, e.g. MNIST's) is drawn
    as ticks rescaled to the same total; another K: ValueError. Defined in Chapter 4."""
    counts, k = np.ravel(counts).astype(np.float64), np.arange(np.size(counts))
    ref = counts if reference is None else np.ravel(reference).astype(np.float64)
    if ref.shape != counts.shape:
        raise ValueError(f"reference has {ref.size} classes, counts {counts.size}")
    with _axes(ax, (4.2, 2.8), title) as drawn:
        drawn.bar(k, counts, color=color, label="images")
        if reference is not None:
            ref = ref * counts.sum() / max(ref.sum(), 1e-12)
            drawn.scatter(k, ref, marker="_", s=300, color="black", label="MNIST's share", zorder=3)
            drawn.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))  # off the bars
        drawn.set(xticks=k, xlabel="predicted digit", ylabel="images")
    return ax
