"""Checkpoints: stop a GAN's training and carry on later (defined in Chapter 3).

A GAN's training state is more than its weights: both Adam optimizers hold
a step count and two moment estimates per weight, the noise has a random
state, and we count epochs. :class:`GANCheckpoint` saves all of that with
``tf.train.Checkpoint`` and keeps the last few with
``tf.train.CheckpointManager``; :class:`CheckpointEvery` saves from ``fit``.
:func:`resumable_dataset` shuffles each epoch from ``(seed, epoch)`` alone,
so a resumed run sees the very batches an uninterrupted one would.
"""
from __future__ import annotations

from pathlib import Path

from ._quiet import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

__all__ = ["GANCheckpoint", "CheckpointEvery", "resumable_dataset", "latest_checkpoint"]


def _random_states(model):
    """The model's random-number states (dropout's SeedGenerators): in
    ``variables`` but not in ``weights``."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def latest_checkpoint(directory):
    """Path prefix of the newest checkpoint in ``directory``, or None."""
    return tf.train.latest_checkpoint(str(directory))


class GANCheckpoint:
    """Save and restore the whole training state of a GAN (Defined in Chapter 3).

    ``gan``: a compiled :class:`dcgan_lib.gan_model.GAN`. Saved: the generator
    and discriminator (weights and batch-norm statistics), both optimizers
    (``iterations`` = the step count, and Adam's moments), the random states
    (the noise ``SeedGenerator``, dropout's), ``epoch``, a counter of
    complete epochs, and a :class:`~dcgan_lib.gan_model.TunedGAN`'s
    ``ema_generator`` when it keeps one.
    ``max_to_keep`` newest checkpoints stay in ``directory``.

    It never writes over a run by surprise: if ``directory`` already holds
    checkpoints, :meth:`save` refuses until :meth:`restore` has loaded the
    latest of them (that is, until you have chosen to *continue* that run).
    """

    def __init__(self, gan, directory, *, max_to_keep: int = 3):
        self.gan, self.directory = gan, Path(directory)
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.checkpoint = tf.train.Checkpoint(
            generator=gan.generator, discriminator=gan.discriminator,
            g_optimizer=gan.g_optimizer, d_optimizer=gan.d_optimizer,
            noise_seed=gan.seed_generator.state, epoch=self.epoch,
            generator_rng=_random_states(gan.generator),
            discriminator_rng=_random_states(gan.discriminator),
            **self._weight_average(gan))
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

    def restore(self) -> bool:
        """Load the newest checkpoint, if any; return whether one was loaded.

        Raises ``ValueError`` if it does not fit this GAN (another model).
        """
        self._may_save = True
        path = self.manager.latest_checkpoint
        if path is None:
            return False
        try:
            self.checkpoint.restore(path).expect_partial().assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as err:
            self._may_save = False
            raise ValueError(f"checkpoint {path} does not fit this GAN "
                             f"({type(err).__name__}: {str(err).splitlines()[0]})") from None
        return True

    def save(self) -> str:
        """Write a checkpoint numbered by the current step; return its path prefix."""
        if not self._may_save:
            raise FileExistsError(
                f"{self.directory} already holds checkpoints of another run: call restore() "
                "to continue that run, or save this one in another directory.")
        return self.manager.save(checkpoint_number=self.step)


class CheckpointEvery(keras.callbacks.Callback):
    """Count complete epochs and save a :class:`GANCheckpoint` every ``every`` of them.

    (Defined in Chapter 3.) An epoch counts as complete when it ran all its
    planned steps; one cut short (a time budget, an interruption) leaves the
    counter alone. At the end of ``fit`` it also saves any steps not yet
    saved, so stopping early loses nothing. ``saved`` lists the paths written.
    """

    def __init__(self, checkpoint: GANCheckpoint, every: int = 1):
        super().__init__()
        self.checkpoint, self.every, self.saved = checkpoint, max(1, int(every)), []

    def on_train_begin(self, logs=None):
        self._saved_step = self.checkpoint.step

    def on_epoch_begin(self, epoch, logs=None):
        self._start_step = self.checkpoint.step

    def on_epoch_end(self, epoch, logs=None):
        planned = self.params.get("steps")
        if planned is None or self.checkpoint.step - self._start_step >= planned:
            self.checkpoint.epoch.assign_add(1)
            if int(self.checkpoint.epoch) % self.every == 0:
                self.save()

    def on_train_end(self, logs=None):
        if self.checkpoint.step != self._saved_step:
            self.save()

    def save(self):
        self.saved.append(self.checkpoint.save())
        self._saved_step = self.checkpoint.step


def resumable_dataset(images, batch_size: int, *, seed: int = 0, first_epoch: int = 0):
    """Endless batches whose order in epoch k depends only on ``(seed, k)``.

    ``images``: uint8 (N, 28, 28[, 1]). Yields float32 (batch_size, 28, 28, 1)
    in [-1, 1], N // batch_size full batches per epoch (the rest of a
    permutation is dropped), starting at epoch ``first_epoch``. Use it with
    ``fit(..., steps_per_epoch=N // batch_size, initial_epoch=first_epoch)``:
    a run restored after epoch k then sees the batches an uninterrupted run
    would. (Defined in Chapter 3.)
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
    return epochs.flat_map(one_epoch).prefetch(tf.data.AUTOTUNE)
