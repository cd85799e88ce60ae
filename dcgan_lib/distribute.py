"""Appendix A: the course's training step under a ``tf.distribute`` strategy.

Data parallelism: every replica (a GPU, or here a logical CPU device) holds a copy of G and
D, takes its share b = B / R of the global batch of B images, and computes gradients on it;
the optimizers *sum* the R replicas' gradients before updating every copy alike. So each
replica divides its per-example losses (b,) by the *global* B (``tf.nn.compute_average_loss``):
summing R gradients of sum / B gives the gradient of the mean over B, what one device computes.
R per-replica means would give R times that (Adam mostly hides it; SGD and the logged losses
do not). Everything that owns variables must be created under ``strategy.scope()``::

    import os
    os.environ["DCGAN_CPU_DEVICES"] = "2"     # before importing dcgan_lib, in a fresh kernel
    import dcgan_lib as dl
    strategy = dl.two_cpu_devices()
    with strategy.scope():
        gan = dl.make_gan("dense")
    step = dl.make_distributed_train_step(strategy, gan, global_batch_size=32)
    for images in strategy.experimental_distribute_dataset(batches_of_32):
        d_loss, g_loss = step(images)
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .gan import gan_step
from .models import draw_noise

_SPLIT_HINT = (
    "TensorFlow has already initialised its devices, so the CPU can no longer be split "
    "(importing dcgan_lib runs a first op). Ask for the split when importing dcgan_lib, in a "
    "fresh process or kernel (Kernel > Restart):\n    import os\n"
    "    os.environ['DCGAN_CPU_DEVICES'] = '2'\n    import dcgan_lib as dl\n"
    "    strategy = dl.two_cpu_devices()"
)


def two_cpu_devices():
    """A ``MirroredStrategy`` over the CPU split in two logical devices. Defined in Appendix A.

    Shows the mechanics of data parallelism without GPUs (the replicas share the cores: no
    speed-up). Raises ``RuntimeError`` saying how, if TensorFlow started without the split.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    if len(tf.config.get_logical_device_configuration(cpu) or []) < 2:
        try:
            halves = [tf.config.LogicalDeviceConfiguration() for _ in range(2)]
            tf.config.set_logical_device_configuration(cpu, halves)
        except RuntimeError as err:
            raise RuntimeError(_SPLIT_HINT) from err
    devices = [d.name for d in tf.config.list_logical_devices("CPU")[:2]]
    return tf.distribute.MirroredStrategy(devices)


def make_distributed_train_step(strategy, gan, *, global_batch_size, seed=None):
    """One :func:`dcgan_lib.gan_step` with the batch split over the replicas. Defined in Appendix A.

    ``gan``: a :class:`dcgan_lib.GAN` made by ``make_gan`` under ``strategy.scope()``. Returns a
    ``tf.function`` ``step(dist_images, dist_z=None) -> (d_loss, g_loss)``, the means over the
    global batch: ``dist_images`` comes from ``strategy.experimental_distribute_dataset`` over
    batches of ``global_batch_size`` (``drop_remainder=True``); ``dist_z`` (B, latent_dim),
    distributed alike, fixes the noise, else each replica draws its own from ``seed``.
    """
    global_batch_size, replicas = int(global_batch_size), strategy.num_replicas_in_sync
    if global_batch_size < replicas:
        raise ValueError(f"global_batch_size {global_batch_size} < {replicas} replicas")
    for v in gan.weights + gan.g_optimizer.variables + gan.d_optimizer.variables:
        if not strategy.extended.variable_created_in_scope(getattr(v, "value", v)):
            raise ValueError(
                f"{v.path} was not created under strategy.scope(), so it is not "
                "mirrored on the replicas: build the GAN with make_gan in the scope"
            )
    base_seed = int(np.random.randint(0, 2**31 - 1)) if seed is None else int(seed)
    step_count = tf.Variable(0, dtype=tf.int64, trainable=False, name="noise_step")

    def bce(target, output):  # (b, 1), (b, 1) -> this replica's sum / B
        per_example = keras.losses.binary_crossentropy(target, output, from_logits=gan.d_logits)
        return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)

    def replica_step(real_images, z, count):  # once per replica, on its b images
        if z is None:
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            pair = tf.stack([count, base_seed * replicas + tf.cast(replica, tf.int64)])
            z = draw_noise((tf.shape(real_images)[0], gan.latent_dim), gan.noise, pair)
        d_loss, g_loss, _, _ = gan_step(*gan.players, real_images, z, bce, gan.real_label)
        return d_loss, g_loss

    @tf.function
    def step(dist_images, dist_z=None):
        count = step_count.assign_add(1)
        d_loss, g_loss = strategy.run(replica_step, args=(dist_images, dist_z, count))
        total = lambda loss: strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
        return total(d_loss), total(g_loss)

    return step


__all__ = ["two_cpu_devices", "make_distributed_train_step"]
