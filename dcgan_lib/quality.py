"""Sample quality through a fixed MNIST classifier (>= 99%, scripts/train_mnist_classifier.py).
The Fréchet distance of its 128 features is the course's FID: not comparable with Inception's."""

import functools
from pathlib import Path

import keras
import numpy as np

from .data import file_error, load_mnist, read_npz, to_model_range

__all__ = ["classify", "evaluate_images", "real_data_floor"]

CLASSIFIER_WEIGHTS = Path(__file__).with_name("_data") / "mnist_classifier.npz"
MIN_FID_IMAGES = 1000  # below 8 x 128 features the FID says little (the CLI warns): use 10,000
_RETRAIN = "Re-create it with `python scripts/train_mnist_classifier.py` (needs DCGAN_MNIST)."
_SAMPLES_HINT = (
    "Write samples with `python -m dcgan_lib sample RUN --n 10000 --out FILE.npz`, "
    "or np.savez(FILE, images=samples)."
)


def build_mnist_classifier() -> keras.Model:
    """The classifier, untrained: (N, 28, 28, 1) in [-1, 1] -> probabilities (N, 10)."""
    inputs = keras.Input((28, 28, 1), name="images")
    x = keras.layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)  # (N, 26, 26, 32)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)  # (N, 13, 13, 32)
    x = keras.layers.Conv2D(32, 3, activation="relu", name="conv2")(x)  # (N, 11, 11, 32)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)  # (N, 5, 5, 32)
    x = keras.layers.Flatten(name="flatten")(x)  # (N, 800)
    features = keras.layers.Dense(128, activation="relu", name="features")(x)
    x = keras.layers.Dropout(0.3, name="dropout")(features)
    probs = keras.layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, probs, name="mnist_classifier")


def _weight_keys(model) -> dict:
    """{'conv1.kernel': variable, ...}: the names under which the weights are stored."""
    return {f"{layer.name}.{v.name}": v for layer in model.layers for v in layer.weights}


@functools.lru_cache(maxsize=4)
def load_mnist_classifier(path=CLASSIFIER_WEIGHTS) -> keras.Model:
    """The trained classifier, cached: images -> [features (N, 128), probabilities (N, 10)]. A
    missing or unfit file: FileNotFoundError or ValueError saying how to re-create it."""
    stored = read_npz(path, hint=_RETRAIN)
    model = build_mnist_classifier()
    for key, var in _weight_keys(model).items():
        if (got := getattr(stored.get(key), "shape", "missing")) != tuple(var.shape):
            raise file_error(path, f"{key!r} is {got}, not {tuple(var.shape)}. {_RETRAIN}")
        var.assign(stored[key].astype(np.float32))
    return keras.Model(model.input, [model.get_layer("features").output, model.output])


def _forward(images, batch_size: int = 500):
    """(features (N, 128) >= 0, probabilities (N, 10)), float64, of images as for classify.
    Over 10,000 images: a line every 10,000 (``evaluate`` of a large sample takes a while)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    x, model, out = to_model_range(images), load_mnist_classifier(), []
    for i in range(0, len(x), batch_size):
        out.append(model(x[i : i + batch_size], training=False))
        done = min(i + batch_size, len(x))
        if len(x) > 10_000 and done // 10_000 > i // 10_000:  # crossed a multiple of 10,000
            print(f"  classified {done:,} of {len(x):,} images", flush=True)
    return [np.concatenate([np.asarray(o[k]) for o in out]).astype(np.float64) for k in (0, 1)]


def classify(images, batch_size: int = 500) -> np.ndarray:
    """p(y|x) of digits (N, 28, 28[, 1]): float64 (N, 10), rows sum to 1. Defined in Chapter 4.
    ``images``: uint8 0..255 or floats in [-1, 1], else ValueError (see to_model_range)."""
    return _forward(images, batch_size)[1]


def feature_statistics(features):
    """(mean (D,), covariance (D, D)), float64, of features (N, D), N >= 2."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2 or not np.all(np.isfinite(f)):
        raise ValueError(f"features must be finite, (N, D) with N >= 2; got shape {f.shape}.")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def frechet_distance(mean_a, cov_a, mean_b, cov_b) -> float:
    """||m_a - m_b||^2 + tr(C_a + C_b - 2 (C_a^1/2 C_b C_a^1/2)^1/2): the squared Fréchet distance
    of two Gaussians, by symmetric eigen decompositions (of feature_statistics: the FID)."""
    if np.shape(mean_a) != np.shape(mean_b) or np.shape(cov_a) != np.shape(cov_b):
        raise ValueError(f"feature widths differ: {np.shape(mean_a)} vs {np.shape(mean_b)}.")
    values, vectors = np.linalg.eigh(0.5 * (cov_a + cov_a.T))
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(0.5 * (middle + middle.T)), 0.0, None)).sum()
    diff = mean_a - mean_b
    return max(float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * tr_sqrt), 0.0)


@functools.lru_cache(maxsize=1)
def _reference():
    """(mean, covariance) of the MNIST test set's features, as stored by the training script."""
    stored = read_npz(CLASSIFIER_WEIGHTS)
    if "ref_mean" in stored and "ref_cov" in stored:
        return stored["ref_mean"].astype(np.float64), stored["ref_cov"].astype(np.float64)
    return feature_statistics(_forward(load_mnist(verbose=False)[1][0])[0])


def classifier_score(probs) -> float:
    """exp(E_x KL(p(y|x) || p(y))) of probabilities (N, K), in [1, K]: high when each image is
    classified confidently and all classes appear equally often (MNIST test digits: about 9.8)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"probs must be (N, K) probabilities, N >= 1, K >= 2; got {p.shape}.")
    if not np.all(np.isfinite(p)) or p.min() < 0 or np.abs(p.sum(axis=1) - 1).max() > 1e-3:
        raise ValueError("probs must be non-negative with each row summing to 1 (use classify()).")
    ratio = np.divide(p, p.mean(axis=0), out=np.ones_like(p), where=p > 0)
    kl = np.sum(np.where(p > 0, p * np.log(ratio), 0.0), axis=1)
    return float(np.clip(np.exp(kl.mean()), 1.0, p.shape[1]))


def _class_counts(probs, min_fraction: float = 0.01):
    """(images per predicted class: int64 (K,); how many classes have >= min_fraction of them)."""
    if not 0 < min_fraction <= 1:
        raise ValueError(f"min_fraction must be in (0, 1], got {min_fraction}.")
    counts = np.bincount(np.argmax(probs, axis=1), minlength=np.shape(probs)[1]).astype(np.int64)
    return counts, int(np.sum(counts >= min_fraction * counts.sum()))


class Report(dict):
    """evaluate_images' result; ``str()``: two lines, the last like ``fid=1.234 score=9.51 ...``."""

    def __str__(self):
        hist, n, classes = self["class_histogram"], self["n"], self["classes_covered"]
        digits = " ".join(f"{d}:{c}" for d, c in enumerate(hist))
        scores = f"fid={self['fid']:.3f} score={self['classifier_score']:.2f}"
        text = f"predicted digits: {digits}\n{scores} classes={classes}/{len(hist)} n={n}"
        if "accuracy" in self:  # Chapter 5: a conditional G's samples, digits asked for
            shares = enumerate(self["per_class"])
            asked = " ".join(f"{d}:{100 * a:.1f}" for d, a in shares if a == a)  # NaN: not asked
            text += f"\nread as asked: {100 * self['accuracy']:.2f}% (by digit asked: {asked})"
        return text


def evaluate_images(images, reference=None, *, batch_size=500, min_fraction=0.01) -> Report:
    """Score digits against the MNIST test set (or ``reference`` images). Defined in Chapter 4.
    ``images`` as for classify, N >= 2 (compare FIDs at equal N: 10,000). A dict to ``print``:
    fid (lower is better), classifier_score (1..10), classes_covered, class_histogram, n."""
    feats, probs = _forward(images, batch_size)
    counts, covered = _class_counts(probs, min_fraction)
    if reference is not None:
        reference = feature_statistics(_forward(reference, batch_size)[0])
    return Report(
        fid=frechet_distance(*feature_statistics(feats), *(reference or _reference())),
        classifier_score=classifier_score(probs),
        classes_covered=covered,
        class_histogram=[int(c) for c in counts],
        n=len(feats),
    )


def evaluate_file(path, **kwargs) -> Report:
    """:func:`evaluate_images` of the array ``images`` of an .npz, read safely: a missing file
    raises FileNotFoundError, anything else wrong a one-line ValueError naming it."""
    arrays = read_npz(path, hint=_SAMPLES_HINT)
    if "images" not in arrays:
        raise file_error(path, f"has no array 'images' (it has {sorted(arrays)}). {_SAMPLES_HINT}")
    try:
        report = evaluate_images(arrays["images"], **kwargs)
        if "labels" in arrays:  # Chapter 5: the digits a conditional G was asked for
            from .conditional import obedience

            report.update(obedience(arrays["images"], arrays["labels"]))
        return report
    except ValueError as err:
        raise file_error(path, err) from None


@functools.lru_cache(maxsize=2)
def real_data_floor(n: int = 10_000) -> float:
    """FID of the first ``n`` MNIST training digits against the test set. Defined in Chapter 4.
    What a perfect sampler scores with ``n`` images (not a bound); 4 x the floor is twice as far."""
    feats = _forward(load_mnist(verbose=False)[0][0][:n])[0]
    return frechet_distance(*feature_statistics(feats), *_reference())
