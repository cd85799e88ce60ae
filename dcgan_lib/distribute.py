"""The tape-loop trainer under a ``tf.distribute`` strategy.

Defined in Appendix A ("Faster on a CPU, wider than one device").

Data parallelism in one picture: every replica (a GPU, or here a logical CPU
device) holds a copy of G and D, takes its share of the global batch, computes
gradients on it, and the replicas' gradients are *summed* before each
optimizer applies them to every copy. Shapes, for a global batch of B images
on R replicas (B // R = b each, use ``drop_remainder`` batches)::

    images  (B, 28, 28, 1) in [-1, 1]  ->  R shards (b, 28, 28, 1)
    z       (B, latent_dim)            ->  R shards (b, latent_dim)
    per-example losses on a replica      (b,)
    scaled loss on a replica             sum(per_example) / B    (scalar)
    reported loss                        SUM over replicas = mean over B

Why divide by the *global* B and not take a per-replica mean: Keras 3
optimizers called inside ``strategy.run`` all-reduce the gradients with SUM
(``TFOptimizer._all_reduce_sum_gradients``) before updating. Summing R
gradients of ``sum / B`` gives the gradient of the mean over the global batch,
exactly what one device computes on all B images; summing R per-replica means
gives R times that. (Adam dampens this mistake -- its step depends on the
gradient's scale only through its small epsilon -- but does not hide it; with
SGD the step is simply R times too big, and the reported losses are R times
too big whatever the optimizer.) ``tf.nn.compute_average_loss`` does the
division by B. A Keras loss object with its default reduction
("sum_over_batch_size") divides by R itself when called inside
``strategy.run``; a plain ``tf.reduce_mean`` does not.

Everything that owns variables -- G, D and both optimizers -- must be created
under ``strategy.scope()`` so that its variables are mirrored on every replica:
:func:`build_in_strategy` does that for a name of ``MODEL_BUILDERS``.

On a machine without several GPUs, :func:`two_cpu_devices` splits the CPU into
two logical devices, which must happen before TensorFlow initialises its
devices -- and importing ``dcgan_lib`` already does. So ask for the split when
importing it, in a fresh kernel::

    import os
    os.environ["DCGAN_CPU_DEVICES"] = "2"     # read when dcgan_lib imports TensorFlow
    import dcgan_lib as dl
    strategy = dl.two_cpu_devices()          # MirroredStrategy over CPU:0, CPU:1
    G, D, g_opt, d_opt = dl.build_in_strategy(strategy, "dense")
    step = dl.make_distributed_train_step(strategy, G, D, g_opt, d_opt,
                                          global_batch_size=32, d_logits=False)
    dist_ds = strategy.experimental_distribute_dataset(dataset_of_batches_of_32)
    for images in dist_ds:
        d_loss, g_loss = step(images)
"""
from __future__ import annotations

import numpy as np

from ._startup import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

__all__ = ["make_distributed_train_step", "build_in_strategy", "two_cpu_devices"]

_SPLIT_CPU_HINT = (
    "TensorFlow has already initialised its devices, so the CPU can no longer be split into "
    "logical devices (importing dcgan_lib runs a first op). Ask for the split when importing "
    "dcgan_lib, in a fresh process or kernel (Kernel > Restart):\n"
    "    import os\n"
    "    os.environ['DCGAN_CPU_DEVICES'] = '2'\n"
    "    import dcgan_lib as dl\n"
    "    strategy = dl.two_cpu_devices()"
)


def two_cpu_devices():
    """A ``MirroredStrategy`` over the CPU split into two logical devices (Defined in Appendix A).

    Lets you try data parallelism without GPUs: the two replicas share the same
    cores, so it is no faster -- it shows the mechanics, not the speed-up.
    Splitting is only possible before TensorFlow initialises its devices; if
    that has happened and the CPU was not split already (see the module
    docstring), raises ``RuntimeError`` saying how to do it.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is None or len(current) < 2:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
        except RuntimeError as err:
            raise RuntimeError(_SPLIT_CPU_HINT) from err
    devices = [d.name for d in tf.config.list_logical_devices("CPU")[:2]]
    return tf.distribute.MirroredStrategy(devices)


def build_in_strategy(strategy, model_name: str, learning_rate: float | None = None,
                      beta_1: float | None = None, g_learning_rate: float | None = None):
    """``(G, D, g_opt, d_opt)`` for a name of ``MODEL_BUILDERS``, created under ``strategy.scope()``.

    Defined in Appendix A. The optimizers are two Adams with
    :func:`dcgan_lib.training_defaults` unless given, already built (their slots
    are mirrored variables too); learning rates follow :func:`dcgan_lib.make_gan`'s
    rule (``learning_rate`` alone sets both). Whether D outputs logits is
    ``MODEL_BUILDERS[model_name][2]``.
    """
    from .gan import learning_rates, training_defaults
    from .models import MODEL_BUILDERS

    if model_name not in MODEL_BUILDERS:
        raise ValueError(f"unknown model {model_name!r}; known: {', '.join(MODEL_BUILDERS)}")
    build_g, build_d, _ = MODEL_BUILDERS[model_name]
    defaults = training_defaults(model_name)
    lr, g_learning_rate = learning_rates(defaults, learning_rate, g_learning_rate)
    b1 = defaults["beta_1"] if beta_1 is None else beta_1
    with strategy.scope():
        generator, discriminator = build_g(), build_d()
        g_opt = keras.optimizers.Adam(g_learning_rate, beta_1=b1, name="g_adam")
        d_opt = keras.optimizers.Adam(lr, beta_1=b1, name="d_adam")
        g_opt.build(generator.trainable_variables)
        d_opt.build(discriminator.trainable_variables)
    return generator, discriminator, g_opt, d_opt


def _check_in_scope(strategy, variables, what):
    for v in variables:
        tf_var = getattr(v, "value", v)              # a Keras 3 Variable wraps a tf.Variable
        if not strategy.extended.variable_created_in_scope(tf_var):
            raise ValueError(f"{what} was not created under strategy.scope(): its variables are "
                             "not mirrored on the replicas (use build_in_strategy)")


def make_distributed_train_step(strategy, generator, discriminator, g_optimizer, d_optimizer, *,
                                global_batch_size: int, d_logits: bool = True,
                                noise: str = "normal", seed: int | None = None):
    """One simultaneous D and G update with the batch split over ``strategy``'s replicas.

    Defined in Appendix A. Returns a ``tf.function``
    ``step(dist_images, dist_z=None) -> (d_loss, g_loss)``: ``dist_images`` is
    one element of ``strategy.experimental_distribute_dataset(ds)`` where ``ds``
    yields batches of ``global_batch_size`` real images (B, 28, 28, 1) in
    [-1, 1] (``drop_remainder=True``). ``dist_z``, distributed the same way
    (say from a dataset of ``(images, z)`` pairs), fixes the noise (B,
    latent_dim); if it is left out each replica draws its own shard from
    ``noise`` ("normal" or "uniform" in [-1, 1]), seeded by ``seed``, the step
    count and the replica id. The two losses come back as scalars: the mean
    over the global batch, like the single-device
    :func:`dcgan_lib.make_train_step` computes.

    G, D and both optimizers must have been created under
    ``strategy.scope()`` (:func:`build_in_strategy`); ``ValueError`` otherwise.
    """
    from .gan import NOISES

    if noise not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")
    global_batch_size = int(global_batch_size)
    if global_batch_size < strategy.num_replicas_in_sync:
        raise ValueError(f"global_batch_size ({global_batch_size}) is smaller than the number "
                         f"of replicas ({strategy.num_replicas_in_sync})")
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    _check_in_scope(strategy, g_vars, "the generator")
    _check_in_scope(strategy, d_vars, "the discriminator")
    with strategy.scope():
        for optimizer, variables in ((g_optimizer, g_vars), (d_optimizer, d_vars)):
            if not optimizer.built:
                optimizer.build(variables)       # slots outside tf.function, mirrored
    _check_in_scope(strategy, g_optimizer.variables, "the generator's optimizer")
    _check_in_scope(strategy, d_optimizer.variables, "the discriminator's optimizer")

    latent_dim = generator.input_shape[-1]
    num_replicas = strategy.num_replicas_in_sync
    base_seed = int(np.random.randint(0, 2**31 - 1)) if seed is None else int(seed)
    step_count = tf.Variable(0, dtype=tf.int64, trainable=False, name="noise_step")

    def bce(target, output):                     # (b, 1), (b, 1) -> (b,)
        return keras.losses.binary_crossentropy(target, output, from_logits=d_logits)

    def replica_noise(b, count):                 # this replica's shard of z: (b, latent_dim)
        replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int64)
        stateless_seed = tf.stack([count, base_seed * num_replicas + replica])
        if noise == "uniform":
            return tf.random.stateless_uniform((b, latent_dim), stateless_seed, minval=-1.0, maxval=1.0)
        return tf.random.stateless_normal((b, latent_dim), stateless_seed)

    def replica_step(real_images, z, count):     # runs once per replica on its shard of b images
        if z is None:
            z = replica_noise(tf.shape(real_images)[0], count)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = generator(z, training=True)                  # (b, 28, 28, 1)
            real_out = discriminator(real_images, training=True)       # (b, 1)
            fake_out = discriminator(fake_images, training=True)       # (b, 1)
            d_per_example = (bce(ops.ones_like(real_out), real_out)     # (b,)
                             + bce(ops.zeros_like(fake_out), fake_out))
            g_per_example = bce(ops.ones_like(fake_out), fake_out)     # (b,)
            # sum / B, not mean over b: the optimizers SUM the replicas' gradients
            d_loss = tf.nn.compute_average_loss(d_per_example, global_batch_size=global_batch_size)
            g_loss = tf.nn.compute_average_loss(g_per_example, global_batch_size=global_batch_size)
        g_grads = g_tape.gradient(g_loss, g_vars)
        d_grads = d_tape.gradient(d_loss, d_vars)
        g_optimizer.apply_gradients(zip(g_grads, g_vars))    # all-reduces (SUM), then updates
        d_optimizer.apply_gradients(zip(d_grads, d_vars))    # every replica's copy alike
        return d_loss, g_loss

    @tf.function
    def step(dist_images, dist_z=None):
        count = step_count.assign_add(1)
        d_loss, g_loss = strategy.run(replica_step, args=(dist_images, dist_z, count))
        return (strategy.reduce(tf.distribute.ReduceOp.SUM, d_loss, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.SUM, g_loss, axis=None))

    return step
