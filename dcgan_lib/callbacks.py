"""Keras callbacks for GAN training with ``fit`` (defined in Chapter 3).

- :class:`GANMonitor` keeps the generator's images for one fixed batch of
  noise at the end of each epoch (and draws them in a notebook if asked), so
  drawing stays out of ``train_step``;
- :class:`EpochHistory` records one row per epoch: losses, accuracies,
  training seconds and images seen (and can write them to a JSON file);
- :class:`TimeBudget` stops training after a given training time, checked
  after every step;
- :class:`StopOnSignal` turns Ctrl+C (SIGINT) and SIGTERM into a clean stop
  after the current step, so that what follows ``fit`` can save.

:func:`save_gif` turns recorded frames into an animated GIF and
:func:`show_gif` displays one inline in a notebook.
"""
from __future__ import annotations

import json
import math
import os
import signal
import time
from pathlib import Path

import numpy as np

from ._startup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from .plotting import image_grid  # noqa: E402

__all__ = ["GANMonitor", "EpochHistory", "TimeBudget", "StopOnSignal", "save_gif", "show_gif",
           "write_json"]


class GANMonitor(keras.callbacks.Callback):
    """Record G's images for fixed noise after every ``every`` epochs (Defined in Chapter 3).

    The noise (``n`` = nrows * ncols vectors, drawn once from ``seed`` with the
    model's noise distribution) never changes, so successive frames show the
    *same* z's digit improving. After each recorded epoch it appends to
    ``epochs``, ``samples`` (float32 (n, 28, 28, 1) in [-1, 1]) and ``frames``
    (uint8 grids, see :func:`dcgan_lib.plotting.image_grid`). ``show=True``
    also draws the grid (matplotlib, for notebooks); ``save_dir`` writes one
    PNG per recorded epoch. Both are off by default, so it runs headless.
    Works with a :class:`dcgan_lib.gan_model.GAN` (``model.generator``).
    """

    def __init__(self, nrows: int = 4, ncols: int = 4, *, seed: int = 0, every: int = 1,
                 show: bool = False, save_dir=None):
        super().__init__()
        self.nrows, self.ncols, self.seed, self.every = nrows, ncols, seed, max(1, int(every))
        self.show, self.save_dir = show, None if save_dir is None else Path(save_dir)
        self.fixed_z = None
        self.epochs, self.samples, self.frames = [], [], []

    def _noise(self, latent_dim, kind):
        rng = np.random.default_rng(self.seed)
        shape = (self.nrows * self.ncols, latent_dim)
        if kind == "uniform":
            return rng.uniform(-1.0, 1.0, shape).astype(np.float32)
        return rng.standard_normal(shape, dtype=np.float32)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        generator = self.model.generator
        if self.fixed_z is None:
            self.fixed_z = self._noise(generator.input_shape[-1], getattr(self.model, "noise", "normal"))
        images = np.asarray(generator(self.fixed_z, training=False), np.float32)
        grid = image_grid(images, self.nrows, self.ncols)
        self.epochs.append(epoch + 1)
        self.samples.append(images)
        self.frames.append(grid)
        if self.save_dir is not None:
            import imageio.v2 as imageio

            self.save_dir.mkdir(parents=True, exist_ok=True)
            imageio.imwrite(self.save_dir / f"epoch_{epoch + 1:04d}.png", grid)
        if self.show:
            from .plotting import show_images

            show_images(images, self.nrows, self.ncols, title=f"epoch {epoch + 1}")

    def save_gif(self, path, **kwargs):
        """Write the recorded frames as an animated GIF (see :func:`save_gif`)."""
        return save_gif(self.frames, path, **kwargs)


def save_gif(frames, path, *, fps: float = 4.0, scale: int = 2, loop: int = 0) -> Path:
    """Write ``frames`` (uint8 2-D grids, or float images in [-1, 1]) as an animated GIF.

    Each frame is enlarged ``scale`` times (pixel repetition) so small digits
    stay sharp; ``loop=0`` repeats forever. Returns the path. (Defined in
    Chapter 3.)
    """
    import imageio.v2 as imageio

    if len(frames) == 0:
        raise ValueError("no frames to write: train with a GANMonitor first")
    out = []
    for frame in frames:
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:       # images in [-1, 1] -> pixels
            frame = np.clip((frame.astype(np.float32) + 1.0) * 127.5, 0, 255).astype(np.uint8)
        if frame.ndim == 3 and frame.shape[-1] == 1:
            frame = frame[..., 0]
        if scale > 1:
            frame = frame.repeat(scale, axis=0).repeat(scale, axis=1)
        out.append(frame)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimsave(path, out, duration=1000.0 / fps, loop=loop)
    return path


def show_gif(path):
    """Display a GIF inline in a notebook (returns the IPython ``Image`` object)."""
    from IPython.display import Image, display

    image = Image(data=Path(path).read_bytes(), format="gif")
    display(image)
    return image


def write_json(path, data) -> None:
    """Write ``data`` as JSON atomically (a temporary file, then a rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
        os.replace(tmp, path)
    except BaseException:                    # a full disk, say: no half-written file left
        tmp.unlink(missing_ok=True)
        raise


class EpochHistory(keras.callbacks.Callback):
    """One row per epoch of ``fit``: logs, time and images (Defined in Chapter 3).

    Each row of ``rows`` holds ``epoch`` (1-based, counting ``initial_epoch``),
    the model's logs (``d_loss``, ``g_loss``, ``d_acc_real``, ``d_acc_fake``),
    ``steps`` (optimizer steps so far), ``images`` (this epoch) and
    ``images_seen`` (so far), ``seconds`` (this epoch's training time) and
    ``train_seconds`` (so far), and ``complete`` (False for an epoch cut short
    by :class:`TimeBudget` or :class:`StopOnSignal`). Pass earlier ``rows`` to
    carry on a resumed run (running totals continue from the last row); when
    an epoch that was cut short is completed, its rows become one. A loss that
    is not a finite number is recorded as None (JSON null). With ``path`` the
    rows are rewritten as JSON after each epoch; with ``verbose`` one line per
    epoch is printed, out of ``epochs`` (default: ``fit``'s).
    """

    def __init__(self, batch_size: int, *, rows=None, path=None, verbose: bool = False,
                 epochs=None):
        super().__init__()
        self.batch_size, self.path, self.verbose = int(batch_size), path, verbose
        self.epochs = epochs
        self.rows = list(rows or [])

    def _steps(self):
        return int(self.model.g_optimizer.iterations)

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._start_steps = time.perf_counter(), self._steps()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        steps = self._steps()
        images = (steps - self._start_steps) * self.batch_size
        last = self.rows[-1] if self.rows else {"images_seen": 0, "train_seconds": 0.0}
        planned = self.params.get("steps")
        logs = dict(logs or {})
        names = [m.name for m in getattr(self.model, "metrics", []) if m.name in logs]
        logs = {k: float(logs[k]) if math.isfinite(float(logs[k])) else None
                for k in names + sorted(set(logs) - set(names))}
        row = {"epoch": epoch + 1, **logs,
               "steps": steps, "images": images, "images_seen": last["images_seen"] + images,
               "seconds": round(seconds, 3), "train_seconds": round(last["train_seconds"] + seconds, 3),
               "complete": planned is None or steps - self._start_steps >= planned}
        while row["complete"] and self.rows and self.rows[-1]["epoch"] == row["epoch"] \
                and not self.rows[-1]["complete"]:         # the parts of an epoch cut short
            part = self.rows.pop()
            row["images"] += part["images"]
            row["seconds"] = round(row["seconds"] + part["seconds"], 3)
        self.rows.append(row)
        if self.path is not None:
            write_json(self.path, self.rows)
        if self.verbose:
            total = self.epochs or self.params.get("epochs")
            total = total if total and total < 10**9 else None      # "until the time is up"
            print(f"epoch {epoch + 1}{'/' + str(total) if total else ''}"
                  f"{'' if row['complete'] else ' (cut short)'}: "
                  + "  ".join(f"{k} {row[k]:.3f}" if row[k] is not None else f"{k} nan"
                              for k in logs)
                  + f"  {images} images in {seconds:.1f} s ({images / max(seconds, 1e-9):.0f}/s)",
                  flush=True)


class TimeBudget(keras.callbacks.Callback):
    """Stop ``fit`` after ``seconds`` of training time (Defined in Chapter 3).

    The clock runs from the start of each epoch to the end of each step, so
    work done between epochs (checkpoints, drawing) is not counted, and it is
    checked after every step: a long epoch stops mid-way. ``stopped`` tells
    whether it stopped training.
    """

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.used, self.stopped = float(seconds), 0.0, False

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._before = time.perf_counter(), self.used

    def on_train_batch_end(self, batch, logs=None):
        self.used = self._before + time.perf_counter() - self._start
        if self.used >= self.seconds:
            self.stopped = True
            self.model.stop_training = True


class StopOnSignal(keras.callbacks.Callback):
    """Stop ``fit`` after the current step on Ctrl+C (SIGINT) or SIGTERM (``train`` uses it).

    Use it as a context manager around ``fit``: inside, those signals no longer
    raise ``KeyboardInterrupt`` or end the process, they ask ``fit`` to stop as
    :class:`TimeBudget` does, so that epoch-end callbacks (and a checkpoint)
    still run. A second signal interrupts at once (``KeyboardInterrupt``).
    ``received`` is the first signal's name, or None.
    """

    def __init__(self, signals=(signal.SIGINT, signal.SIGTERM)):
        super().__init__()
        self.signals, self.received = signals, None

    def __enter__(self):
        self._previous = {s: signal.signal(s, self._handle) for s in self.signals}
        return self

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def _handle(self, signum, frame):
        if self.received:
            raise KeyboardInterrupt
        self.received = signal.Signals(signum).name

    def on_train_batch_end(self, batch, logs=None):
        if self.received:
            self.model.stop_training = True
