"""Training you can watch: a progress bar, time spent and left, G's images for fixed noise."""

from __future__ import annotations

import base64
import io
import sys
import time

import keras
import numpy as np

from .plotting import image_grid, show_images

__all__ = ["Progress"]


_clock = lambda seconds: f"{int(seconds) // 60}:{int(seconds) % 60:02d}"  # m:ss


class Progress(keras.callbacks.Callback):
    """Show how far training has come: a bar, the time spent, an estimate of the time left
    and, given ``fixed_z`` (noise (n, latent_dim), n a square), G's images for that same noise,
    kept in ``samples`` ((n, 28, 28, 1) in [-1, 1]) with their ``steps``. Defined in Chapter 1.

    The budget: ``steps`` (G's optimizer steps; for ``fit`` by default its epochs x steps) and/or
    ``seconds``; the bar follows whichever ends first. Use it as ``on_report`` of
    ``train_with_train_on_batch`` (``progress(step, G)`` at each report) or as a ``fit`` callback
    (before ``EpochHistory``; every ``every`` seconds). In a notebook it redraws one figure in
    place (one display handle: the saved notebook keeps the last picture); elsewhere (``out``:
    "auto", "notebook" or a text stream) a text bar, rewritten on its line in a terminal, a new
    line every 10 % in a file or pipe. ``line``: the last text shown; :meth:`show`: snapshots.
    """

    def __init__(self, *, steps=None, seconds=None, fixed_z=None, every=5.0, title="", out="auto"):
        super().__init__()
        self.total, self.seconds, self.every, self.title = steps, seconds, float(every), title
        self.fixed_z = None if fixed_z is None else np.asarray(fixed_z, np.float32)
        auto = "notebook" if "ipykernel" in sys.modules else sys.stdout
        self.out, self.handle, self.line, self.shown = auto if out == "auto" else out, None, "", -1
        self.steps, self.samples, self.tty = [], [], self.out != "notebook" and self.out.isatty()
        self.spent, self._start, self._first, self._tenths = 0.0, time.perf_counter(), (0, 0.0), -1

    def _step(self) -> int:  # G's optimizer steps (a GAN), or the model's
        return int(getattr(self.model, "g_optimizer", self.model.optimizer).iterations)

    def on_train_begin(self, logs=None):
        self._start, self._first = time.perf_counter(), (self._step(), self.spent)
        if self.total is None and self.seconds is None:
            self.total = self.params["epochs"] * self.params["steps"]

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.shown >= self.every:
            self(self._step(), getattr(self.model, "generator", None))

    def on_epoch_end(self, epoch, logs=None):  # a terminal's line is cleared for epoch lines
        if self.tty and self.line:
            self.out.write("\r" + " " * len(self.line) + "\r")

    def on_train_end(self, logs=None):
        self(self._step(), getattr(self.model, "generator", None), final=True)
        self.spent, self._start = self.elapsed(), None
        print(file=self.out) if self.tty else None

    def elapsed(self) -> float:
        """Seconds of training so far (all ``fit`` calls, or since this object was made)."""
        return self.spent + (0.0 if self._start is None else time.perf_counter() - self._start)

    def __call__(self, step, generator=None, final=False):
        """Show ``step`` (and keep ``generator(fixed_z)``): the training loop's ``on_report``."""
        seconds, self.shown, images = self.elapsed(), time.perf_counter(), None
        if self.fixed_z is not None and generator is not None:
            images = np.asarray(generator(self.fixed_z, training=False))[..., :1]
            self.steps.append(int(step))
            self.samples.append(images)
        final, done, left = final or bool(self.total and step >= self.total), [], []
        if self.total:
            done.append(min(step / self.total, 1.0))
            rate = (step - self._first[0]) / max(seconds - self._first[1], 1e-9)
            left += [(self.total - step) / rate] if rate > 0 else []
        if self.seconds:
            done.append(min(seconds / self.seconds, 1.0))
            left.append(max(self.seconds - seconds, 0.0))
        share, total = max(done, default=0.0), f"/{self.total:,}" if self.total else ""
        ends = f"about {_clock(min(left))} left" if left else "time left: ?"
        ends = "done" if share >= 1 else "stopped" if final else ends
        self.status = f"{share:4.0%} step {step:,}{total}, {_clock(seconds)} spent, {ends}"
        self.line = f"{self.title}[{'#' * int(24 * share):-<24}] {self.status}"
        if self.out == "notebook":
            self._draw(share, images)
        elif self.tty:
            print("\r" + self.line, end="", file=self.out, flush=True)
        elif int(10 * share) > self._tenths or (final and share < 1):
            self._tenths = int(10 * share)
            print(self.line, file=self.out, flush=True)

    def show(self, max_panels=5, nrows=4, ncols=4, label="iteration"):
        """Draw up to ``max_panels`` of the kept grids, evenly spread over training."""
        import matplotlib.pyplot as plt

        if not self.steps:
            raise ValueError("nothing kept yet: give fixed_z, and pass it as on_report or to fit")
        picks = np.unique(np.linspace(0, len(self.steps) - 1, max_panels).round().astype(int))
        fig, axes = plt.subplots(1, len(picks), figsize=(2.2 * len(picks), 2.4), squeeze=False)
        for ax, k in zip(axes[0], picks):
            show_images(self.samples[k], nrows, ncols, title=f"{label} {self.steps[k]:,}", ax=ax)
        fig.tight_layout()
        plt.show()

    def _draw(self, share, images):
        from IPython.display import display
        from matplotlib.figure import Figure

        pictured = images is not None
        fig = Figure(figsize=(3.4, 4.0 if pictured else 0.9), layout="constrained")
        axes = fig.subplots(2 if pictured else 1, 1, height_ratios=[12, 1] if pictured else None)
        bar_ax = np.atleast_1d(axes)[-1]
        bar_ax.barh(0, share, color="tab:blue")
        bar_ax.set(xlim=(0, 1), yticks=[], xticks=[0, 0.5, 1], xticklabels=["0", "50%", "100%"])
        if pictured:
            n = int(np.sqrt(len(images)))
            axes[0].imshow(image_grid(images, n, n), cmap="gray", vmin=0, vmax=255)
            axes[0].set_axis_off()
            axes[0].set_title("G's images for fixed noise", fontsize=8)
        fig.suptitle(f"{self.title}{self.status}".replace(", ", "\n", 1), fontsize=8)
        fig.savefig(png := io.BytesIO(), format="png", dpi=90)
        bundle = {"image/png": base64.b64encode(png.getvalue()).decode(), "text/plain": self.line}
        if self.handle is None:
            self.handle = display(bundle, raw=True, display_id=True)
        else:
            self.handle.update(bundle, raw=True)
