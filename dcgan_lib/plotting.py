"""Drawing digits and training curves (Chapter 1; used by every chapter).

Chapter 4 adds the discriminator's pictures: :func:`plot_confusion` (a 2x2
real/fake or a KxK class confusion matrix), :func:`plot_roc` and
:func:`plot_class_histogram`.

matplotlib is imported inside the functions, so the library (and its CLI)
works on a headless machine without it.
"""
from __future__ import annotations

import numpy as np

__all__ = ["image_grid", "show_images", "SampleRecorder", "show_progress", "plot_history",
           "layer_table", "show_architecture", "plot_confusion", "plot_roc", "plot_class_histogram"]


def image_grid(images, nrows: int = 4, ncols: int = 4, pad: int = 2) -> np.ndarray:
    """Tile images (N, 28, 28[, 1]) in [-1, 1] into one uint8 grid (rows*30, cols*30).

    Useful for animations and files; :func:`show_images` draws it.
    """
    images = np.asarray(images, np.float32)
    if images.ndim == 4:
        images = images[..., 0]
    n = nrows * ncols
    if len(images) < n:
        raise ValueError(f"need {n} images for a {nrows}x{ncols} grid, got {len(images)}")
    pixels = np.clip((images[:n] + 1.0) * 127.5, 0, 255).astype(np.uint8)
    h, w = pixels.shape[1:]
    grid = np.zeros((nrows * (h + pad) + pad, ncols * (w + pad) + pad), np.uint8)
    for k, img in enumerate(pixels):
        r, c = divmod(k, ncols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    return grid


def show_images(images, nrows: int = 4, ncols: int = 4, title: str | None = None, ax=None,
                scale: float = 0.6):
    """Draw images (N, 28, 28[, 1]) in [-1, 1] as an nrows x ncols grid, white on black."""
    import matplotlib.pyplot as plt

    own = ax is None
    if own:
        _, ax = plt.subplots(figsize=(ncols * scale * 1.1, nrows * scale * 1.1))
    ax.imshow(image_grid(images, nrows, ncols), cmap="gray", vmin=0, vmax=255)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    if own:
        plt.show()
        return None
    return ax


class SampleRecorder:
    """Keeps G's images for one fixed batch of noise at each report (Chapter 1).

    Pass it as ``on_report`` to a training loop: ``recorder(step, generator)``
    stores ``generator(fixed_z)`` as a (N, 28, 28, 1) array in [-1, 1] under
    ``step``. Keeping the noise fixed shows how the *same* z's image evolves.
    """

    def __init__(self, fixed_z):
        self.fixed_z = np.asarray(fixed_z, np.float32)
        self.steps, self.samples = [], []

    def __call__(self, step, generator):
        self.steps.append(int(step))
        self.samples.append(np.asarray(generator(self.fixed_z, training=False)))


def show_progress(recorder: SampleRecorder, max_panels: int = 5, nrows: int = 4, ncols: int = 4,
                  label: str = "iteration"):
    """Draw up to ``max_panels`` of a recorder's grids, evenly spread over training."""
    import matplotlib.pyplot as plt

    if not recorder.steps:
        raise ValueError("the recorder is empty: pass it as on_report to a training loop first")
    picks = np.unique(np.linspace(0, len(recorder.steps) - 1, max_panels).round().astype(int))
    fig, axes = plt.subplots(1, len(picks), figsize=(2.2 * len(picks), 2.4), squeeze=False)
    for ax, k in zip(axes[0], picks):
        show_images(recorder.samples[k], nrows, ncols, title=f"{label} {recorder.steps[k]:,}", ax=ax)
    fig.tight_layout()
    plt.show()


def plot_history(history: dict, x: str = "iteration", groups=(("d_loss", "g_loss"), ("d_accuracy",)),
                 titles=("Losses", "Discriminator accuracy")):
    """Plot training curves from a history dict of lists, one panel per group of keys."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 3.2), squeeze=False)
    for ax, keys, title in zip(axes[0], groups, titles):
        for key in keys:
            values = np.asarray(history[key], float)
            if key.endswith("accuracy"):
                values = 100 * values
            ax.plot(history[x], values, marker=".", label=key.replace("_", " "))
        ax.set_xlabel(x)
        ax.set_title(title)
        if any(k.endswith("accuracy") for k in keys):
            ax.set_ylabel("%")
            ax.axhline(50, color="gray", lw=0.8, ls="--")
        ax.legend()
    fig.tight_layout()
    plt.show()


def layer_table(model) -> str:
    """A plain-text table of a model's layers: name, output shape, parameters (Chapter 2)."""
    rows = [("layer", "output shape", "params")]
    for layer in model.layers:
        shape = getattr(layer, "output", None)
        shape = tuple(shape.shape) if shape is not None else "?"
        rows.append((f"{layer.name} ({type(layer).__name__})", str(shape), f"{layer.count_params():,}"))
    rows.append(("total", "", f"{model.count_params():,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    line = lambda r: f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}"  # noqa: E731
    return "\n".join([line(rows[0]), "-" * (sum(widths) + 4)] + [line(r) for r in rows[1:]])


def show_architecture(model, path=None, dpi: int = 60):
    """Draw ``model`` with ``keras.utils.plot_model`` when pydot and graphviz are
    installed; otherwise print :func:`layer_table` and say why (Chapter 2).

    Never raises for a missing graphviz: the text table shows the same layers
    and shapes. Returns "diagram" or "text", whichever was shown.
    """
    import os
    import tempfile

    import keras

    try:
        target = path or os.path.join(tempfile.mkdtemp(), f"{model.name}.png")
        keras.utils.plot_model(model, to_file=target, show_shapes=True, dpi=dpi)
        if not os.path.isfile(target):
            raise ImportError("plot_model wrote no file")
    except (ImportError, OSError) as err:
        print(f"(no diagram: {str(err).splitlines()[0][:100]}; install pydot and graphviz for one)")
        print(layer_table(model))
        return "text"
    from IPython.display import Image, display

    display(Image(filename=target))
    return "diagram"


# --- Chapter 4: what the discriminator sees ------------------------------------------

_BINARY_CELLS = (("TP", "FN"), ("FP", "TN"))


def _binary_table(cm) -> np.ndarray:
    """[[TP, FN], [FP, TN]] from a BinaryConfusion, a mapping or a 2x2 array."""
    if hasattr(cm, "_asdict"):                       # BinaryConfusion (a NamedTuple)
        cm = cm._asdict()
    if isinstance(cm, dict):
        low = {str(k).lower(): v for k, v in cm.items()}
        try:
            return np.array([[low["tp"], low["fn"]], [low["fp"], low["tn"]]], dtype=np.int64)
        except KeyError:
            raise ValueError(f"a binary confusion needs tp, fn, fp, tn; got {sorted(low)}") from None
    table = np.asarray(cm)
    if table.shape != (2, 2):
        raise ValueError(f"a binary confusion must be 2x2 [[TP, FN], [FP, TN]], got shape {table.shape}")
    return table


def plot_confusion(cm, *, title: str | None = None, ax=None, normalize: bool = False,
                   cmap: str = "Blues", class_names=None):
    """Draw a confusion matrix; rows are the truth, columns the verdict (Defined in Chapter 4).

    ``cm`` is either

    - a discriminator's confusion (:class:`dcgan_lib.BinaryConfusion`, a
      mapping with keys tp, fn, fp, tn, or a 2x2 array ``[[TP, FN], [FP, TN]]``):
      rows "real" and "fake" (what the image is), columns "judged real" and
      "judged fake" (D's verdict); each cell shows its name, count and share
      of its row;
    - or a KxK class confusion matrix (:func:`dcgan_lib.confusion_matrix`):
      entry [i, j] counts images of class i predicted as j.

    ``normalize=True`` colours by the share of each row (always done for
    KxK, whose rows differ in size). Draws into ``ax`` and returns it; without
    ``ax`` it makes its own figure, shows it and returns None.
    """
    import matplotlib.pyplot as plt

    binary = hasattr(cm, "_asdict") or isinstance(cm, dict) or np.shape(cm) == (2, 2)
    table = _binary_table(cm) if binary else np.asarray(cm, dtype=np.int64)
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        raise ValueError(f"a confusion matrix must be square, got shape {table.shape}")
    if table.min() < 0:
        raise ValueError("confusion counts must be non-negative")
    rows = table.sum(axis=1, keepdims=True)
    shares = np.divide(table, rows, out=np.zeros(table.shape), where=rows > 0)
    own = ax is None
    if own:
        size = 3.0 if binary else 5.2
        _, ax = plt.subplots(figsize=(size, size * (0.9 if binary else 0.95)))
    colours = shares if (normalize or not binary) else table / max(table.max(), 1)
    ax.imshow(colours, cmap=cmap, vmin=0, vmax=1)
    k = table.shape[0]
    if binary:
        ax.set_xticks([0, 1], ["judged real", "judged fake"])
        ax.set_yticks([0, 1], ["real", "fake"])
        ax.set_xlabel("D's verdict")
        ax.set_ylabel("the image is")
        for i in range(2):
            for j in range(2):
                dark = colours[i, j] > 0.55
                ax.text(j, i, f"{_BINARY_CELLS[i][j]}\n{table[i, j]:,}\n{100 * shares[i, j]:.0f}% of row",
                        ha="center", va="center", fontsize=9, color="white" if dark else "black")
    else:
        names = [str(c) for c in (class_names if class_names is not None else range(k))]
        ax.set_xticks(range(k), names)
        ax.set_yticks(range(k), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        for i in range(k):
            for j in range(k):
                if table[i, j]:
                    ax.text(j, i, f"{table[i, j]}", ha="center", va="center",
                            fontsize=6 if table[i, j] >= 1000 else 7,
                            color="white" if shares[i, j] > 0.55 else "black")
    return _finish(ax, own, title)


def plot_roc(fpr, tpr, *, auc_value: float | None = None, ax=None, label: str | None = None,
             mark=None, title: str | None = "ROC of the discriminator (real = positive)"):
    """Draw a ROC curve: TPR (reals judged real) against FPR (fakes judged real) (Defined in Chapter 4).

    ``fpr``, ``tpr``: from :func:`dcgan_lib.roc_curve`. ``auc_value`` goes into
    the legend; ``mark=(fpr, tpr)`` marks one operating point (a threshold).
    The diagonal is a D that guesses. Draws into ``ax`` and returns it; without
    ``ax`` it makes its own figure, shows it and returns None.
    """
    import matplotlib.pyplot as plt

    own = ax is None
    if own:
        _, ax = plt.subplots(figsize=(3.6, 3.4))
    text = label or "D"
    if auc_value is not None:
        text += f" (AUC {auc_value:.3f})"
    ax.plot(fpr, tpr, lw=1.6, label=text)
    ax.plot([0, 1], [0, 1], color="gray", lw=0.8, ls="--", label="guessing (AUC 0.5)")
    if mark is not None:
        ax.plot([mark[0]], [mark[1]], "o", color="crimson", ms=6, label="current threshold")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("FPR: fakes judged real (Type I)")
    ax.set_ylabel("TPR: reals judged real (recall)")
    ax.legend(fontsize=7, loc="lower right")
    return _finish(ax, own, title)


def plot_class_histogram(counts, *, title: str | None = None, ax=None, reference=None,
                         color: str = "tab:orange"):
    """Bar chart of how many images fall in each class (Defined in Chapter 4).

    ``counts``: K numbers, e.g. :func:`dcgan_lib.class_histogram` of the
    classifier's probabilities on generated digits. ``reference``: K numbers
    (e.g. the test set's label counts), drawn as black ticks rescaled to the same
    total: where the bars should be for a generator that draws digits as often
    as MNIST has them. Draws into ``ax`` and returns it; without ``ax`` it
    makes its own figure, shows it and returns None.
    """
    import matplotlib.pyplot as plt

    counts = np.asarray(counts, dtype=np.float64).reshape(-1)
    own = ax is None
    if own:
        _, ax = plt.subplots(figsize=(4.2, 2.8))
    k = np.arange(len(counts))
    ax.bar(k, counts, color=color, label="images")
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64).reshape(-1)
        if ref.shape != counts.shape:
            raise ValueError(f"reference has {ref.size} classes, counts {counts.size}")
        ref = ref * counts.sum() / max(ref.sum(), 1e-12)
        ax.scatter(k, ref, marker="_", s=300, color="black", label="MNIST's share", zorder=3)
        ax.legend(fontsize=7)
    ax.set_xticks(k)
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("count")
    return _finish(ax, own, title)


def _finish(ax, own: bool, title):
    """Title ``ax``; if the figure is our own, show it and return None, else return ``ax``."""
    import matplotlib.pyplot as plt

    if title:
        ax.set_title(title, fontsize=10)
    if own:
        plt.tight_layout()
        plt.show()
        return None
    return ax
