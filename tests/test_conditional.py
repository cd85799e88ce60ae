"""Chapter 5's conditional GAN: labelled images, its models trained by the course's own GAN,
the obedience metric, interpolation, the explorer widget, and the CLI's --model conditional."""

import json
import math
import types

import keras
import numpy as np
import pytest
from helpers import needs_mnist, random_digits, run_cli, weights_of

import dcgan_lib as dl
from dcgan_lib import cli
from dcgan_lib import conditional as cgan


def test_label_map_round_trips_through_the_model_range():
    labels = np.arange(10)
    maps = cgan.label_map(labels)
    assert maps.shape == (10, 28, 28) and maps.dtype == np.uint8
    assert (maps == maps[:, :1, :1]).all()  # one value per map
    scaled = dl.to_model_range(maps)  # (10, 28, 28, 1), 0 -> -1, 9 -> 1
    assert scaled[0].max() == -1.0 and scaled[9].min() == 1.0
    pairs = np.concatenate([np.zeros_like(scaled), scaled], -1)
    assert np.asarray(cgan.read_labels(pairs)).tolist() == labels.tolist()


@pytest.mark.parametrize("bad", [[1.5], [10], [-1], [[1, 2]], ["7"]])
def test_labels_that_are_not_digits_are_refused(bad):
    with pytest.raises(ValueError, match="whole numbers 0..9"):
        cgan.label_map(np.array(bad))


def test_labelled_dataset_keeps_each_image_with_its_label():
    images = random_digits(200, seed=1)
    labels = np.arange(200) % 10
    first = next(iter(cgan.labelled_dataset(images, labels, 50, seed=3)))
    assert first.shape == (50, 28, 28, 2)
    # find each image of the batch among the inputs: its label must travel with it
    flat = dl.to_model_range(images).reshape(200, -1)
    for pair in np.asarray(first):
        (index,) = np.flatnonzero((flat == pair[..., 0].reshape(-1)).all(axis=1))[:1]
        assert int(np.asarray(cgan.read_labels(pair[None]))[0]) == labels[index]
    with pytest.raises(ValueError, match="one label each"):
        cgan.labelled_dataset(images, labels[:-1], 50)


def test_resumed_labelled_batches_continue_where_they_stopped():
    images, labels = random_digits(120, seed=2), np.arange(120) % 10
    whole = cgan.labelled_dataset(images, labels, 40, seed=5).take(5)
    resumed = cgan.labelled_dataset(images, labels, 40, seed=5, first_epoch=1, skip=1).take(2)
    assert np.array_equal(np.stack(list(whole))[4:], np.stack(list(resumed))[:1])


def test_models_shapes_and_parameters():
    g = cgan.build_generator()
    assert g.output_shape == (None, 28, 28, 1)
    pairs = cgan.build_pair_generator(g, seed=0)
    assert pairs.output_shape == (None, 28, 28, 2)
    z = np.random.default_rng(0).standard_normal((30, 64)).astype("float32")
    out = np.asarray(pairs(z))
    asked = np.asarray(cgan.read_labels(out))
    assert asked.min() >= 0 and asked.max() <= 9 and len(set(asked.tolist())) > 3
    # the image channel is G(z, asked): the pair generator adds no image of its own
    assert np.allclose(out[..., :1], np.asarray(g([z, asked])), atol=1e-6)
    # its label maps are exactly those of real data: D cannot tell fakes by the label channel
    assert np.array_equal(out[..., 1], dl.to_model_range(cgan.label_map(asked))[..., 0])
    for how, channels in (("projection", 1), ("label_map", 11)):
        d = cgan.build_discriminator(how)
        assert d.output_shape == (None, 1)
        assert d(out).shape == (30, 1)
        first_conv = next(layer for layer in d.layers if isinstance(layer, keras.layers.Conv2D))
        assert first_conv.kernel.shape[2] == channels
    with pytest.raises(ValueError, match="projection"):
        cgan.build_discriminator("concat")


def test_discriminator_reads_the_label():
    """Changing only the label map changes D's verdict (a D blind to y would let G ignore y)."""
    keras.utils.set_random_seed(0)
    for how in ("projection", "label_map"):
        d = cgan.build_discriminator(how)
        image = dl.to_model_range(random_digits(1))
        as_3 = np.concatenate([image, dl.to_model_range(cgan.label_map([3]))], -1)
        as_8 = np.concatenate([image, dl.to_model_range(cgan.label_map([8]))], -1)
        assert abs(float(d(as_3)[0, 0]) - float(d(as_8)[0, 0])) > 1e-4, how


def test_the_course_gan_trains_both_conditional_players():
    """make_gan's GAN runs the same gan_step: one fit step moves G's label embedding and D."""
    gan = dl.make_gan("conditional", seed=0)
    images, labels = random_digits(64, seed=4), np.arange(64) % 10
    g = gan.generator.get_layer("conditional_generator")
    embedding = next(w for w in g.weights if "embedding" in w.path)
    before_g, before_d = embedding.numpy().copy(), weights_of(gan.discriminator)
    data = cgan.labelled_dataset(images, labels, 64)
    gan.fit(data, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
    assert not np.allclose(before_g, embedding.numpy())
    assert any(not np.allclose(a, b) for a, b in zip(before_d, weights_of(gan.discriminator)))
    assert gan.ema_generator is not None  # the weight average of Appendix A works here too


def test_cli_rates_fall_over_the_last_share_of_the_time_budget():
    """Issue 16: the labelled model's rates, full until 70 % of --seconds, fall linearly to 10 %
    at the end; no budget keeps them full (a resumed session too); other models get none."""
    gan = dl.make_gan("conditional", seed=0)
    budget = types.SimpleNamespace(seconds=100.0, used=0.0)
    (tail,) = cgan.rate_tails("conditional", budget)
    tail.set_model(gan)
    for used, scale in ((0, 1.0), (70, 1.0), (85, 0.55), (100, 0.1), (130, 0.1), (10, 1.0)):
        budget.used = float(used)
        tail.on_train_batch_begin(0)
        assert float(gan.d_optimizer.learning_rate) == pytest.approx(3e-4 * scale)
        assert float(gan.g_optimizer.learning_rate) == pytest.approx(6e-4 * scale)
    budget.seconds, budget.used = math.inf, 50.0
    (tail,) = cgan.rate_tails("conditional", budget, learning_rate=1e-3)  # as --learning-rate
    tail.set_model(gan)
    tail.on_train_batch_begin(0)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(1e-3)
    assert cgan.rate_tails("fast", budget) == []
    with pytest.raises(ValueError, match="share and end"):
        cgan.LearningRateTail(budget, (1e-3, 1e-3), share=0.0)


def test_generate_digits_obeys_shape_seed_and_generator_kind():
    pairs = cgan.build_pair_generator(seed=0)
    digits = np.array([3, 3, 7])
    a = cgan.generate_digits(pairs, digits, seed=1)
    b = cgan.generate_digits(pairs.get_layer("conditional_generator"), digits, seed=1)
    assert a.shape == (3, 28, 28, 1) and a.dtype == np.float32
    assert np.array_equal(a, b) and -1 <= a.min() and a.max() <= 1
    with pytest.raises(ValueError, match="0..9"):
        cgan.generate_digits(pairs, [12])


def test_obedience_counts_requested_against_read():
    (x, y), _ = dl.load_mnist(verbose=False)
    result = cgan.obedience(x[:300], y[:300])  # real digits "asked for" their own labels
    assert result["matrix"].shape == (10, 10) and result["matrix"].sum() == 300
    assert result["accuracy"] > 0.95
    assert np.allclose(result["matrix"].sum(1), np.bincount(y[:300], minlength=10))
    wrong = cgan.obedience(x[:300], (y[:300] + 1) % 10)  # every label shifted: read otherwise
    assert wrong["accuracy"] < 0.05
    with pytest.raises(ValueError, match="one label each"):
        cgan.obedience(x[:10], y[:9])


def test_slerp_keeps_norms_between_the_ends_and_lerp_does_not():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(64), rng.standard_normal(64)
    path = cgan.slerp(z0, z1, 9)
    assert path.shape == (9, 64) and np.allclose(path[0], z0, atol=1e-5)
    assert np.allclose(path[-1], z1, atol=1e-5)
    norms = np.linalg.norm(path, axis=1)
    low, high = sorted((np.linalg.norm(z0), np.linalg.norm(z1)))
    assert norms.min() >= low - 1e-4 and norms.max() <= high + 1e-4
    middle = np.linalg.norm((z0 + z1) / 2)
    assert middle < 0.8 * low  # the straight line's midpoint is far inside the shell
    assert np.allclose(cgan.slerp(z0, 2 * z0, 3)[1], 1.5 * z0, atol=1e-5)  # same direction


def test_latent_explorer_redraws_when_the_controls_move():
    g = cgan.build_generator()
    z = np.zeros(64, np.float32)
    widget = cgan.latent_explorer(g, z, directions=2)
    picker, first, _ = widget.children[0].children
    image_7 = widget.draw(7, 0.0, 0.0)
    assert image_7.shape == (28, 28)
    assert not np.allclose(image_7, widget.draw(1, 0.0, 0.0))  # the digit matters
    assert not np.allclose(image_7, widget.draw(7, 2.0, 0.0))  # so does the slider
    picker.value, first.value = 1, 2.0  # what a click and a drag do: no error
    assert widget.shown == (1, 2.0, 0.0)


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "cond"
    result = run_cli(
        "train", "--model", "conditional", "--out", out, "--images", 256, "--epochs", 1
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@needs_mnist
def test_cli_trains_samples_a_digit_and_evaluates_obedience(conditional_run, tmp_path):
    assert json.loads((conditional_run / "run.json").read_text())["model"] == "conditional"
    target = tmp_path / "sevens.npz"
    result = run_cli("sample", conditional_run, "--n", 30, "--digit", 7, "--out", target)
    assert result.returncode == 0, result.stderr
    with np.load(target) as f:
        assert f["images"].shape == (30, 28, 28, 1) and (f["labels"] == 7).all()
    mixed = tmp_path / "mixed.npz"
    assert run_cli("sample", conditional_run, "--n", 20, "--out", mixed).returncode == 0
    with np.load(mixed) as f:
        assert f["labels"].tolist() == [i % 10 for i in range(20)]
    result = run_cli("evaluate", mixed)
    assert result.returncode == 0, result.stderr
    assert "read as asked:" in result.stdout and "by digit asked: 0:" in result.stdout


@needs_mnist
def test_cli_refuses_a_digit_it_cannot_ask_for(conditional_run, tmp_path, capsys):
    result = run_cli(
        "sample", conditional_run, "--n", 5, "--digit", 10, "--out", tmp_path / "a.npz"
    )
    assert result.returncode == 2 and "from 0 to 9" in result.stderr
    asked = ["sample", str(conditional_run), "--n", "5", "--out", str(tmp_path / "c.npz")]
    assert cli.main([*asked, "--rejection", "on"]) == 2  # D's rejection: for models without labels
    assert "--rejection on: 'conditional' draws digits on request" in capsys.readouterr().err
    dense = tmp_path / "dense"
    assert run_cli("train", "--model", "dense", "--out", dense, "--images", 128,
                   "--epochs", 1).returncode == 0  # fmt: skip
    result = run_cli("sample", dense, "--n", 5, "--digit", 3, "--out", tmp_path / "b.npz")
    assert result.returncode == 2 and "not conditional" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "b.npz").exists()
