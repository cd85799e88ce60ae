"""Checkpoints: stop a GAN's training and carry on later (defined in Chapter 3).

A GAN's training state is more than its weights: both Adam optimizers hold
a step count and two moment estimates per weight, the noise has a random
state, and we count epochs. :class:`GANCheckpoint` saves all of that with
``tf.train.Checkpoint`` and keeps the last few with
``tf.train.CheckpointManager``; :class:`CheckpointEvery` saves from ``fit``.
:func:`resumable_dataset` shuffles each epoch from ``(seed, epoch)`` alone,
so a resumed run sees the very batches an uninterrupted one would.

A checkpoint may be saved in the middle of an epoch (a time budget, Ctrl+C):
it then records how many batches of that epoch are done (``epoch_step``)
and the epoch's running loss averages, and the resumed run skips exactly
those batches. A checkpoint is only written for finite weights, and one
that cannot be read back is reported as damaged, never taken for another
model's. If the ``checkpoint`` state file is lost, the ``ckpt-N`` files are
the truth: the state file is rebuilt from them.
"""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

from ._startup import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

__all__ = ["GANCheckpoint", "CheckpointEvery", "resumable_dataset", "latest_checkpoint",
           "DamagedCheckpoint"]

OPTIONAL = ("epoch_step", "epoch_metrics")   # newer than some checkpoints: restored when present


def _random_states(model):
    """The model's random-number states (dropout's SeedGenerators): in
    ``variables`` but not in ``weights``."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def checkpoint_paths(directory):
    """``(paths, listed)``: the checkpoints in ``directory``, newest last, as its
    ``checkpoint`` state file lists them (``listed=True``), or, when that file is
    missing or unreadable, every ``ckpt-N`` that has its ``.index`` file."""
    directory, logger = Path(directory), tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")                       # not its warnings about a garbled file
    try:
        state = tf.train.get_checkpoint_state(str(directory))
    except ValueError:                             # an empty or binary state file
        state = None
    finally:
        logger.setLevel(level)
    if state is not None:
        return list(state.all_model_checkpoint_paths), True
    found = (p.name[len("ckpt-"):-len(".index")] for p in directory.glob("ckpt-*.index"))
    numbers = sorted(int(n) for n in found if n.isdigit())
    return [str(directory / f"ckpt-{n}") for n in numbers], False


def latest_checkpoint(directory):
    """Path prefix of the newest checkpoint in ``directory``, or None."""
    paths, _ = checkpoint_paths(directory)
    return paths[-1] if paths else None


def checkpoint_damage(path):
    """Why the checkpoint ``path`` cannot be read back (its files missing,
    truncated or failing their checksums), or None if every value reads."""
    if not Path(f"{path}.index").is_file():
        return "its files are missing"
    try:
        reader = tf.train.load_checkpoint(str(path))
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)                # checks each value's checksum
    except (tf.errors.OpError, ValueError, IndexError, RuntimeError, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else ""
        return f"{type(err).__name__}: {reason.split('} ')[-1][:100]}"
    return None


class DamagedCheckpoint(ValueError):
    """A checkpoint that cannot be read back; ``older`` is the newest intact older one, or None."""

    def __init__(self, path, reason, older):
        self.path, self.reason, self.older = path, reason, older
        also = (f"{Path(older).name}, older, is intact" if older else
                "no older checkpoint is intact")
        super().__init__(f"checkpoint {path} is damaged ({reason}); {also}")


def choose_checkpoint(directory, step: int | None = None):
    """The checkpoint to continue from: the newest in ``directory``, or ``ckpt-{step}``;
    None if there is none. Raises :class:`DamagedCheckpoint` if it cannot be read
    back, and ``FileNotFoundError`` if there is no ``ckpt-{step}``."""
    paths, _ = checkpoint_paths(directory)
    if step is not None:
        if f"ckpt-{step}" not in [Path(p).name for p in paths]:
            names = ", ".join(Path(p).name for p in paths) or "none"
            raise FileNotFoundError(f"{directory} holds no checkpoint ckpt-{step} "
                                    f"(it holds: {names})")
        paths = paths[:[Path(p).name for p in paths].index(f"ckpt-{step}") + 1]
    if not paths:
        return None
    reason = checkpoint_damage(paths[-1])
    if reason is not None:
        older = next((p for p in reversed(paths[:-1]) if checkpoint_damage(p) is None), None)
        raise DamagedCheckpoint(paths[-1], reason, older)
    return paths[-1]


def _write_state(directory, paths):
    """Write the ``checkpoint`` state file listing ``paths`` (newest last), atomically."""
    names = [Path(p).name for p in paths]
    text = f'model_checkpoint_path: "{names[-1]}"\n' + "".join(
        f'all_model_checkpoint_paths: "{n}"\n' for n in names)
    tmp = Path(directory) / "checkpoint.tmp"
    tmp.write_text(text)
    os.replace(tmp, Path(directory) / "checkpoint")


class GANCheckpoint:
    """Save and restore the whole training state of a GAN (Defined in Chapter 3).

    ``gan``: a compiled :class:`dcgan_lib.gan_model.GAN`. Saved: the generator
    and discriminator (weights and batch-norm statistics), both optimizers
    (``iterations`` = the step count, and Adam's moments), the random states
    (the noise ``SeedGenerator``, dropout's), ``epoch``, a counter of
    complete epochs, and a :class:`~dcgan_lib.gan_model.TunedGAN`'s
    ``ema_generator`` when it keeps one.
    ``max_to_keep`` newest checkpoints stay in ``directory``. Also saved:
    ``epoch_step``, the batches done of an epoch cut short (0 at an epoch's
    end), and the running averages of the losses of that epoch.

    It never writes over a run by surprise: if ``directory`` already holds
    checkpoints, :meth:`save` refuses until :meth:`restore` has loaded the
    latest of them (that is, until you have chosen to *continue* that run).
    If its ``checkpoint`` state file is missing or garbled, it is rebuilt
    from the ``ckpt-N`` files (``rebuilt`` lists them). :meth:`save` refuses
    weights that are not finite (``FloatingPointError``) and leaves no
    partial files behind when writing fails (a full disk).
    """

    def __init__(self, gan, directory, *, max_to_keep: int = 3):
        self.gan, self.directory = gan, Path(directory)
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.epoch_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch_step")
        self.parts = dict(
            generator=gan.generator, discriminator=gan.discriminator,
            g_optimizer=gan.g_optimizer, d_optimizer=gan.d_optimizer,
            noise_seed=gan.seed_generator.state, epoch=self.epoch,
            generator_rng=_random_states(gan.generator),
            discriminator_rng=_random_states(gan.discriminator),
            epoch_step=self.epoch_step, epoch_metrics=[v for m in gan.metrics for v in m.variables],
            **self._weight_average(gan))
        self.checkpoint = tf.train.Checkpoint(**self.parts)
        paths, listed = checkpoint_paths(self.directory)
        self.rebuilt = [] if listed or not paths else paths
        if self.rebuilt:
            _write_state(self.directory, paths)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.directory),
                                                  max_to_keep=max_to_keep, checkpoint_name="ckpt")
        self._may_save = self.manager.latest_checkpoint is None

    @staticmethod
    def _weight_average(gan):
        """A :class:`~dcgan_lib.gan_model.TunedGAN`'s average of G's weights, if it keeps one."""
        if getattr(gan, "ema_generator", None) is None:
            return {}
        return {"ema_generator": gan.ema_generator, "ema_steps": gan.ema_steps}

    @property
    def step(self) -> int:
        """Training steps so far (the generator optimizer's ``iterations``)."""
        return int(self.gan.g_optimizer.iterations)

    @property
    def latest(self):
        """Path prefix of the newest checkpoint, or None."""
        return self.manager.latest_checkpoint

    def restore(self, step: int | None = None) -> bool:
        """Load the newest checkpoint (or ``ckpt-{step}``), if any; return whether one was loaded.

        Raises :class:`DamagedCheckpoint` if it cannot be read back, and
        ``ValueError`` if it does not fit this GAN (another model).
        """
        self._may_save = False
        path = choose_checkpoint(self.directory, step)
        self._may_save = True
        if path is None:
            return False
        present = {name.split("/")[0] for name, _ in tf.train.list_variables(path)}
        parts = {k: v for k, v in self.parts.items() if k in present or k not in OPTIONAL}
        try:
            tf.train.Checkpoint(**parts).restore(path).expect_partial().assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as err:
            self._may_save = False
            raise ValueError(f"checkpoint {path} does not fit this GAN "
                             f"({type(err).__name__}: {str(err).splitlines()[0]})") from None
        return True

    def finite(self) -> bool:
        """Whether every weight and optimizer value is a finite number."""
        gan = self.gan
        values = [v for v in gan.weights + gan.g_optimizer.variables + gan.d_optimizer.variables
                  if "float" in str(v.dtype)]
        return bool(tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in values]))

    def save(self) -> str:
        """Write a checkpoint numbered by the current step; return its path prefix."""
        if not self._may_save:
            raise FileExistsError(
                f"{self.directory} already holds checkpoints of another run: call restore() "
                "to continue that run, or save this one in another directory.")
        if not self.finite():
            raise FloatingPointError(f"step {self.step}: the weights are not finite numbers "
                                     "(training diverged); not saved")
        prefix = self.directory / f"ckpt-{self.step}"
        existed = Path(f"{prefix}.index").exists()
        try:
            return self.manager.save(checkpoint_number=self.step)
        except BaseException:                      # a full disk, an interruption: no litter
            shutil.rmtree(f"{prefix}_temp", ignore_errors=True)
            for leftover in [] if existed else self.directory.glob(f"{prefix.name}.*"):
                leftover.unlink(missing_ok=True)
            raise


class CheckpointEvery(keras.callbacks.Callback):
    """Count complete epochs and save a :class:`GANCheckpoint` every ``every`` of them.

    (Defined in Chapter 3.) An epoch counts as complete when it ran all its
    planned steps; one cut short (a time budget, an interruption) leaves the
    counter alone and records in ``epoch_step`` how far it got. At the end of
    ``fit`` it also saves any steps not yet saved, so stopping early loses
    nothing. ``saved`` lists the paths written, ``saved_step`` is the last one's step.

    It also stops ``fit`` when training diverges: when a logged loss is not a
    finite number (checked after every step: Keras has already turned the logs
    into Python floats, so this costs nothing) or the weights are not when
    saving. ``diverged`` is then the step at which that was seen, and nothing
    more is saved: the last checkpoint stays the last finite one.
    """

    def __init__(self, checkpoint: GANCheckpoint, every: int = 1):
        super().__init__()
        self.checkpoint, self.every, self.saved = checkpoint, max(1, int(every)), []
        self.diverged, self.saved_step = None, checkpoint.step

    def on_train_begin(self, logs=None):
        self.saved_step = self.checkpoint.step
        # resumed mid-epoch: fit resets the loss averages, which carry on from the checkpoint
        self._carry = [v.numpy() for v in self.checkpoint.parts["epoch_metrics"]]

    def on_epoch_begin(self, epoch, logs=None):
        done = int(self.checkpoint.epoch_step)           # batches of this epoch done before
        if done and self._carry is not None:
            for variable, value in zip(self.checkpoint.parts["epoch_metrics"], self._carry):
                variable.assign(value)
        self._carry = None
        self._began = self.checkpoint.step - done
        self._planned = None if self.params.get("steps") is None else done + self.params["steps"]

    def _check(self, logs):
        if self.diverged is None and any(not math.isfinite(float(logs[k])) for k in logs
                                         if k.endswith("loss")):
            self.diverged = self.checkpoint.step
        if self.diverged is not None:
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs or {})

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs or {})
        if self.diverged is not None:
            return
        done = self.checkpoint.step - self._began
        if self._planned is None or done >= self._planned:
            self.checkpoint.epoch.assign_add(1)
            self.checkpoint.epoch_step.assign(0)
            if int(self.checkpoint.epoch) % self.every == 0:
                self.save()
        else:
            self.checkpoint.epoch_step.assign(done)

    def on_train_end(self, logs=None):
        if self.checkpoint.step != self.saved_step:
            self.save()

    def save(self):
        if self.diverged is None:
            try:
                self.saved.append(self.checkpoint.save())
                self.saved_step = self.checkpoint.step
            except FloatingPointError:
                self.diverged = self.checkpoint.step
        if self.diverged is not None:
            self.model.stop_training = True


def resumable_dataset(images, batch_size: int, *, seed: int = 0, first_epoch: int = 0,
                      skip: int = 0):
    """Endless batches whose order in epoch k depends only on ``(seed, k)``.

    ``images``: uint8 (N, 28, 28[, 1]). Yields float32 (batch_size, 28, 28, 1)
    in [-1, 1], N // batch_size full batches per epoch (the rest of a
    permutation is dropped), starting at epoch ``first_epoch``. Use it with
    ``fit(..., steps_per_epoch=N // batch_size, initial_epoch=first_epoch)``:
    a run restored after epoch k then sees the batches an uninterrupted run
    would. ``skip`` drops the first batches of ``first_epoch``: those a run
    cut short in that epoch has done already. (Defined in Chapter 3.)
    """
    from .data import to_model_range

    scaled = tf.constant(to_model_range(images))
    n = int(scaled.shape[0])
    if n < batch_size:
        raise ValueError(f"only {n} images for batch_size={batch_size}: use fewer per batch "
                         "or more images.")
    seed = tf.constant(int(seed), tf.int64)

    def one_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(n), seed=tf.stack([seed, epoch]))
        batches = tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)
        return batches.map(lambda idx: tf.gather(scaled, idx))

    epochs = tf.data.Dataset.range(int(first_epoch), 2**62)
    return epochs.flat_map(one_epoch).skip(int(skip)).prefetch(tf.data.AUTOTUNE)
