"""The discriminator as a binary classifier, *real* being the positive class."""

import contextlib
from typing import NamedTuple

import numpy as np

__all__ = ["BinaryConfusion", "discriminator_confusion", "binary_metrics", "roc_curve"]


class BinaryConfusion(NamedTuple):
    """D's confusion counts, real being the positive class. Defined in Chapter 4."""

    tp: int  # real images judged real
    fn: int  # real images judged fake
    fp: int  # fake images judged real
    tn: int  # fake images judged fake


def as_counts(cm) -> tuple:
    """(tp, fn, fp, tn) as ints from confusion counts in any of the forms the error names."""
    if hasattr(cm, "items"):  # a mapping, its keys in any case
        low = {str(k).lower(): v for k, v in cm.items()}
        cm = [low.get(k) for k in ("tp", "fn", "fp", "tn")]
    with contextlib.suppress(TypeError, ValueError):
        arr = np.asarray(cm, dtype=np.float64)
        if arr.shape in ((4,), (2, 2)) and np.all(np.isfinite(arr)):
            return tuple(int(v) for v in arr.ravel())
    forms = "a BinaryConfusion, dict(tp=, fn=, fp=, tn=), (tp, fn, fp, tn) or [[TP, FN], [FP, TN]]"
    raise ValueError(f"give confusion counts as {forms}, not {str(cm)[:80]!r}")


def _scores(*values) -> list:
    out = [np.asarray(v, dtype=np.float64).reshape(-1) for v in values]
    if any(s.size == 0 or not np.all(np.isfinite(s)) for s in out):
        raise ValueError("D's outputs must be non-empty, without NaN or infinite values.")
    return out


def discriminator_confusion(p_real_on_real, p_real_on_fake, threshold=0.5, *, from_logits=False):
    """D's verdicts on real and fake images (any shape), judged real when strictly above
    ``threshold``: a BinaryConfusion. Outside [0, 1]: ValueError unless ``from_logits``; empty or
    not finite: ValueError. Defined in Chapter 4."""
    real, fake = _scores(p_real_on_real, p_real_on_fake)
    if from_logits and not 0 < threshold < 1:
        raise ValueError(f"threshold must be a probability in (0, 1), got {threshold}.")
    if not from_logits and (min(real.min(), fake.min()) < 0 or max(real.max(), fake.max()) > 1):
        raise ValueError("D's outputs are not probabilities in [0, 1]: pass from_logits=True.")
    cut = np.log(threshold) - np.log1p(-threshold) if from_logits else threshold  # logit of t
    tp, fp = int(np.sum(real > cut)), int(np.sum(fake > cut))  # > as Keras' BinaryAccuracy
    return BinaryConfusion(tp=tp, fn=real.size - tp, fp=fp, tn=fake.size - fp)


def binary_metrics(cm) -> dict:
    """Accuracy, precision, recall, f1, specificity from counts ``cm`` (as ``as_counts`` takes
    them): (TP + TN) / all, TP / (TP + FP), TP / (TP + FN), 2PR / (P + R), TN / (TN + FP), x / 0
    being 0.0. Negative or all-zero counts: ValueError. Defined in Chapter 4."""
    tp, fn, fp, tn = counts = as_counts(cm)
    if min(counts) < 0 or sum(counts) == 0:
        raise ValueError(f"confusion counts must be non-negative and not all zero, got {counts}.")
    ratio = lambda num, den: num / den if den else 0.0
    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1, spec = ratio(2 * p * r, p + r), ratio(tn, tn + fp)
    return dict(accuracy=(tp + tn) / sum(counts), precision=p, recall=r, f1=f1, specificity=spec)


def roc_curve(scores_real, scores_fake):
    """D's ROC curve (fpr, tpr, thresholds), 1-D, from (0, 0) to (1, 1), a point per distinct
    score (any shape), real at t when >= t; AUC: np.trapezoid(tpr, fpr). Defined in Chapter 4."""
    real, fake = _scores(scores_real, scores_fake)
    order = np.argsort(-np.r_[real, fake], kind="mergesort")  # highest score first
    scores = np.r_[real, fake][order]
    idx = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]  # last index of each value
    tp = np.cumsum(order < real.size)[idx]  # real images scoring >= each value
    return np.r_[0, idx + 1 - tp] / fake.size, np.r_[0, tp] / real.size, np.r_[np.inf, scores[idx]]
