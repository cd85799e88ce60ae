"""Keras callbacks for training a GAN with ``fit``: what it draws, records and when it stops."""

from __future__ import annotations

import math
import os
import signal
import threading
import time

import keras
import numpy as np

from . import plotting
from .models import draw_noise
from .runs import write_json

__all__ = ["GANMonitor", "EpochHistory", "TimeBudget"]


class GANMonitor(keras.callbacks.Callback):
    """Record G's images for one fixed noise batch every ``every`` epochs. Defined in Chapter 3.

    Appends to ``epochs``, ``samples`` (float32 (nrows * ncols, 28, 28, 1) in [-1, 1]) and
    ``frames`` (uint8 grids); ``save_gif`` makes them a GIF. (To watch them live: ``Progress``.)
    """

    def __init__(self, nrows=4, ncols=4, *, seed=0, every=1):
        super().__init__()
        self.nrows, self.ncols, self.seed, self.every = nrows, ncols, seed, max(1, int(every))
        self.fixed_z, self.epochs, self.samples, self.frames = None, [], [], []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        generator = self.model.generator
        if self.fixed_z is None:  # drawn once, from the GAN's noise distribution
            shape = (self.nrows * self.ncols, generator.input_shape[-1])
            kind, rng = getattr(self.model, "noise", "normal"), np.random.default_rng(self.seed)
            self.fixed_z = draw_noise(shape, kind, rng)
        images = np.asarray(generator(self.fixed_z, training=False), np.float32)
        self.epochs.append(epoch + 1)
        self.samples.append(images)
        self.frames.append(plotting.image_grid(images, self.nrows, self.ncols))

    def save_gif(self, path, **kwargs):
        """Write the recorded frames, captioned "epoch N", as an animated GIF (``save_gif``'s
        options)."""
        captions = [f"epoch {epoch}" for epoch in self.epochs]
        return plotting.save_gif(self.frames, path, captions=captions, **kwargs)


class EpochHistory(keras.callbacks.Callback):
    """One row per epoch of ``fit`` in ``rows``. Defined in Chapter 3.

    A row: ``epoch``, the logs (not finite: None), ``steps`` and ``images_seen`` so far,
    ``images`` and ``seconds`` of this epoch, ``train_seconds`` so far, ``complete``. Earlier
    ``rows`` carry on a resumed run (an epoch cut short and finished becomes one row).
    ``path``: JSON file rewritten each epoch; ``verbose``: print a line per epoch (of ``epochs``;
    accuracies in per cent).
    """

    def __init__(self, batch_size, *, rows=None, path=None, verbose=False, epochs=None):
        super().__init__()
        self.batch_size, self.path, self.verbose = int(batch_size), path, verbose
        self.epochs, self.rows = epochs, list(rows or [])

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._first = time.perf_counter(), int(self.model.g_optimizer.iterations)

    def on_epoch_end(self, epoch, logs=None):
        seconds, steps = time.perf_counter() - self._start, int(self.model.g_optimizer.iterations)
        images = (steps - self._first) * self.batch_size
        last = self.rows[-1] if self.rows else {"images_seen": 0, "train_seconds": 0.0}
        logs = dict(logs or {})
        names = [m.name for m in getattr(self.model, "metrics", []) if m.name in logs]
        names += sorted(set(logs) - set(names))
        logs = {k: float(logs[k]) if math.isfinite(float(logs[k])) else None for k in names}
        row = {"epoch": epoch + 1, **logs, "steps": steps, "images": images}
        row.update(images_seen=last["images_seen"] + images, seconds=round(seconds, 3))
        row.update(train_seconds=round(last["train_seconds"] + seconds, 3))
        row["complete"] = steps - self._first >= (self.params.get("steps") or 0)
        while row["complete"] and self.rows and self.rows[-1]["epoch"] == row["epoch"]:
            part = self.rows.pop()  # a part of this epoch, cut short
            row["images"] += part["images"]
            row["seconds"] = round(row["seconds"] + part["seconds"], 3)
        self.rows.append(row)
        if self.path is not None:
            write_json(self.path, self.rows)
        if self.verbose:
            total = self.epochs or self.params.get("epochs")
            total = f"/{total}" if total and total < 10**9 else ""  # not "until the time is up"
            show = lambda k, v: "nan" if v is None else f"{v:.3f}" if "acc" not in k else f"{v:.1%}"
            values = "  ".join(f"{k} {show(k, v)}" for k, v in logs.items())
            rate = f"{images} images in {seconds:.1f} s ({images / max(seconds, 1e-9):.0f}/s)"
            cut = "" if row["complete"] else " (cut short)"
            print(f"epoch {epoch + 1}{total}{cut}: {values}  {rate}", flush=True)


class TimeBudget(keras.callbacks.Callback):
    """Stop ``fit`` after ``seconds`` of training time, checked after every step (time between
    epochs is not counted). ``used``: the time counted. Defined in Chapter 3."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.used, self.stopped = float(seconds), 0.0, False

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._before = time.perf_counter(), self.used

    def on_train_batch_end(self, batch, logs=None):
        self.used = self._before + time.perf_counter() - self._start
        if self.used >= self.seconds:
            self.stopped = self.model.stop_training = True


class StopOnSignal(keras.callbacks.Callback):
    """Within ``with``: on SIGINT (Ctrl+C) or SIGTERM, stop ``fit`` after the current step, so
    epoch-end callbacks still run; a second signal raises KeyboardInterrupt. ``received``: the
    first signal's name, or None. For tests: DCGAN_TEST_SIGNAL="SIGTERM 13 0.01" makes the
    process send itself SIGTERM 0.01 s after step 13 (tests/test_faults.py)."""

    def __init__(self):
        super().__init__()
        self.received, self._test = None, os.environ.get("DCGAN_TEST_SIGNAL", "").split()

    def __enter__(self):
        signals = (signal.SIGINT, signal.SIGTERM)
        self._previous = {s: signal.signal(s, self._handle) for s in signals}
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
        if self._test and int(self.model.g_optimizer.iterations) == int(self._test[1]):
            sig = getattr(signal, self._test[0])
            kill = threading.Timer(float(self._test[2]), os.kill, (os.getpid(), sig))
            kill.daemon = True
            kill.start()
