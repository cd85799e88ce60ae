"""The distributed tape step (dcgan_lib.distribute): two replicas on two logical
CPU devices must train G and D exactly like one device on the whole batch.

The CPU can only be split before TensorFlow initialises its devices, and this
process has (it imported dcgan_lib), so the comparison runs in a fresh
interpreter that writes the weights and losses to an .npz for the asserts here.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from helpers import ROOT

import dcgan_lib as dl

STEPS, GLOBAL_BATCH = 3, 32  # 16 images per replica

CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf                          # not via dcgan_lib: that runs a first op
    cpu = tf.config.list_physical_devices("CPU")[0]  # split before any op runs
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import dcgan_lib as dl

    out, steps, global_batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    strategy = dl.two_cpu_devices()
    assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
    build_g, build_d, d_logits = dl.MODELS["dense"][:3]

    keras.utils.set_random_seed(0)
    init_g, init_d = build_g(hidden=32).get_weights(), build_d(hidden=32).get_weights()
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (steps * global_batch, 28, 28, 1)).astype("float32")
    z = rng.standard_normal((steps * global_batch, init_g[0].shape[0])).astype("float32")
    batches = tf.data.Dataset.from_tensor_slices((images, z)).batch(global_batch, drop_remainder=True)
    dist_batches = strategy.experimental_distribute_dataset(batches)   # 16 of each per replica

    def models_and_optimizers(opt):
        g, d = build_g(hidden=32), build_d(hidden=32)
        g.set_weights(init_g)
        d.set_weights(init_d)
        g_opt, d_opt = [keras.optimizers.SGD(0.1) if opt == "sgd" else keras.optimizers.Adam(1e-3)
                        for _ in range(2)]
        g_opt.build(g.trainable_variables)
        d_opt.build(d.trainable_variables)
        return g, d, g_opt, d_opt

    def bce(target, output):                         # per example: (b, 1) -> (b,)
        return keras.losses.binary_crossentropy(target, output, from_logits=d_logits)

    def tape_step(g, d, g_opt, d_opt, real, z, reduce):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            real_out, fake_out = d(real, training=True), d(g(z, training=True), training=True)
            d_loss = reduce(bce(tf.ones_like(real_out), real_out)
                            + bce(tf.zeros_like(fake_out), fake_out))
            g_loss = reduce(bce(tf.ones_like(fake_out), fake_out))
        g_grads = g_tape.gradient(g_loss, g.trainable_variables)
        d_grads = d_tape.gradient(d_loss, d.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, g.trainable_variables))
        d_opt.apply_gradients(zip(d_grads, d.trainable_variables))
        return d_loss, g_loss

    def single_device(opt):                          # plain tape step, mean over the global batch
        g, d, g_opt, d_opt = models_and_optimizers(opt)
        step = tf.function(lambda real, z: tape_step(g, d, g_opt, d_opt, real, z, tf.reduce_mean))
        return g, d, g_opt, [step(real, z) for real, z in batches]

    def distributed_gan(opt, noise="normal"):
        with strategy.scope():
            g, d, g_opt, d_opt = models_and_optimizers(opt)
            gan = dl.GAN(g, d, d_logits=d_logits, noise=noise)
            gan.compile(d_opt, g_opt)
        return gan

    def distributed(opt):                            # dcgan_lib's step: sum / global batch per replica
        gan = distributed_gan(opt)
        step = dl.make_distributed_train_step(strategy, gan, global_batch_size=global_batch)
        return gan.generator, gan.discriminator, gan.g_optimizer, [step(real, z) for real, z in dist_batches]

    def distributed_wrong(opt):                      # mean over each replica's 16, then SUM: 2x too big
        with strategy.scope():
            g, d, g_opt, d_opt = models_and_optimizers(opt)

        @tf.function
        def step(real, z):
            d_loss, g_loss = strategy.run(
                lambda r, zz: tape_step(g, d, g_opt, d_opt, r, zz, tf.reduce_mean), args=(real, z))
            return (strategy.reduce("SUM", d_loss, axis=None), strategy.reduce("SUM", g_loss, axis=None))
        return g, d, g_opt, [step(real, z) for real, z in dist_batches]

    results = {}
    for name, run, opt in [("single_adam", single_device, "adam"), ("dist_adam", distributed, "adam"),
                           ("single_sgd", single_device, "sgd"), ("dist_sgd", distributed, "sgd"),
                           ("wrong_sgd", distributed_wrong, "sgd")]:
        g, d, g_opt, losses = run(opt)
        results[name + "/losses"] = np.array([[float(dl_), float(gl)] for dl_, gl in losses])
        results[name + "/iterations"] = np.array(int(g_opt.iterations.numpy()))
        weights = g.get_weights() + d.get_weights()
        results[name + "/n_weights"] = np.array(len(weights))
        for i, w in enumerate(weights):
            results[f"{name}/w{i}"] = w

    # without z: the replicas draw their own shards, from the seed, the step and the replica id
    real = next(iter(strategy.experimental_distribute_dataset(batches.map(lambda x, _: x))))
    for seed in (3, 3, 4):
        gan = distributed_gan("adam", noise="uniform")
        step = dl.make_distributed_train_step(strategy, gan, global_batch_size=global_batch, seed=seed)
        losses = [[float(v) for v in step(real)] for _ in range(2)]
        results.setdefault("own_noise/losses", []).append(losses)
    np.savez(out, **results)
""")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Weights and losses of the same 3 steps: one device vs two replicas (fresh interpreter)."""
    out = tmp_path_factory.mktemp("distribute") / "runs.npz"
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="3",
        TF_NUM_INTRAOP_THREADS="1",
        TF_NUM_INTEROP_THREADS="1",  # light on a shared CPU
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), str(STEPS), str(GLOBAL_BATCH)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    with np.load(out) as f:
        return dict(f)


def _weights(runs, name):
    return [runs[f"{name}/w{i}"] for i in range(int(runs[name + "/n_weights"]))]


def _assert_same_weights(runs, a, b):
    wa, wb = _weights(runs, a), _weights(runs, b)
    assert len(wa) == len(wb) == 8  # G: 2 Dense (kernel, bias); D: the same
    for x, y in zip(wa, wb):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("opt", ["adam", "sgd"])
def test_two_replicas_train_like_one_device(runs, opt):
    _assert_same_weights(runs, f"single_{opt}", f"dist_{opt}")
    np.testing.assert_allclose(runs[f"dist_{opt}/losses"], runs[f"single_{opt}/losses"], rtol=1e-5)
    assert int(runs[f"dist_{opt}/iterations"]) == STEPS  # one update per step, not one per replica


def test_per_replica_mean_is_wrong(runs):
    """The check can fail: a per-replica mean, summed over 2 replicas, doubles the gradient."""
    single, wrong = _weights(runs, "single_sgd"), _weights(runs, "wrong_sgd")
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(single, wrong))
    assert worst > 1e-3, worst
    with pytest.raises(AssertionError):
        _assert_same_weights(runs, "single_sgd", "wrong_sgd")
    # and the losses it reports are the sum of two means: twice the real ones
    np.testing.assert_allclose(
        runs["wrong_sgd/losses"][0], 2 * runs["single_sgd/losses"][0], rtol=1e-5
    )


def test_own_noise_is_seeded(runs):
    (a, b, other) = runs["own_noise/losses"]  # seeds 3, 3, 4; two steps each
    assert np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, other)


def test_two_cpu_devices_needs_a_fresh_process():
    # this process ran ops long ago (importing dcgan_lib does), without splitting the CPU
    if len(tf.config.list_logical_devices("CPU")) >= 2:
        pytest.skip("the CPU is already split in this process")
    with pytest.raises(RuntimeError, match="DCGAN_CPU_DEVICES"):
        dl.two_cpu_devices()


@pytest.mark.parametrize("value, ok", [("2", True), ("two", False)])
def test_cpu_devices_variable_splits_the_cpu_at_import(value, ok):
    code = (
        "import dcgan_lib as dl, tensorflow as tf\n"
        "print(len(tf.config.list_logical_devices('CPU')), dl.two_cpu_devices().num_replicas_in_sync)"
    )
    env = dict(os.environ, DCGAN_CPU_DEVICES=value)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    if ok:
        assert done.returncode == 0, done.stderr
        assert done.stdout.split()[-2:] == ["2", "2"]
        assert "WARNING: All log messages" not in done.stderr
    else:
        assert done.returncode != 0 and "DCGAN_CPU_DEVICES='two'" in done.stderr


def test_models_must_be_built_under_the_scope():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])  # one replica: enough to check scopes
    with pytest.raises(ValueError, match="strategy.scope"):
        dl.make_distributed_train_step(strategy, dl.make_gan("dense"), global_batch_size=8)
    with strategy.scope():
        gan = dl.make_gan("dense")
    step = dl.make_distributed_train_step(strategy, gan, global_batch_size=8)
    real = next(
        iter(
            strategy.experimental_distribute_dataset(
                tf.data.Dataset.from_tensor_slices(np.zeros((8, 28, 28, 1), "float32")).batch(8)
            )
        )
    )
    assert all(np.isfinite(float(v)) for v in step(real))
