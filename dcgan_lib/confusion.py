"""Measuring GANs: what the discriminator sees, and what a digit classifier sees.

Defined in Chapter 4 ("What the discriminator sees").

Two kinds of measurement live here.

**The discriminator as a binary classifier**, with *real* as the positive
class: :func:`discriminator_confusion` counts TP (real judged real), FN (real
judged fake), FP (fake judged real) and TN (fake judged fake);
:func:`binary_metrics` turns them into accuracy, precision, recall and F1;
:func:`roc_curve` and :func:`auc` look at every threshold at once.
:func:`confusion_matrix` is the 10x10 table for a digit classifier.

**Sample quality through a fixed MNIST classifier** (a small CNN trained by
``scripts/train_mnist_classifier.py``, shipped as plain numpy arrays in
``dcgan_lib/_data/mnist_classifier.npz``, >= 99% test accuracy):

- :func:`classifier_features`: its penultimate layer, (N, 128) per image;
- :func:`classify`: its class probabilities, (N, 10);
- :func:`frechet_distance`: the Fréchet distance between two sets of
  features, each summarised by a Gaussian (mean, covariance). Computed with
  *these* features it is an MNIST analogue of the FID (which uses
  Inception-v3 features); its numbers are not comparable with published FIDs;
- :func:`classifier_score`: exp(E_x KL(p(y|x) || p(y))), the analogue of the
  Inception Score: 1 (worst) to 10 (confident and all digits equally often);
- :func:`class_histogram`, :func:`class_coverage`: which digits are produced;
- :func:`evaluate_images`, :func:`evaluate_file`, :func:`format_report`: all of
  it at once, against the MNIST test set (10,000 digits) by default;
- :func:`real_data_floor`: the same distance between 10,000 *real* training
  digits and the test set: what a perfect sampler is expected to score at that
  sample size (a yardstick, not a bound; a squared distance, as the FID is).

Images go in as uint8 (N, 28, 28[, 1]) in 0..255 or float (N, 28, 28[, 1]) in
[-1, 1] (the generator's tanh output); see :func:`as_model_images`.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._startup import import_tensorflow
from .data import _file_error, _read_npz

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

__all__ = [
    "CLASSIFIER_WEIGHTS",
    "build_mnist_classifier",
    "load_mnist_classifier",
    "as_model_images",
    "classifier_features",
    "classify",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "reference_statistics",
    "classifier_score",
    "class_histogram",
    "class_coverage",
    "evaluate_images",
    "evaluate_file",
    "format_report",
    "real_data_floor",
    "BinaryConfusion",
    "discriminator_confusion",
    "binary_metrics",
    "roc_curve",
    "auc",
    "confusion_matrix",
]

CLASSIFIER_WEIGHTS = Path(__file__).with_name("_data") / "mnist_classifier.npz"
_TRAIN_SCRIPT = "python scripts/train_mnist_classifier.py"
N_CLASSES = 10
FEATURE_DIM = 128
_BATCH = 500
# Below this many images the Fréchet distance says little: the covariance of 128 features
# estimated from N images is singular for N <= 128 and strongly biased upward until N is many
# times 128. 1,000 (about 8 x 128) is where the CLI warns; compare runs at 10,000.
MIN_FID_IMAGES = 1000
_SAMPLES_HINT = ("Write samples with `python -m dcgan_lib sample RUN --n 10000 --out FILE.npz`, "
                 "or np.savez(FILE, images=samples).")


# --- the classifier ------------------------------------------------------------

def build_mnist_classifier() -> keras.Model:
    """The MNIST classifier's architecture, untrained (Chapter 4).

    (N, 28, 28, 1) in [-1, 1] -> class probabilities (N, 10):
    Conv(32, 3x3, ReLU) -> MaxPool(2) -> Conv(32, 3x3, ReLU) -> MaxPool(2) ->
    Flatten (800) -> Dense(128, ReLU) "features" -> Dropout(0.3) ->
    Dense(10, softmax) "probs". The 128 activations of "features" are what
    :func:`classifier_features` returns. Dropout acts only while training.
    """
    inputs = keras.Input((28, 28, 1), name="images")
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)   # (N, 26, 26, 32)
    x = layers.MaxPooling2D(2, name="pool1")(x)                         # (N, 13, 13, 32)
    x = layers.Conv2D(32, 3, activation="relu", name="conv2")(x)        # (N, 11, 11, 32)
    x = layers.MaxPooling2D(2, name="pool2")(x)                         # (N, 5, 5, 32)
    x = layers.Flatten(name="flatten")(x)                               # (N, 800)
    features = layers.Dense(FEATURE_DIM, activation="relu", name="features")(x)  # (N, 128)
    x = layers.Dropout(0.3, name="dropout")(features)
    probs = layers.Dense(N_CLASSES, activation="softmax", name="probs")(x)       # (N, 10)
    return keras.Model(inputs, probs, name="mnist_classifier")


def _weight_keys(model) -> dict:
    """{'conv1.kernel': variable, ...}: the names under which weights are stored."""
    keys = {}
    for layer in model.layers:
        for var in layer.weights:
            keys[f"{layer.name}.{var.name}"] = var
    return keys


def _missing_weights(path, problem: str) -> Exception:
    msg = (f"MNIST classifier weights {path}: {problem}. Re-create them with "
           f"`{_TRAIN_SCRIPT}` (needs the full MNIST; set DCGAN_MNIST).")
    return FileNotFoundError(msg) if "does not exist" in problem else ValueError(msg)


@functools.lru_cache(maxsize=4)
def _load(path: str):
    """(classifier, two-output model images -> (features, probs), npz contents)."""
    if not Path(path).is_file():
        raise _missing_weights(path, "the file does not exist")
    try:
        with np.load(path, allow_pickle=False) as f:
            stored = {k: f[k] for k in f.files}
    except (OSError, ValueError) as err:
        raise _missing_weights(path, f"cannot be read as an .npz ({err})") from None
    model = build_mnist_classifier()
    for key, var in _weight_keys(model).items():
        if key not in stored:
            raise _missing_weights(path, f"it lacks the array {key!r}")
        value = stored[key]
        if tuple(value.shape) != tuple(var.shape):
            raise _missing_weights(
                path, f"{key!r} has shape {value.shape}, the architecture wants {tuple(var.shape)}")
        var.assign(value.astype(np.float32))
    both = keras.Model(model.input, [model.get_layer("features").output, model.output],
                       name="mnist_classifier_features_and_probs")
    return model, both, stored


def load_mnist_classifier(path=None) -> keras.Model:
    """The trained MNIST classifier (Chapter 4): (N, 28, 28, 1) in [-1, 1] -> (N, 10) probabilities.

    Built by :func:`build_mnist_classifier`, weights set from ``path`` (default
    :data:`CLASSIFIER_WEIGHTS`, read with ``allow_pickle=False``). Cached: every
    call with the same path returns the same model. A missing file raises
    ``FileNotFoundError``; one whose arrays do not fit the architecture raises
    ``ValueError``; both say to run ``scripts/train_mnist_classifier.py``.
    Its test accuracy is stored in the file: ``np.load(path)["test_accuracy"]``.
    """
    return _load(_resolve(path))[0]


def _resolve(path) -> str:
    return str(Path(CLASSIFIER_WEIGHTS if path is None else path).expanduser().resolve())


# --- images in -------------------------------------------------------------------

def as_model_images(images) -> np.ndarray:
    """Any digit batch -> float32 (N, 28, 28, 1) in [-1, 1], the classifier's input.

    Accepts numpy arrays or tensors of shape (N, 28, 28) or (N, 28, 28, 1),
    either uint8 in 0..255 (MNIST's own pixels; mapped by x / 127.5 - 1 exactly
    as :func:`dcgan_lib.to_model_range` does) or floats in [-1, 1] (a
    tanh generator's output; values up to 1e-3 outside are clipped). Raises
    ``ValueError`` for other shapes (a single (28, 28) image, channels-first,
    flattened 784-vectors), for an empty batch, for other integer or bool
    dtypes, for NaN/inf, and for floats outside [-1, 1] (such as 0..255 floats).
    Floats with no pixel below 0 are refused too: they are almost surely in
    [0, 1] (in [-1, 1] a digit's background is -1); rescale them with
    ``2 * x - 1`` first.
    """
    try:
        x = np.asarray(images)
    except Exception as err:  # noqa: BLE001 - ragged lists and the like
        raise ValueError(f"images could not be turned into an array: {err}") from None
    shape = tuple(x.shape)
    if x.ndim == 3 and shape[1:] == (28, 28):
        x = x[..., None]
    elif not (x.ndim == 4 and shape[1:] == (28, 28, 1)):
        hint = ""
        if shape == (28, 28) or shape == (28, 28, 1):
            hint = " This is one image: add a batch axis (images[None])."
        elif x.ndim == 4 and shape[1:] == (1, 28, 28):
            hint = " This looks channels-first: use np.moveaxis(images, 1, -1)."
        elif x.ndim == 2 and shape[1] == 784:
            hint = " These look flattened: use images.reshape(-1, 28, 28)."
        raise ValueError(
            f"images must have shape (N, 28, 28) or (N, 28, 28, 1), got {shape}.{hint}")
    if len(x) == 0:
        raise ValueError("images is empty: there is nothing to evaluate.")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 127.5 - 1.0
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"images must be uint8 pixels 0..255 or floats in [-1, 1], got dtype {x.dtype}. "
            "For integer pixels 0..255 use images.astype(np.uint8).")
    x = x.astype(np.float32, copy=False)         # clip below makes the one copy
    if not np.all(np.isfinite(x)):
        raise ValueError("images hold NaN or infinite values (did the generator diverge?).")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1.001 or hi > 1.001:
        hint = (" They look like 0..255 pixels: pass them as uint8, or use x / 127.5 - 1."
                if hi > 2 and lo >= 0 else "")
        raise ValueError(f"float images must lie in [-1, 1], these span [{lo:.4g}, {hi:.4g}].{hint}")
    if lo >= 0:
        raise ValueError(f"float images span [{lo:.4g}, {hi:.4g}], no pixel below 0: they look "
                         "like [0, 1] images, not the generator's [-1, 1] (where the background "
                         "is -1). Refusing to score them as [-1, 1]: rescale with 2 * x - 1, or "
                         "pass uint8 0..255.")
    return np.clip(x, -1.0, 1.0)


def _forward(images, batch_size: int = _BATCH, path=None):
    """(features (N, 128), probs (N, 10)), float64, by direct batched model calls."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    x = as_model_images(images)
    both = _load(_resolve(path))[1]
    feats, probs = [], []
    for start in range(0, len(x), batch_size):
        f, p = both(x[start:start + batch_size], training=False)
        feats.append(np.asarray(f))
        probs.append(np.asarray(p))
    return np.concatenate(feats).astype(np.float64), np.concatenate(probs).astype(np.float64)


def classifier_features(images, batch_size: int = _BATCH) -> np.ndarray:
    """The classifier's penultimate layer for each image: float64 (N, 128), >= 0 (ReLU).

    ``images``: see :func:`as_model_images`. These are the features the
    Fréchet distance compares (Chapter 4).
    """
    return _forward(images, batch_size)[0]


def classify(images, batch_size: int = _BATCH) -> np.ndarray:
    """Class probabilities p(y|x): float64 (N, 10), each row summing to 1 (Chapter 4).

    ``images``: see :func:`as_model_images`. ``classify(x).argmax(1)`` is the
    predicted digit.
    """
    return _forward(images, batch_size)[1]


# --- the Fréchet distance ------------------------------------------------------------

def feature_statistics(features):
    """(mean (D,), covariance (D, D)) of features (N, D), N >= 2; float64, covariance with N - 1."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2:
        raise ValueError(f"features must be 2-D (N, D), got shape {f.shape}.")
    if len(f) < 2:
        raise ValueError(f"need at least 2 feature vectors for a covariance, got {len(f)}.")
    if not np.all(np.isfinite(f)):
        raise ValueError("features hold NaN or infinite values.")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def _sqrt_psd(matrix):
    """Square root of a symmetric positive semi-definite matrix, by eigen decomposition."""
    sym = 0.5 * (matrix + matrix.T)
    values, vectors = np.linalg.eigh(sym)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_statistics(mean_a, cov_a, mean_b, cov_b) -> float:
    """||m_a - m_b||^2 + tr(C_a) + tr(C_b) - 2 tr((C_a^1/2 C_b C_a^1/2)^1/2).

    The squared Wasserstein-2 (Fréchet) distance between the Gaussians
    N(m_a, C_a) and N(m_b, C_b). tr((C_a C_b)^1/2) equals the trace of the
    square root of the *symmetric* PSD matrix C_a^1/2 C_b C_a^1/2, so two
    symmetric eigen decompositions suffice (no scipy, no complex numbers).
    Tiny negative results from rounding are returned as 0.
    """
    mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    d = mean_a.shape[0]
    if mean_a.shape != (d,) or mean_b.shape != (d,) or cov_a.shape != (d, d) or cov_b.shape != (d, d):
        raise ValueError(
            f"statistics do not match: means {mean_a.shape}, {mean_b.shape}; "
            f"covariances {cov_a.shape}, {cov_b.shape} (expected (D,) and (D, D)).")
    root_a = _sqrt_psd(cov_a)
    middle = root_a @ cov_b @ root_a
    eig = np.linalg.eigvalsh(0.5 * (middle + middle.T))
    tr_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mean_a - mean_b
    value = float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * tr_sqrt)
    return max(value, 0.0)


def frechet_distance(feats_a, feats_b) -> float:
    """Fréchet distance between two feature sets (N_a, D) and (N_b, D), each N >= 2 (Chapter 4).

    Each set is summarised by its mean and covariance; see
    :func:`frechet_distance_from_statistics`. With classifier features it is
    this course's FID. It is biased upwards for small N: compare numbers
    computed on the same number of images.
    """
    a, b = feature_statistics(feats_a), feature_statistics(feats_b)
    if a[0].shape != b[0].shape:
        raise ValueError(f"feature sets differ in width: {a[0].shape[0]} vs {b[0].shape[0]}.")
    return frechet_distance_from_statistics(*a, *b)


@functools.lru_cache(maxsize=4)
def _reference(path: str):
    stored = _load(path)[2]
    if "ref_mean" in stored and "ref_cov" in stored:
        return stored["ref_mean"].astype(np.float64), stored["ref_cov"].astype(np.float64), int(stored["ref_n"])
    from .data import load_mnist

    _, (x_test, _) = load_mnist(verbose=False)
    mean, cov = feature_statistics(_forward(x_test, path=path)[0])
    return mean, cov, len(x_test)


def reference_statistics():
    """(mean (128,), covariance (128, 128), n) of the MNIST test set's classifier features.

    The default reference of :func:`evaluate_images`. Stored in the weights
    file by the training script (computed on all 10,000 test digits, so the
    reference does not depend on where MNIST is available); if absent,
    computed once from :func:`dcgan_lib.load_mnist`'s test set and cached in
    memory.
    """
    return _reference(_resolve(None))


# --- what the classifier thinks of the samples ---------------------------------------------

def _check_probs(probs) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"probs must be (N, K) class probabilities with N >= 1, K >= 2, got {p.shape}.")
    if not np.all(np.isfinite(p)) or p.min() < 0 or np.abs(p.sum(axis=1) - 1).max() > 1e-3:
        raise ValueError("probs must be non-negative with each row summing to 1 (use classify()).")
    return p


def classifier_score(probs) -> float:
    """exp(E_x KL(p(y|x) || p(y))): the Inception-Score analogue (Chapter 4).

    ``probs``: (N, K) class probabilities, e.g. from :func:`classify`; p(y) is
    their mean over the N images. It equals exp(H(y) - E_x H(y|x)), so it
    lies in [1, K] (here [1, 10]): high when each image is classified
    confidently *and* all classes appear equally often. Real MNIST test digits
    score about 9.8 with the shipped classifier.
    """
    p = _check_probs(probs)
    marginal = p.mean(axis=0)
    ratio = np.divide(p, marginal, out=np.ones_like(p), where=p > 0)  # p > 0 implies marginal > 0
    kl = np.sum(np.where(p > 0, p * np.log(ratio), 0.0), axis=1)
    return float(np.clip(np.exp(kl.mean()), 1.0, p.shape[1]))


def class_histogram(probs) -> np.ndarray:
    """How many images the classifier assigns to each class: int64 (K,), sums to N."""
    p = _check_probs(probs)
    return np.bincount(p.argmax(axis=1), minlength=p.shape[1]).astype(np.int64)


def class_coverage(probs, min_fraction: float = 0.01) -> int:
    """The number of classes (0..K) that at least ``min_fraction`` of the images are assigned to.

    The default, 1%, is a tenth of a digit's fair share on MNIST: a class
    counts as covered unless the generator (nearly) never draws it. A
    mode-collapsed generator covers few classes.
    """
    if not 0 < min_fraction <= 1:
        raise ValueError(f"min_fraction must be in (0, 1], got {min_fraction}.")
    counts = class_histogram(probs)
    return int(np.sum(counts >= min_fraction * counts.sum()))


def evaluate_images(images, reference=None, *, batch_size: int = _BATCH,
                    min_fraction: float = 0.01) -> dict:
    """Score a batch of generated digits (Chapter 4). Returns a dict:

    - ``fid``: Fréchet distance between the images' classifier features and the
      reference's (lower is better; see :func:`real_data_floor` for the floor);
    - ``classifier_score``: :func:`classifier_score`, 1..10 (higher is better);
    - ``classes_covered``: :func:`class_coverage` with ``min_fraction`` (0..10);
    - ``class_histogram``: list of 10 ints, images per predicted digit;
    - ``n``: the number of images.

    ``images``: see :func:`as_model_images`; at least 2, and use 10,000 to
    compare with the course's numbers (the distance is biased upward for
    small N, and says little below :data:`MIN_FID_IMAGES`). ``reference``:
    None for the MNIST test set (:func:`reference_statistics`), or another
    batch of images.
    """
    feats, probs = _forward(images, batch_size)
    if reference is None:
        ref_mean, ref_cov, _ = reference_statistics()
    else:
        ref_mean, ref_cov = feature_statistics(_forward(reference, batch_size)[0])
    mean, cov = feature_statistics(feats)
    return {
        "fid": frechet_distance_from_statistics(mean, cov, ref_mean, ref_cov),
        "classifier_score": classifier_score(probs),
        "classes_covered": class_coverage(probs, min_fraction),
        "class_histogram": [int(c) for c in class_histogram(probs)],
        "n": int(len(feats)),
    }


def evaluate_file(path, **kwargs) -> dict:
    """:func:`evaluate_images` on the array ``images`` of an ``.npz`` file.

    ``images``: (N, 28, 28[, 1]), uint8 0..255 or floats in [-1, 1]. A missing
    file raises ``FileNotFoundError``; anything else wrong (a directory, a
    file that is not an .npz or is damaged, no key ``images``, badly shaped or
    scaled images) a one-line ``ValueError`` naming the file. The file is
    read without pickle and without trusting its headers: it never costs more
    memory than it holds.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise _file_error(path, f"is a directory, not an .npz file. {_SAMPLES_HINT}")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist. {_SAMPLES_HINT}")
    arrays = _read_npz(path, hint=_SAMPLES_HINT)
    if "images" not in arrays:
        raise _file_error(path, f"has no array 'images' (it has {sorted(arrays)}). {_SAMPLES_HINT}")
    try:
        return evaluate_images(arrays.pop("images"), **kwargs)
    except ValueError as err:
        raise _file_error(path, err) from None


def format_report(result: dict) -> str:
    """Two lines for a result of :func:`evaluate_images`; the last one reads e.g.

    ``fid=1.234 score=9.51 classes=10/10 n=10000``
    """
    hist = result["class_histogram"]
    first = "predicted digits: " + " ".join(f"{d}:{c}" for d, c in enumerate(hist))
    last = (f"fid={result['fid']:.3f} score={result['classifier_score']:.2f} "
            f"classes={result['classes_covered']}/{len(hist)} n={result['n']}")
    return first + "\n" + last


@functools.lru_cache(maxsize=2)
def real_data_floor(n: int = 10_000) -> float:
    """Fréchet distance between the first ``n`` MNIST training digits and the test set.

    What real data scores: an estimate of the expected score of a perfect
    sampler (one that draws from the data distribution) at ``n`` images --
    10,000, the size to evaluate samples at, since the distance of a finite
    sample is biased upwards and its bias depends on ``n``. It is a yardstick,
    not a bound: another 10,000 real digits score a little differently, and a
    generator that copied the test digits would score 0. Like the FID, the
    number is a *squared* distance (see :func:`frechet_distance_from_statistics`),
    so 4 x the floor is twice as far in plain distance. Loads MNIST
    with :func:`dcgan_lib.load_mnist` (set ``DCGAN_MNIST``); with only the
    bundled subset it uses what is there. Computed on first call, then cached.
    """
    from .data import load_mnist

    (x_train, _), _ = load_mnist(verbose=False)
    mean_ref, cov_ref, _ = reference_statistics()
    mean, cov = feature_statistics(classifier_features(x_train[:n]))
    return frechet_distance_from_statistics(mean, cov, mean_ref, cov_ref)


# --- the discriminator as a binary classifier ------------------------------------------------

class BinaryConfusion(NamedTuple):
    """A discriminator's confusion counts, real being the positive class."""

    tp: int  # real images judged real
    fn: int  # real images judged fake
    fp: int  # fake images judged real
    tn: int  # fake images judged fake


def _scores(values, name) -> np.ndarray:
    s = np.asarray(values, dtype=np.float64).reshape(-1)
    if s.size == 0:
        raise ValueError(f"{name} is empty.")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} holds NaN or infinite values.")
    return s


def discriminator_confusion(p_real_on_real, p_real_on_fake, threshold: float = 0.5, *,
                            from_logits: bool = False) -> BinaryConfusion:
    """Count the discriminator's verdicts, real being the positive class (Chapter 4).

    ``p_real_on_real``: D's outputs on real images, ``p_real_on_fake``: on
    generated ones; any shape, e.g. (N, 1). An image is judged *real* when
    its probability is strictly greater than ``threshold`` (as Keras'
    ``BinaryAccuracy`` does, so the accuracy matches the training log).
    Probabilities must lie in [0, 1]; for a logit discriminator pass
    ``from_logits=True`` (the threshold stays a probability: 0.5 means logit 0).
    Returns ``BinaryConfusion(tp, fn, fp, tn)``.
    """
    real, fake = _scores(p_real_on_real, "p_real_on_real"), _scores(p_real_on_fake, "p_real_on_fake")
    if from_logits:
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be a probability in (0, 1), got {threshold}.")
        cut = math.log(threshold) - math.log1p(-threshold)
    else:
        for s, name in ((real, "p_real_on_real"), (fake, "p_real_on_fake")):
            if s.min() < 0 or s.max() > 1:
                raise ValueError(f"{name} must be probabilities in [0, 1], got values in "
                                 f"[{s.min():.4g}, {s.max():.4g}]; for logits pass from_logits=True.")
        cut = threshold
    tp = int(np.sum(real > cut))
    fp = int(np.sum(fake > cut))
    return BinaryConfusion(tp=tp, fn=real.size - tp, fp=fp, tn=fake.size - fp)


def binary_metrics(cm) -> dict:
    """Accuracy, precision, recall, F1 (and specificity) from confusion counts (Chapter 4).

    ``cm``: a :class:`BinaryConfusion`, or a mapping with keys tp, fn, fp, tn.

    - accuracy = (TP + TN) / (TP + FP + FN + TN): the share of all verdicts that are right;
    - precision = TP / (TP + FP): of the images judged real, the share that are;
    - recall = TP / (TP + FN): of the real images, the share judged real;
    - f1 = 2 * precision * recall / (precision + recall);
    - specificity = TN / (TN + FP): of the fakes, the share caught.

    A ratio whose denominator is 0 (no image judged real, no real images...)
    is 0.0, like scikit-learn's ``zero_division=0``. No counts at all raise
    ``ValueError``.
    """
    if isinstance(cm, BinaryConfusion):
        tp, fn, fp, tn = cm
    else:
        lowered = {str(k).lower(): v for k, v in dict(cm).items()}
        try:
            tp, fn, fp, tn = (lowered[k] for k in ("tp", "fn", "fp", "tn"))
        except KeyError:
            raise ValueError(f"cm needs counts tp, fn, fp, tn; got keys {sorted(lowered)}.") from None
    counts = [int(c) for c in (tp, fn, fp, tn)]
    if min(counts) < 0:
        raise ValueError(f"confusion counts must be non-negative, got {counts}.")
    tp, fn, fp, tn = counts
    total = tp + fn + fp + tn
    if total == 0:
        raise ValueError("the confusion counts are all zero: nothing was classified.")

    def ratio(num, den):
        return num / den if den else 0.0

    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    return {
        "accuracy": (tp + tn) / total,
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * precision * recall, precision + recall),
        "specificity": ratio(tn, tn + fp),
    }


def roc_curve(scores_real, scores_fake):
    """The ROC curve of a discriminator, real being positive (Chapter 4).

    ``scores_real``/``scores_fake``: D's outputs (probabilities or logits; any
    shape) on real and on fake images. For each threshold t, from +inf down
    to the lowest score, an image is judged real when its score >= t.
    Returns ``(fpr, tpr, thresholds)``, 1-D arrays of equal length starting
    at (0, 0) with t = +inf and ending at (1, 1): fpr = FP / #fake and
    tpr = TP / #real. One point per distinct score value.
    """
    real, fake = _scores(scores_real, "scores_real"), _scores(scores_fake, "scores_fake")
    scores = np.concatenate([real, fake])
    is_real = np.concatenate([np.ones(real.size), np.zeros(fake.size)])
    order = np.argsort(-scores, kind="mergesort")
    scores, is_real = scores[order], is_real[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    tp = np.cumsum(is_real)[last_of_value]
    fp = (last_of_value + 1) - tp
    tpr = np.r_[0.0, tp / real.size]
    fpr = np.r_[0.0, fp / fake.size]
    thresholds = np.r_[np.inf, scores[last_of_value]]
    return fpr, tpr, thresholds


def auc(fpr, tpr) -> float:
    """Area under a curve given by points (fpr, tpr) sorted by fpr, by the trapezoid rule.

    For :func:`roc_curve`'s output: 1.0 when D separates real from fake
    perfectly, about 0.5 when it guesses. It equals the probability that a
    random real image scores higher than a random fake one (ties counting 1/2).
    """
    x, y = np.asarray(fpr, np.float64).reshape(-1), np.asarray(tpr, np.float64).reshape(-1)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"fpr and tpr need the same length, at least 2; got {x.size} and {y.size}.")
    if np.any(np.diff(x) < 0):
        raise ValueError("fpr must be non-decreasing (pass roc_curve's output).")
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def confusion_matrix(y_true, y_pred, n_classes: int = N_CLASSES) -> np.ndarray:
    """int64 (n_classes, n_classes): entry [i, j] counts images of true class i predicted as j.

    ``y_true``, ``y_pred``: integer labels 0..n_classes-1 of equal length (for
    predictions from :func:`classify`, pass ``probs.argmax(1)``). The diagonal
    holds the correct answers; ``trace / sum`` is the accuracy.
    """
    t, p = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.size} vs {p.size}.")
    for a, name in ((t, "y_true"), (p, "y_pred")):
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} must hold integer labels, got {a.dtype}.")
        if a.size and (a.min() < 0 or a.max() >= n_classes):
            raise ValueError(f"{name} holds labels outside 0..{n_classes - 1}.")
    flat = t.astype(np.int64) * n_classes + p.astype(np.int64)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
