"""Drawing digits and training curves (Chapter 1; used by every chapter).

matplotlib is imported inside the functions, so the library (and its CLI)
works on a headless machine without it.
"""
from __future__ import annotations

import numpy as np

__all__ = ["image_grid", "show_images", "SampleRecorder", "show_progress", "plot_history",
           "layer_table", "show_architecture"]


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
