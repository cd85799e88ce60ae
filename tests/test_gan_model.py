"""Chapter 3's library parts: the GAN subclass, the tutorial-style step,
checkpoints and callbacks (in-process, tiny data)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import random_digits as _images
from helpers import weights_of

import dcgan_lib as dl


def _trainable(model):
    return weights_of(model.trainable_variables)


def _changed(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize("name", ["dense", "tutorial", "upsample"])
def test_gan_fit_step_updates_both_models(name):
    keras.utils.set_random_seed(0)
    gan = dl.make_gan(name, seed=1)
    assert gan.bce.get_config()["from_logits"] is dl.MODELS[name].logits
    g0, d0 = _trainable(gan.generator), _trainable(gan.discriminator)
    ds = dl.resumable_dataset(_images(16), 8, seed=0)
    logs = gan.fit(ds, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False).history
    assert set(logs) == {"d_loss", "g_loss", "d_acc_real", "d_acc_fake"}
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert 0.0 <= logs["d_acc_real"][-1] <= 1.0 and 0.0 <= logs["d_acc_fake"][-1] <= 1.0
    assert _changed(g0, _trainable(gan.generator))
    assert _changed(d0, _trainable(gan.discriminator))
    assert int(gan.g_optimizer.iterations) == int(gan.d_optimizer.iterations) == 2
    images = gan(tf.zeros((3, gan.latent_dim)))
    assert images.shape == (3, 28, 28, 1)
    assert float(tf.reduce_min(images)) >= -1.0 and float(tf.reduce_max(images)) <= 1.0


def test_make_train_step_eager_and_function_agree_on_shapes():
    for tf_function in (False, True):
        g, d = dl.build_dense_generator(), dl.build_dense_discriminator()
        step = dl.make_train_step(
            g,
            d,
            keras.optimizers.Adam(1e-3),
            keras.optimizers.Adam(1e-3),
            d_logits=False,
            noise="uniform",
            seed=0,
            tf_function=tf_function,
        )
        assert isinstance(step, tf.types.experimental.PolymorphicFunction) == tf_function
        g0, d0 = _trainable(g), _trainable(d)
        d_loss, g_loss = step(tf.random.uniform((8, 28, 28, 1), -1, 1))
        assert d_loss.shape == () and g_loss.shape == ()
        assert np.isfinite(float(d_loss)) and np.isfinite(float(g_loss))
        assert _changed(g0, _trainable(g)) and _changed(d0, _trainable(d))


def test_noise_choice_and_generate_images():
    with pytest.raises(ValueError, match="noise"):
        dl.GAN(
            dl.build_dense_generator(),
            dl.build_dense_discriminator(),
            d_logits=False,
            noise="gaussian",
        )
    g = dl.build_dense_generator()
    a = dl.generate_images(g, 7, noise="uniform", seed=3, batch_size=3)
    b = dl.generate_images(g, 7, noise="uniform", seed=3)
    assert a.shape == (7, 28, 28, 1) and a.dtype == np.float32
    assert a.min() >= -1 and a.max() <= 1
    np.testing.assert_allclose(a, b, atol=1e-6)


def _fit(directory, epochs, images, *, restore):
    keras.utils.set_random_seed(7 if restore else 0)  # restored weights must not depend on it
    gan = dl.make_gan("dense", seed=5)
    ckpt = dl.GANCheckpoint(gan, directory)
    if restore:
        assert ckpt.restore()
    first = int(ckpt.epoch)
    saver = dl.CheckpointEvery(ckpt)
    gan.fit(
        dl.resumable_dataset(images, 32, seed=3, first_epoch=first),
        epochs=epochs,
        initial_epoch=first,
        steps_per_epoch=len(images) // 32,
        callbacks=[saver],
        verbose=0,
        shuffle=False,
    )
    return gan, ckpt


def test_checkpoint_resume_continues_exactly(tmp_path):
    images = _images(128)
    straight, ck_a = _fit(tmp_path / "a", 2, images, restore=False)
    _fit(tmp_path / "b", 1, images, restore=False)
    resumed, ck_b = _fit(tmp_path / "b", 2, images, restore=True)
    assert int(ck_a.epoch) == int(ck_b.epoch) == 2
    assert ck_b.step == int(resumed.d_optimizer.iterations) == 8
    for a, b in zip(
        straight.weights + straight.g_optimizer.variables + straight.d_optimizer.variables,
        resumed.weights + resumed.g_optimizer.variables + resumed.d_optimizer.variables,
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert ck_b.latest.endswith("ckpt-8")


def test_checkpoint_never_overwrites_by_surprise(tmp_path):
    _fit(tmp_path, 1, _images(64), restore=False)
    fresh = dl.GANCheckpoint(dl.make_gan("dense"), tmp_path)
    with pytest.raises(FileExistsError, match="restore"):
        fresh.save()
    other = dl.GANCheckpoint(dl.make_gan("tutorial"), tmp_path)
    with pytest.raises(ValueError, match="does not fit"):
        other.restore()
    with pytest.raises(FileExistsError):
        other.save()


def test_callbacks_history_budget_monitor_gif(tmp_path):
    gan = dl.make_gan("dense", seed=0)
    ckpt = dl.GANCheckpoint(gan, tmp_path / "ck")
    history = dl.EpochHistory(16, path=tmp_path / "history.json")
    monitor = dl.GANMonitor(seed=0)
    budget = dl.TimeBudget(0.0)  # stops after the very first step
    saver = dl.CheckpointEvery(ckpt)
    ds = dl.resumable_dataset(_images(64), 16, seed=0)
    gan.fit(
        ds,
        epochs=3,
        steps_per_epoch=4,
        callbacks=[history, monitor, budget, saver],
        verbose=0,
        shuffle=False,
    )
    assert budget.stopped and ckpt.step == 1
    assert int(ckpt.epoch) == 0 and len(saver.saved) == 1  # partial epoch: saved, not counted
    (row,) = history.rows
    assert row["complete"] is False and row["images"] == 16 and row["steps"] == 1
    assert (tmp_path / "history.json").is_file()
    assert monitor.epochs == [1] and monitor.frames[0].shape == (122, 122)
    assert monitor.samples[0].shape == (16, 28, 28, 1)
    gif = monitor.save_gif(tmp_path / "progress.gif")
    assert gif.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    with pytest.raises(ValueError, match="no frames"):
        dl.plotting.save_gif([], tmp_path / "empty.gif")


def test_one_step_everywhere():
    """GAN.train_step and make_train_step both run gan_step: same start, same noise, same result."""
    images = tf.random.uniform((8, 28, 28, 1), -1, 1, seed=1)
    results = []
    for way in ("fit", "function"):
        keras.utils.set_random_seed(3)
        gan = dl.make_gan("dense", seed=4)
        if way == "fit":
            gan.train_step(images)
        else:
            step = dl.make_train_step(
                gan.generator,
                gan.discriminator,
                gan.g_optimizer,
                gan.d_optimizer,
                d_logits=False,
                seed=4,
                tf_function=False,
            )
            step(images)
        results.append(weights_of(gan.generator) + weights_of(gan.discriminator))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_draw_noise_and_threshold():
    rng = np.random.default_rng(0)
    z = dl.models.draw_noise((1000, 3), "uniform", rng)
    assert isinstance(z, np.ndarray) and z.dtype == np.float32 and -1 <= z.min() < z.max() <= 1
    again = dl.models.draw_noise((1000, 3), "uniform", np.random.default_rng(0))
    np.testing.assert_array_equal(z, again)
    t = dl.models.draw_noise((4, 3), "normal", keras.random.SeedGenerator(0))
    assert tuple(t.shape) == (4, 3)
    s = dl.models.draw_noise((4, 3), "normal", tf.constant([1, 2], tf.int64))
    np.testing.assert_array_equal(
        s, dl.models.draw_noise((4, 3), "normal", tf.constant([1, 2], tf.int64))
    )
    with pytest.raises(ValueError, match="noise must be one of"):
        dl.models.draw_noise((2, 2), "gaussian")
    assert dl.models.threshold(True) == 0.0 and dl.models.threshold(False) == 0.5
