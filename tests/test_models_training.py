import io

import keras
import numpy as np
import pytest

import dcgan_lib as dl


@pytest.mark.parametrize("name", sorted(dl.MODELS))
def test_model_shapes_and_ranges(name):
    spec = dl.MODELS[name]
    g, d, logits = spec.generator(), spec.discriminator(), spec.logits
    channels = 2 if spec.labelled else 1  # Chapter 5: labelled images, digit and label map
    assert g.output_shape == (None, 28, 28, channels)
    assert d.output_shape == (None, 1)
    z = np.random.default_rng(0).standard_normal((8, g.input_shape[-1])).astype("float32") * 5
    images = g(z, training=False).numpy()
    assert images.shape == (8, 28, 28, channels)
    assert images.min() >= -1 and images.max() <= 1
    out = d(images, training=False).numpy()
    assert out.shape == (8, 1)
    if not logits:
        assert (out > 0).all() and (out < 1).all()


def test_dense_models_follow_the_slides():
    g, d = dl.build_dense_generator(), dl.build_dense_discriminator()
    slopes = [
        layer.negative_slope
        for layer in g.layers + d.layers
        if isinstance(layer, keras.layers.LeakyReLU)
    ]
    assert slopes == pytest.approx([0.01, 0.01])
    # 100*128+128 + 128*784+784, and 784*128+128 + 128+1
    assert g.count_params() == 114_064 and d.count_params() == 100_609


def test_slides_recipe_leaves_d_untrained_under_keras3():
    """The seed code's order: compile D, freeze D, compile GAN -> D never trains."""
    g, d = dl.build_dense_generator(), dl.build_dense_discriminator()
    d.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam())
    d.trainable = False
    gan = dl.build_gan(g, d)
    gan.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam())
    x = np.zeros((16, 28, 28, 1), np.float32)
    with pytest.warns(UserWarning, match="trainable"):
        changed = dl.weights_changed(lambda: d.train_on_batch(x, np.ones((16, 1))), d=d)
    assert changed == {"d": False}


def test_compile_gan_steps_change_only_their_own_weights():
    g, d = dl.build_dense_generator(), dl.build_dense_discriminator()
    gan = dl.compile_gan(g, d)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    z = rng.standard_normal((32, 100)).astype("float32")
    fake = g(z).numpy()
    for _ in range(2):  # the first calls build the train functions; the second use them
        assert dl.weights_changed(lambda: dl.train_discriminator_step(d, real, fake), g=g, d=d) == {
            "g": False,
            "d": True,
        }
        assert dl.weights_changed(lambda: dl.train_generator_step(gan, d, z), g=g, d=d) == {
            "g": True,
            "d": False,
        }


def test_bn_moving_stats_are_not_counted_as_training():
    d = dl.build_upsample_discriminator()
    x = np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    assert dl.weights_changed(lambda: d(x, training=True), d=d) == {"d": False}


def test_train_with_train_on_batch_learns_and_reports():
    keras.utils.set_random_seed(0)
    (x, _), _ = dl.data._load_npz_mnist(dl.data._BUNDLED_SUBSET)
    X = dl.to_model_range(x)
    g, d = dl.build_dense_generator(), dl.build_dense_discriminator()
    gan = dl.compile_gan(g, d)
    rec = dl.Progress(steps=60, fixed_z=np.zeros((16, 100), np.float32), out=io.StringIO())
    hist = dl.train_with_train_on_batch(
        g, d, gan, X, iterations=60, batch_size=32, report_every=25, on_report=rec, verbose=False
    )
    assert hist["iteration"] == [25, 50, 60]
    assert rec.steps == [25, 50, 60] and rec.samples[0].shape == (16, 28, 28, 1)
    assert all(0 <= a <= 1 for a in hist["d_accuracy"])
    # D learns to separate real from noise-like fakes quickly
    assert hist["d_accuracy"][-1] > 0.8
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        dl.train_with_train_on_batch(g, d, gan, X * 255, iterations=1)


def test_blog_models_are_the_blogs_code():
    """Source 001's G and D, layer for layer: 0.42 M parameters, as the blog says ("0.4M")."""
    g, d = dl.build_blog_generator(), dl.build_blog_discriminator()
    # Dense 100*1568+1568; convs 32->64, 64->128, 128->64, 64->1 (3x3 + bias); 3 BN layers x 4
    assert g.count_params() == 158_368 + 18_496 + 73_856 + 73_792 + 577 + 4 * (64 + 128 + 64)
    # convs 1->32, 32->64, 64->128 (3x3 + bias); 3 BN layers x 4; Dense 128->1
    assert d.count_params() == 320 + 18_496 + 73_856 + 4 * (32 + 64 + 128) + 129
    assert g.count_params() + d.count_params() == 419_810
    bns = [
        layer for layer in g.layers + d.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert len(bns) == 6 and {layer.momentum for layer in bns} == {0.8}
    strides = [layer.strides for layer in d.layers if isinstance(layer, keras.layers.Conv2D)]
    assert strides == [(2, 2)] * 3


def test_train_with_train_on_batch_stops_at_a_time_budget():
    X = np.zeros((64, 28, 28, 1), np.float32)
    g, d = dl.build_dense_generator(), dl.build_dense_discriminator()
    gan = dl.compile_gan(g, d)
    hist = dl.train_with_train_on_batch(
        g,
        d,
        gan,
        X,
        iterations=10**6,
        batch_size=16,
        report_every=10**6,
        verbose=False,
        seconds=1e-9,
    )
    assert hist["iteration"] == [1] and hist["seconds"][0] > 0


def test_trainable_is_read_again_when_a_new_shape_retraces():
    """Keras 3 reads trainable variables at every trace, not only the first (Chapters 1-2)."""
    d = dl.build_dense_discriminator()
    d.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam())
    x, y = np.zeros((8, 28, 28, 1), np.float32), np.ones((8, 1), np.float32)
    d.train_on_batch(x, y)  # traced with D trainable
    d.trainable = False
    assert dl.weights_changed(lambda: d.train_on_batch(x, y), d=d) == {"d": True}
    with pytest.warns(UserWarning, match="trainable"):  # a new shape: traced again, frozen
        assert dl.weights_changed(lambda: d.train_on_batch(x[:5], y[:5]), d=d) == {"d": False}


def test_steps_return_what_the_loop_records():
    g, d = dl.build_dense_generator(), dl.build_dense_discriminator()
    gan = dl.compile_gan(g, d)
    real = np.ones((8, 28, 28, 1), np.float32)
    for mixed in (True, False):
        loss, acc_real, acc_fake = dl.train_discriminator_step(d, real, -real, mixed=mixed)
        assert np.isfinite(loss) and 0 <= acc_real <= 1 and 0 <= acc_fake <= 1
    g_loss, g_acc = dl.train_generator_step(gan, d, np.zeros((8, 100), np.float32))
    assert np.isfinite(g_loss) and 0 <= g_acc <= 1


def test_loop_takes_other_steps_and_uniform_noise():
    """Chapter 1's exercises swap the steps (d_step=, g_step=) and the noise (noise=)."""
    g, d = dl.build_dense_generator(), dl.build_dense_discriminator()
    gan = dl.compile_gan(g, d)
    calls, noises = [], []

    def my_d_step(discriminator, real, fake, *, mixed):
        calls.append(len(real))
        return 0.5, 1.0, 0.0

    def my_g_step(gan, discriminator, z):
        noises.append(z)
        return 0.25, 0.5

    hist = dl.train_with_train_on_batch(
        g,
        d,
        gan,
        np.zeros((32, 28, 28, 1), np.float32),
        iterations=3,
        batch_size=4,
        report_every=3,
        verbose=False,
        noise="uniform",
        d_step=my_d_step,
        g_step=my_g_step,
    )
    assert calls == [4, 4, 4] and hist["d_loss"] == [0.5] and hist["g_accuracy"] == [0.5]
    assert hist["d_accuracy"] == [0.5] and hist["real_accuracy"] == [1.0]
    z = np.concatenate(noises)
    assert z.min() >= -1 and z.max() <= 1 and z.min() < -0.9  # U(-1, 1), not N(0, 1)
    with pytest.raises(ValueError, match="noise"):
        dl.train_with_train_on_batch(
            g,
            d,
            gan,
            np.zeros((8, 28, 28, 1), np.float32),
            iterations=1,
            batch_size=4,
            noise="gaussian",
        )


def test_tutorial_builders_take_the_exercises_options():
    """Chapter 2's exercises: a ReLU generator, a D with batch norm instead of dropout."""
    g = dl.build_tutorial_generator(negative_slope=0.0)
    assert {
        layer.negative_slope for layer in g.layers if isinstance(layer, keras.layers.LeakyReLU)
    } == {0.0}
    d = dl.build_tutorial_discriminator(batch_norm=True)
    kinds = {type(layer).__name__ for layer in d.layers}
    assert "BatchNormalization" in kinds and "Dropout" not in kinds
    assert d.output_shape == (None, 1)
    assert dl.build_tutorial_generator().count_params() == 2_330_944


def test_progress_keeps_and_shows_its_grids():
    import matplotlib

    matplotlib.use("Agg")
    rec = dl.Progress(fixed_z=np.zeros((16, 100), np.float32), out=io.StringIO())
    with pytest.raises(ValueError, match="on_report"):
        rec.show()
    g = dl.build_dense_generator()
    for step in (10, 20, 30):
        rec(step, g)
    rec.show(max_panels=2)
    assert rec.steps == [10, 20, 30]
