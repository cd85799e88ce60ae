"""Checkpoints: stop a GAN's training and carry on later, exactly where it stopped."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

__all__ = ["GANCheckpoint", "CheckpointEvery"]


def _paths(directory):
    """``(paths, listed)``: the checkpoints, oldest first, as the state file lists them
    (``listed``), or else every ``ckpt-N`` that has its ``.index`` file."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # not its warnings about a garbled file
    try:
        state = tf.train.get_checkpoint_state(str(directory))
    except ValueError:  # an empty or binary state file
        state = None
    logger.setLevel(level)
    if state is not None:
        return list(state.all_model_checkpoint_paths), True
    numbers = [p.name[len("ckpt-") : -len(".index")] for p in Path(directory).glob("ckpt-*.index")]
    numbers = sorted(int(n) for n in numbers if n.isdigit())
    return [str(Path(directory) / f"ckpt-{n}") for n in numbers], False


def _damage(path):
    """Why checkpoint ``path`` cannot be read back, or None if every value reads."""
    if not Path(f"{path}.index").is_file():
        return "its files are missing"
    try:
        reader = tf.train.load_checkpoint(str(path))
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)  # checks each value's checksum
    except (tf.errors.OpError, ValueError, IndexError, RuntimeError, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else ""
        return f"{type(err).__name__}: {reason.split('} ')[-1][:100]}"
    return None


class DamagedCheckpoint(ValueError):
    """A checkpoint that cannot be read back; ``older``: the newest intact older one, or None."""

    def __init__(self, path, reason, older):
        self.path, self.reason, self.older = path, reason, older
        also = f"{Path(older).name}, older, is intact" if older else "no older checkpoint is intact"
        super().__init__(f"checkpoint {path} is damaged ({reason}); {also}")


def choose_checkpoint(directory, step: int | None = None):
    """The newest checkpoint in ``directory`` (or ``ckpt-{step}``), or None. Raises
    DamagedCheckpoint, or FileNotFoundError if there is no ``ckpt-{step}``."""
    paths, _ = _paths(directory)
    names = [Path(p).name for p in paths]
    if step is not None and f"ckpt-{step}" not in names:
        held = f"(it holds: {', '.join(names) or 'none'})"
        raise FileNotFoundError(f"{directory} holds no checkpoint ckpt-{step} {held}")
    paths = paths if step is None else paths[: names.index(f"ckpt-{step}") + 1]
    reason = _damage(paths[-1]) if paths else None
    if reason is not None:
        older = next((p for p in reversed(paths[:-1]) if _damage(p) is None), None)
        raise DamagedCheckpoint(paths[-1], reason, older)
    return paths[-1] if paths else None


class GANCheckpoint:
    """Save and restore a GAN's whole training state in ``directory``. Defined in Chapter 3.

    Saved: G, D (and ``ema_generator``), both optimizers, the random states, ``epoch``,
    ``epoch_step`` and that epoch's loss averages. ``rebuilt``: what a lost state file listed.
    """

    def __init__(self, gan, directory, *, max_to_keep: int | None = 3):
        self.gan, self.directory = gan, Path(directory)
        self.epoch = tf.Variable(0, dtype=tf.int64)  # complete epochs
        self.epoch_step = tf.Variable(0, dtype=tf.int64)  # batches done of an epoch cut short
        parts = ["generator", "discriminator", "g_optimizer", "d_optimizer"]
        parts += ["ema_generator", "ema_steps"] if gan.ema_generator is not None else []
        self.parts = {name: getattr(gan, name) for name in parts}
        for name in ("generator", "discriminator"):  # their other variables: dropout's RNG state
            model, weights = getattr(gan, name), {id(w) for w in getattr(gan, name).weights}
            self.parts[f"{name}_rng"] = [v for v in model.variables if id(v) not in weights]
        metrics = [v for m in gan.metrics for v in m.variables]
        self.parts.update(noise_seed=gan.seed_generator.state, epoch=self.epoch)
        self.parts.update(epoch_step=self.epoch_step, epoch_metrics=metrics)
        self.checkpoint = tf.train.Checkpoint(**self.parts)
        paths, listed = _paths(directory)
        self.rebuilt = [] if listed else paths
        if self.rebuilt:  # the state file that lists them, written atomically
            names = "".join(f'all_model_checkpoint_paths: "{Path(p).name}"\n' for p in paths)
            text = f'model_checkpoint_path: "{Path(paths[-1]).name}"\n{names}'
            (self.directory / "checkpoint.tmp").write_text(text)
            os.replace(self.directory / "checkpoint.tmp", self.directory / "checkpoint")
        manager = tf.train.CheckpointManager  # keeps the newest, names them ckpt-STEP
        self.manager = manager(self.checkpoint, str(directory), max_to_keep, checkpoint_name="ckpt")
        self._may_save = self.manager.latest_checkpoint is None

    @property
    def step(self) -> int:
        """Training steps so far (the generator optimizer's ``iterations``)."""
        return int(self.gan.g_optimizer.iterations)

    @property
    def latest(self):
        """Path prefix of the newest checkpoint, or None."""
        return self.manager.latest_checkpoint

    def restore(self, step: int | None = None):
        """Load the newest checkpoint (or ``ckpt-{step}``): its path, or None if there is none.
        Raises DamagedCheckpoint, or ValueError if it does not fit this GAN."""
        self._may_save = False
        path = choose_checkpoint(self.directory, step)
        try:
            if path is not None:
                status = self.checkpoint.restore(path).expect_partial()
                status.assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as err:
            why = f"{type(err).__name__}: {str(err).splitlines()[0]}"
            raise ValueError(f"checkpoint {path} does not fit this GAN ({why})") from None
        self._may_save = True
        return path

    def save(self) -> str:
        """Write a checkpoint numbered by the current step; return its path prefix. Raises
        FileExistsError while the directory holds checkpoints not restored, FloatingPointError
        for weights that are not finite; leaves no partial files."""
        if not self._may_save:
            fix = "call restore() to continue that run, or save this one in another directory"
            raise FileExistsError(f"{self.directory} holds checkpoints of another run: {fix}")
        gan = self.gan
        values = gan.weights + gan.g_optimizer.variables + gan.d_optimizer.variables
        if not all(np.isfinite(v.numpy()).all() for v in values if "float" in str(v.dtype)):
            raise FloatingPointError(f"step {self.step}: weights not finite (diverged); not saved")
        prefix = self.directory / f"ckpt-{self.step}"
        existed = Path(f"{prefix}.index").exists()
        try:
            return self.manager.save(checkpoint_number=self.step)
        except BaseException:  # a full disk, an interruption: no litter
            shutil.rmtree(f"{prefix}_temp", ignore_errors=True)
            for leftover in [] if existed else self.directory.glob(f"{prefix.name}.*"):
                leftover.unlink(missing_ok=True)
            raise


class CheckpointEvery(keras.callbacks.Callback):
    """Save a GANCheckpoint every ``every`` complete epochs (None: never), at the steps
    ``at_steps`` (0: when training begins) and when ``fit`` ends. Defined in Chapter 3.

    ``paths``: step -> path for ``at_steps``; ``saved``: every path; ``saved_step``: the last's.
    A loss or weights not finite stop ``fit``: ``diverged`` is that step; no more is saved.
    """

    def __init__(self, checkpoint: GANCheckpoint, every: int | None = 1, *, at_steps=()):
        super().__init__()
        self.checkpoint, self.every = checkpoint, None if every is None else max(1, int(every))
        self.at_steps, self.paths, self.saved = {int(s) for s in at_steps}, {}, []
        self.diverged, self.saved_step = None, checkpoint.step

    def on_train_begin(self, logs=None):
        self.saved_step = self.checkpoint.step
        # fit resets the loss averages: an epoch resumed mid-way carries on from the saved ones
        self._saved = [v.numpy() for v in self.checkpoint.parts["epoch_metrics"]]
        if self.saved_step in self.at_steps and self.saved_step not in self.paths:
            self.save()

    def on_epoch_begin(self, epoch, logs=None):
        done = int(self.checkpoint.epoch_step)  # batches of this epoch done before
        if done:
            for variable, value in zip(self.checkpoint.parts["epoch_metrics"], self._saved):
                variable.assign(value)
        steps, self._began = self.params.get("steps"), self.checkpoint.step - done
        self._planned = None if steps is None else done + steps  # batches in a whole epoch

    def on_train_batch_end(self, batch, logs=None):
        losses = [float(v) for k, v in (logs or {}).items() if k.endswith("loss")]
        if self.diverged is None and not all(math.isfinite(v) for v in losses):
            self.diverged = self.checkpoint.step
        done = self.checkpoint.step - self._began
        if self.diverged is not None:
            self.model.stop_training = True
        elif self.checkpoint.step in self.at_steps and done != self._planned:
            self.checkpoint.epoch_step.assign(done)  # (an epoch's last step: at the epoch's end)
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        done = self.checkpoint.step - self._began
        if self.diverged is not None:
            return
        if self._planned is not None and done < self._planned:  # cut short: not counted
            self.checkpoint.epoch_step.assign(done)
            return
        self.checkpoint.epoch.assign_add(1)
        self.checkpoint.epoch_step.assign(0)
        due = self.every and int(self.checkpoint.epoch) % self.every == 0
        if due or self.checkpoint.step in self.at_steps:
            self.save()

    def on_train_end(self, logs=None):
        if self.checkpoint.step != self.saved_step:
            self.save()

    def save(self):
        """Save now, unless training diverged (then stop ``fit``)."""
        step = self.checkpoint.step
        try:
            if self.diverged is None:
                self.saved.append(self.checkpoint.save())
                self.saved_step = step
                self.paths.update({step: self.saved[-1]} if step in self.at_steps else {})
        except FloatingPointError:
            self.diverged = step
        if self.diverged is not None:
            self.model.stop_training = True
