"""Tests of dcgan_lib.quality (Chapter 4): the MNIST classifier, FID, scores, D's metrics."""
import re
from pathlib import Path

import numpy as np
import pytest

import dcgan_lib as dl
from dcgan_lib import quality as metrics

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"


@pytest.fixture(scope="module")
def mnist():
    if not MNIST.is_file():
        pytest.skip(f"full MNIST not found at {MNIST}; these tests need the 60,000 + 10,000 digits")
    return dl.load_npz_mnist(MNIST)


# --- the classifier and the image-quality metrics -----------------------------------


def test_public_names_are_exported():
    for name in metrics.__all__:
        assert getattr(dl, name) is getattr(metrics, name)


def test_classifier_reaches_99_percent_on_the_full_test_set(mnist):
    _, (x_test, y_test) = mnist
    assert len(x_test) == 10_000
    probs = dl.classify(x_test)
    assert probs.shape == (10_000, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    accuracy = np.mean(probs.argmax(1) == y_test)
    assert accuracy >= 0.99
    with np.load(dl.CLASSIFIER_WEIGHTS, allow_pickle=False) as f:
        assert float(f["test_accuracy"]) == pytest.approx(accuracy, abs=1e-4)
    cm = dl.confusion_matrix(y_test, probs.argmax(1))
    assert cm.sum() == 10_000 and np.trace(cm) / cm.sum() == pytest.approx(accuracy)
    assert list(cm.sum(axis=1)) == list(np.bincount(y_test, minlength=10))


def test_classifier_is_cached_and_features_have_the_documented_shape(mnist):
    assert dl.load_mnist_classifier() is dl.load_mnist_classifier()
    feats = dl.classifier_features(mnist[1][0][:7], batch_size=3)
    assert feats.shape == (7, 128) and feats.min() >= 0


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
    monkeypatch.setenv("DCGAN_MNIST", str(MNIST))
    floor = dl.real_data_floor()
    assert 0 < floor < real["fid"] < 10


def test_format_report_ends_with_fid():
    result = {"fid": 1.23456, "classifier_score": 9.512, "classes_covered": 10,
              "class_histogram": [1000] * 10, "n": 10_000}
    last = dl.format_report(result).splitlines()[-1]
    assert last == "fid=1.235 score=9.51 classes=10/10 n=10000"
    assert float(re.search(r"fid=([0-9.]+)", last).group(1)) == pytest.approx(1.235)


def test_evaluate_file_and_its_errors(mnist, tmp_path):
    x = mnist[1][0][:200]
    good = tmp_path / "samples.npz"
    np.savez(good, images=x)
    assert dl.evaluate_file(good) == dl.evaluate_images(x)
    assert "fid=" in dl.format_report(dl.evaluate_file(good)).splitlines()[-1]
    no_key = tmp_path / "no_key.npz"
    np.savez(no_key, samples=x)
    with pytest.raises(ValueError, match="no array 'images'"):
        dl.evaluate_file(no_key)
    bad_shape = tmp_path / "bad_shape.npz"
    np.savez(bad_shape, images=x.reshape(200, 784))
    with pytest.raises(ValueError, match="flattened"):
        dl.evaluate_file(bad_shape)
    with pytest.raises(FileNotFoundError):
        dl.evaluate_file(tmp_path / "absent.npz")
    not_npz = tmp_path / "text.npz"
    not_npz.write_text("hello")
    with pytest.raises(ValueError, match="could not be read"):
        dl.evaluate_file(not_npz)


def test_input_formats_give_the_same_result(mnist):
    x = mnist[1][0][:50]                                    # uint8 (50, 28, 28)
    expected = dl.classifier_features(x)
    for variant in (x[..., None], dl.to_model_range(x), dl.to_model_range(x)[..., 0],
                    dl.to_model_range(x).astype(np.float64), x.astype(np.float32) / 127.5 - 1):
        np.testing.assert_allclose(dl.classifier_features(variant), expected, atol=1e-5)
    model_input = dl.as_model_images(x)
    assert model_input.dtype == np.float32 and model_input.shape == (50, 28, 28, 1)
    assert model_input.min() >= -1 and model_input.max() <= 1


@pytest.mark.parametrize("bad, match", [
    (np.zeros((28, 28), np.uint8), "one image"),
    (np.zeros((4, 1, 28, 28), np.uint8), "channels-first"),
    (np.zeros((4, 784), np.uint8), "flattened"),
    (np.zeros((4, 32, 32), np.uint8), "shape"),
    (np.zeros((0, 28, 28), np.uint8), "empty"),
    (np.zeros((4, 28, 28), np.int64), "dtype"),
    (np.zeros((4, 28, 28), bool), "dtype"),
    (np.full((4, 28, 28), 255.0), "0..255"),
    (np.full((4, 28, 28), -1.5), r"\[-1, 1\]"),
    (np.full((4, 28, 28), np.nan), "NaN"),
])
def test_bad_images_raise_value_error(bad, match):
    with pytest.raises(ValueError, match=match):
        dl.as_model_images(bad)


def test_missing_or_mismatched_weights_say_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_mnist_classifier.py"):
        dl.load_mnist_classifier(tmp_path / "absent.npz")
    wrong = tmp_path / "wrong.npz"
    with np.load(dl.CLASSIFIER_WEIGHTS, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["features.kernel"] = arrays["features.kernel"][:10]
    np.savez(wrong, **arrays)
    with pytest.raises(ValueError, match="features.kernel.*train_mnist_classifier.py"):
        dl.load_mnist_classifier(wrong)


# --- Fréchet distance and classifier score ---------------------------------------------


def test_frechet_distance_of_identical_and_shifted_gaussians():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2000, 16)) @ rng.standard_normal((16, 16))
    assert dl.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = rng.standard_normal(16)
    assert dl.frechet_distance(a, a + shift) == pytest.approx(shift @ shift, rel=1e-6)
    b = rng.standard_normal((3000, 16))
    assert dl.frechet_distance(a, b) == pytest.approx(dl.frechet_distance(b, a), rel=1e-6)


def test_frechet_distance_from_statistics_matches_closed_form():
    # Diagonal covariances: sum (m_a - m_b)^2 + sum (sqrt(v_a) - sqrt(v_b))^2.
    va, vb = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.0])
    ma, mb = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 1 + 4 + (1 + 1 + 9)
    got = dl.frechet_distance_from_statistics(ma, np.diag(va), mb, np.diag(vb))
    assert got == pytest.approx(expected)
    with pytest.raises(ValueError):
        dl.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError):
        dl.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


def test_classifier_score_bounds_and_coverage():
    perfect = np.eye(10)[np.arange(1000) % 10]
    assert dl.classifier_score(perfect) == pytest.approx(10.0)
    assert dl.classifier_score(np.eye(10)[np.zeros(100, int)]) == pytest.approx(1.0)
    assert dl.classifier_score(np.full((100, 10), 0.1)) == pytest.approx(1.0)
    rng = np.random.default_rng(2)
    random_probs = rng.dirichlet(np.full(10, 0.3), size=500)
    assert 1.0 <= dl.classifier_score(random_probs) <= 10.0
    two = np.eye(10)[np.r_[np.zeros(99, int), 7]]           # 99 zeros and one 7
    assert list(dl.class_histogram(two)) == [99, 0, 0, 0, 0, 0, 0, 1, 0, 0]
    assert dl.class_coverage(two) == 2                       # 1% of 100 images is one image
    assert dl.class_coverage(two, min_fraction=0.05) == 1
    with pytest.raises(ValueError):
        dl.classifier_score(np.full((3, 10), 0.5))          # rows do not sum to 1


# --- the discriminator as a binary classifier -----------------------------------------


def test_discriminator_confusion_by_hand():
    on_real = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.2])[:, None]  # D's (N, 1) outputs
    on_fake = np.array([0.1, 0.3, 0.55, 0.05])
    cm = dl.discriminator_confusion(on_real, on_fake)
    # 0.5 is not above the threshold: judged fake, as Keras' BinaryAccuracy does.
    assert cm == dl.BinaryConfusion(tp=4, fn=2, fp=1, tn=3)
    assert dl.discriminator_confusion(on_real, on_fake, threshold=0.25) == (5, 1, 2, 2)
    logits = np.log(on_real / (1 - on_real)), np.log(on_fake / (1 - on_fake))
    assert dl.discriminator_confusion(*logits, from_logits=True) == (4, 2, 1, 3)
    with pytest.raises(ValueError, match="from_logits"):
        dl.discriminator_confusion(*logits)


def test_binary_metrics_by_hand():
    m = dl.binary_metrics(dl.BinaryConfusion(tp=8, fn=2, fp=4, tn=6))
    assert m["accuracy"] == pytest.approx((8 + 6) / (8 + 4 + 2 + 6))
    assert m["precision"] == pytest.approx(8 / 12)
    assert m["recall"] == pytest.approx(8 / 10)
    assert m["f1"] == pytest.approx(2 * (8 / 12) * 0.8 / (8 / 12 + 0.8))
    assert m["specificity"] == pytest.approx(6 / 10)
    # Nothing judged real: precision, recall and F1 are 0 (no division by zero).
    none_real = dl.binary_metrics({"TP": 0, "FN": 5, "FP": 0, "TN": 5})
    assert none_real == {"accuracy": 0.5, "precision": 0.0, "recall": 0.0, "f1": 0.0,
                         "specificity": 1.0}
    with pytest.raises(ValueError):
        dl.binary_metrics(dl.BinaryConfusion(0, 0, 0, 0))


def test_roc_and_auc():
    fpr, tpr, thr = dl.roc_curve([0.9, 0.8, 0.7], [0.1, 0.2, 0.3])   # separable
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1) and thr[0] == np.inf
    assert dl.auc(fpr, tpr) == pytest.approx(1.0)
    assert dl.auc(*dl.roc_curve([0.1, 0.2], [0.8, 0.9])[:2]) == pytest.approx(0.0)
    # By hand, with a tie between a real and a fake image at 0.5.
    fpr, tpr, thr = dl.roc_curve([0.9, 0.5, 0.2], [0.5, 0.1])
    np.testing.assert_allclose(thr, [np.inf, 0.9, 0.5, 0.2, 0.1])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 2 / 3, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    assert dl.auc(fpr, tpr) == pytest.approx((2 + 1.5 + 1) / 6)   # P(real > fake), ties count 1/2
    rng = np.random.default_rng(3)
    real, fake = rng.random(4000), rng.random(4000)          # a guessing discriminator
    assert dl.auc(*dl.roc_curve(real, fake)[:2]) == pytest.approx(0.5, abs=0.03)
    real, fake = rng.integers(0, 5, 50), rng.integers(0, 5, 60)  # many ties
    pairwise = np.mean((real[:, None] > fake) + 0.5 * (real[:, None] == fake))
    assert dl.auc(*dl.roc_curve(real, fake)[:2]) == pytest.approx(pairwise)


def test_confusion_matrix_by_hand():
    cm = dl.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], n_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert dl.confusion_matrix([], [], n_classes=10).shape == (10, 10)
    with pytest.raises(ValueError):
        dl.confusion_matrix([0, 10], [0, 1])
    with pytest.raises(ValueError):
        dl.confusion_matrix([0, 1], [0])


# --- files and images evaluate must refuse, in one line naming the file (issue 14) ------------

@pytest.mark.parametrize("case", ["empty", "truncated", "crc", "huge", "text", "npy"])
def test_evaluate_file_refuses_unreadable_files_in_one_line(damaged_npz, case):
    path = damaged_npz({"images": np.zeros((4, 28, 28), np.uint8)})[case]
    with pytest.raises(ValueError) as err:
        dl.evaluate_file(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.count(str(path)) == 1 and "np.savez" in msg, msg
    assert "allow_pickle=`" not in msg and "pickled" not in msg


def test_evaluate_refuses_floats_in_0_1_and_directories(mnist, tmp_path):
    x = mnist[1][0][:20]
    with pytest.raises(ValueError, match=r"look like \[0, 1\] images.*2 \* x - 1"):
        dl.evaluate_images(x / np.float32(255))
    np.savez(tmp_path / "unit.npz", images=x / np.float32(255))
    with pytest.raises(ValueError, match="unit.npz: float images span"):
        dl.evaluate_file(tmp_path / "unit.npz")
    with pytest.raises(ValueError, match="is a directory"):
        dl.evaluate_file(tmp_path)
