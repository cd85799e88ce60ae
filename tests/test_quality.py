"""dcgan_lib.quality (Chapter 4): the MNIST classifier, the FID, the classifier score, coverage."""

import re

import numpy as np
import pytest
from helpers import SHARED_MNIST

import dcgan_lib as dl
from dcgan_lib import quality


@pytest.fixture(scope="module")
def mnist(shared_mnist_path):
    return dl.load_mnist(shared_mnist_path, verbose=False)


def test_public_names_are_exported():
    assert quality.__all__ == ["classify", "evaluate_images", "real_data_floor"]
    for name in quality.__all__:
        assert getattr(dl, name) is getattr(quality, name)


def test_classifier_reaches_99_percent_on_the_full_test_set(mnist):
    _, (x_test, y_test) = mnist
    assert len(x_test) == 10_000
    probs = dl.classify(x_test)
    assert probs.shape == (10_000, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    accuracy = np.mean(probs.argmax(1) == y_test)
    assert accuracy >= 0.99
    with np.load(quality.CLASSIFIER_WEIGHTS, allow_pickle=False) as f:
        assert float(f["test_accuracy"]) == pytest.approx(accuracy, abs=1e-4)


def test_classifier_is_cached_and_features_have_the_documented_shape(mnist):
    assert quality.load_mnist_classifier() is quality.load_mnist_classifier()
    feats = quality._forward(mnist[1][0][:7], batch_size=3)[0]
    assert feats.shape == (7, 128) and feats.min() >= 0
    with pytest.raises(ValueError, match="batch_size"):
        dl.classify(mnist[1][0][:7], batch_size=0)


def test_fid_of_real_digits_is_small_and_of_noise_is_large(mnist, monkeypatch):
    (x_train, _), (x_test, _) = mnist
    n = 3000
    real = dl.evaluate_images(x_train[:n])
    noise = dl.evaluate_images(np.random.default_rng(0).uniform(-1, 1, (n, 28, 28, 1)))
    assert real["n"] == noise["n"] == n
    assert real["fid"] < 10
    assert noise["fid"] > 20 * real["fid"]
    assert real["classes_covered"] == 10 and real["classifier_score"] > 9
    assert noise["classes_covered"] < 10 and noise["classifier_score"] < 3
    assert sum(real["class_histogram"]) == n and len(real["class_histogram"]) == 10
    # The reference is the test set itself: it sits at distance ~0 from itself.
    assert dl.evaluate_images(x_test)["fid"] < 1e-3
    assert dl.evaluate_images(x_test[:500], reference=x_test[:500])["fid"] < 1e-6
    monkeypatch.setenv("DCGAN_MNIST", str(SHARED_MNIST))
    floor = dl.real_data_floor()
    assert 0 < floor < real["fid"] < 10


def test_report_is_a_dict_whose_str_ends_with_fid():
    result = quality.Report(
        fid=1.23456,
        classifier_score=9.512,
        classes_covered=10,
        class_histogram=[1000] * 10,
        n=10_000,
    )
    assert result == {
        "fid": 1.23456,
        "classifier_score": 9.512,
        "classes_covered": 10,
        "class_histogram": [1000] * 10,
        "n": 10_000,
    }
    first, last = str(result).splitlines()
    assert first == "predicted digits: " + " ".join(f"{d}:1000" for d in range(10))
    assert last == "fid=1.235 score=9.51 classes=10/10 n=10000"
    assert float(re.search(r"fid=([0-9.]+)", last).group(1)) == pytest.approx(1.235)


def test_evaluate_file_and_its_errors(mnist, tmp_path):
    x = mnist[1][0][:200]
    good = tmp_path / "samples.npz"
    np.savez(good, images=x)
    result = dl.evaluate_images(x)
    assert isinstance(result, quality.Report) and quality.evaluate_file(good) == result
    assert "fid=" in str(quality.evaluate_file(good)).splitlines()[-1]
    no_key = tmp_path / "no_key.npz"
    np.savez(no_key, samples=x)
    with pytest.raises(ValueError, match="no array 'images'"):
        quality.evaluate_file(no_key)
    bad_shape = tmp_path / "bad_shape.npz"
    np.savez(bad_shape, images=x.reshape(200, 784))
    with pytest.raises(ValueError, match="flattened"):
        quality.evaluate_file(bad_shape)
    with pytest.raises(FileNotFoundError):
        quality.evaluate_file(tmp_path / "absent.npz")
    not_npz = tmp_path / "text.npz"
    not_npz.write_text("hello")
    with pytest.raises(ValueError, match="could not be read"):
        quality.evaluate_file(not_npz)


def test_input_formats_give_the_same_result(mnist):
    x = mnist[1][0][:50]  # uint8 (50, 28, 28)
    expected = quality._forward(x)[0]
    for variant in (
        x[..., None],
        dl.to_model_range(x),
        dl.to_model_range(x)[..., 0],
        dl.to_model_range(x).astype(np.float64),
        x.astype(np.float32) / 127.5 - 1,
    ):
        np.testing.assert_allclose(quality._forward(variant)[0], expected, atol=1e-5)
    with pytest.raises(ValueError, match="one image"):  # to_model_range checks what goes in
        dl.classify(x[0])


def test_missing_or_mismatched_weights_say_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_mnist_classifier.py"):
        quality.load_mnist_classifier(tmp_path / "absent.npz")
    wrong = tmp_path / "wrong.npz"
    with np.load(quality.CLASSIFIER_WEIGHTS, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    np.savez(wrong, **{**arrays, "features.kernel": arrays["features.kernel"][:10]})
    with pytest.raises(ValueError, match="features.kernel.*train_mnist_classifier.py"):
        quality.load_mnist_classifier(wrong)
    del arrays["probs.bias"]
    np.savez(wrong, **arrays)
    with pytest.raises(ValueError, match="probs.bias.*missing.*train_mnist_classifier.py"):
        quality.load_mnist_classifier(wrong)


# --- Fréchet distance and classifier score ---------------------------------------------


def _fid(a, b):
    return quality.frechet_distance(*quality.feature_statistics(a), *quality.feature_statistics(b))


def test_frechet_distance_of_identical_and_shifted_gaussians():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2000, 16)) @ rng.standard_normal((16, 16))
    assert _fid(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = rng.standard_normal(16)
    assert _fid(a, a + shift) == pytest.approx(shift @ shift, rel=1e-6)
    b = rng.standard_normal((3000, 16))
    assert _fid(a, b) == pytest.approx(_fid(b, a), rel=1e-6)


def test_frechet_distance_matches_closed_form_and_refuses_bad_features():
    # Diagonal covariances: sum (m_a - m_b)^2 + sum (sqrt(v_a) - sqrt(v_b))^2.
    va, vb = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.0])
    ma, mb = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 1 + 4 + (1 + 1 + 9)
    assert quality.frechet_distance(ma, np.diag(va), mb, np.diag(vb)) == pytest.approx(expected)
    for a, b in [
        (np.zeros((1, 3)), np.zeros((5, 3))),
        (np.zeros((5, 3)), np.zeros((5, 4))),
        (np.full((5, 3), np.nan), np.zeros((5, 3))),
        (np.zeros(5), np.zeros(5)),
    ]:
        with pytest.raises(ValueError):
            _fid(a, b)


def test_classifier_score_bounds_and_coverage():
    perfect = np.eye(10)[np.arange(1000) % 10]
    assert quality.classifier_score(perfect) == pytest.approx(10.0)
    assert quality.classifier_score(np.eye(10)[np.zeros(100, int)]) == pytest.approx(1.0)
    assert quality.classifier_score(np.full((100, 10), 0.1)) == pytest.approx(1.0)
    rng = np.random.default_rng(2)
    random_probs = rng.dirichlet(np.full(10, 0.3), size=500)
    assert 1.0 <= quality.classifier_score(random_probs) <= 10.0
    two = np.eye(10)[np.r_[np.zeros(99, int), 7]]  # 99 zeros and one 7
    counts, covered = quality._class_counts(two)
    assert list(counts) == [99, 0, 0, 0, 0, 0, 0, 1, 0, 0]
    assert covered == 2  # 1% of 100 images is one image
    assert quality._class_counts(two, min_fraction=0.05)[1] == 1
    with pytest.raises(ValueError):
        quality._class_counts(two, min_fraction=0)
    with pytest.raises(ValueError):
        quality.classifier_score(np.full((3, 10), 0.5))  # rows do not sum to 1


# --- files and images evaluate must refuse, in one line naming the file (issue 14) ------------


@pytest.mark.parametrize("case", ["empty", "truncated", "crc", "huge", "text", "npy"])
def test_evaluate_file_refuses_unreadable_files_in_one_line(damaged_npz, case):
    path = damaged_npz({"images": np.zeros((4, 28, 28), np.uint8)})[case]
    with pytest.raises(ValueError) as err:
        quality.evaluate_file(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.count(str(path)) == 1 and "np.savez" in msg, msg
    assert "allow_pickle=`" not in msg and "pickled" not in msg


def test_evaluate_refuses_floats_in_0_1_and_directories(mnist, tmp_path):
    x = mnist[1][0][:20]
    with pytest.raises(ValueError, match=r"look like \[0, 1\] images.*2 \* x - 1"):
        dl.evaluate_images(x / np.float32(255))
    np.savez(tmp_path / "unit.npz", images=x / np.float32(255))
    with pytest.raises(ValueError, match="unit.npz: float images span"):
        quality.evaluate_file(tmp_path / "unit.npz")
    with pytest.raises(ValueError, match="is a directory"):
        quality.evaluate_file(tmp_path)


def test_a_large_sample_reports_every_ten_thousand_images(capsys):
    from dcgan_lib.quality import _forward

    _forward(np.zeros((10_000, 28, 28), np.uint8), batch_size=700)
    assert capsys.readouterr().out == ""  # 10,000 or fewer: silent
    _forward(np.zeros((20_300, 28, 28), np.uint8), batch_size=700)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["  classified 10,500 of 20,300 images", "  classified 20,300 of 20,300 images"]
