"""Self-checks for the exercises: each returns a Verdict, true when right, shown as one line
"Right: ..." or "Not yet: ..." with a hint; an answer still ``...`` is "Not yet", not an error."""

import re

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from .confusion import as_counts, binary_metrics, discriminator_confusion

__all__ = ["check_confusion_answer", "check_metrics_answer", "check_cell_names"]
__all__ += ["check_threshold_answer", "check_train_step_fix"]

_BY_ALL = " Accuracy divides the correct verdicts by *all* verdicts, TP + FP + FN + TN."
_HINTS = {  # what to say about the usual slips
    "swapped": "FP and FN are swapped. FP (false positive) is a *fake* image judged real; FN "
    "(false negative) is a *real* image judged fake.",
    "fake positive": "you made *fake* the positive class. Here the positive class is real: TP "
    "counts real images judged real.",
    "reversed": "your verdicts are reversed: D judges an image real when its P(real) is *above* "
    "the threshold.",
    "at threshold": "check the images whose P(real) is exactly {}: an image counts as judged "
    "real only when its score is strictly above the threshold.",
    "add up": "TP + FN must add up to the {} real images and FP + TN to the {} fakes; yours add "
    "up to {} and {}.",
    "off": "{} {} off. Go through the real images (row 'real') and the fakes (row 'fake') one "
    "by one, comparing each score with the threshold.",
    "slides": "(TP + TN) / TN is the slides' mistake: it equals 1 + TP / TN, never below 1."
    + _BY_ALL,
    "judged real": "that divides by the images judged real only (TP + FP)." + _BY_ALL,
    "no TN": "count both kinds of correct verdict: TP *and* TN.",
    "recall": "that is recall. Precision looks down the column 'judged real': TP / (TP + FP).",
    "negatives": "precision is about the images judged *real*: TP / (TP + FP).",
    "precision": "that is precision. Recall looks along the row 'real': TP / (TP + FN).",
    "specificity": "that is the share of fakes caught (specificity, TN / (TN + FP)). Recall is "
    "about the reals: TP / (TP + FN).",
    "mean": "that is the arithmetic mean. F1 is the *harmonic* mean: 2 * precision * recall / "
    "(precision + recall).",
    "percent": "give it as a fraction in [0, 1], not a percentage.",
    "recompute": "recompute it from the four counts.",
    "type_i": "a Type I error is a false alarm, a false *positive*: a fake accepted as real (FP).",
    "type_ii": "a Type II error is a miss, a false *negative*: a real image rejected as fake (FN).",
    "g_wants": "G wants its fakes judged real, the cell D counts as a false positive: FP.",
    "g_row": "G only makes fakes, so it can only move the 'fake' row; it wants its fakes judged "
    "real: FP.",
    "d_wants": "D wants every verdict right: both diagonal cells, TP and TN.",
    "raise": "{}: more than {:g}% of fakes pass. Raise the threshold.",
    "lower": "{}: the limit holds, but a lower threshold keeps it too and accepts more real "
    "images (recall up to {:.3f}). Lower it.",
    "steps": "the {}'s optimizer took {} steps in one call, not 1",
    "still": "the {}'s weights did not change",
    "ascent": "the {} went UP its loss (gradient ascent): its update points against its "
    "gradient's descent direction",
    "astray": "the {}'s update does not follow the gradient of its loss",
    "other": "the {} moved {:.2f} times as far as its own optimizer's first step: was it updated "
    "by the other network's optimizer?",
    "own": "{}\nHint: each network's gradients go to that network's own optimizer, applied to "
    "its own variables, to make its own loss smaller.",
}
_SLIPS = {"accuracy": ("slides", "judged real", "no TN"), "precision": ("recall", "negatives")}
_SLIPS.update(recall=("precision", "specificity"), f1=("mean",))
_CELLS = {"tp": "TP", "fn": "FN", "fp": "FP", "tn": "TN", "true positive": "TP"}
_CELLS.update({"false negative": "FN", "false positive": "FP", "true negative": "TN"})
_TRUTH = {"type_i": {"FP"}, "type_ii": {"FN"}, "g_wants": {"FP"}, "d_wants": {"TP", "TN"}}
_LABELS = {"type_i": "Type I", "type_ii": "Type II", "g_wants": "G wants", "d_wants": "D wants"}


class Verdict:
    """A check's outcome: true when right; shown (``message``) as "Right: ..." or "Not yet: ..."."""

    def __init__(self, ok, text):
        self.ok, self.message = bool(ok), ("Right: " if ok else "Not yet: ") + text

    __bool__ = lambda self: self.ok
    __repr__ = __str__ = lambda self: self.message


_no = lambda hint, *values: Verdict(False, _HINTS[hint].format(*values))
_UNANSWERED = Verdict(False, "replace each ... with your answer, then run the check again.")
_unanswered = lambda *answers: "Ellipsis" in repr(answers)  # ``...`` left, however nested


def check_confusion_answer(answer, p_real_on_real, p_real_on_fake, threshold=0.5) -> Verdict:
    """Check hand-counted TP, FN, FP, TN of D's outputs at ``threshold`` (judged real: P(real)
    *above* it). ``answer``: ``dict(tp=..., fn=..., fp=..., tn=...)``, a tuple in that order or
    a 2x2 table ``[[TP, FN], [FP, TN]]``. Defined in Chapter 4."""
    if _unanswered(answer):
        return _UNANSWERED
    got, real, fake = as_counts(answer), p_real_on_real, p_real_on_fake
    tp, fn, fp, tn = truth = discriminator_confusion(real, fake, threshold)
    if got == truth:
        return Verdict(True, f"TP={tp}, FN={fn}, FP={fp}, TN={tn}.")
    at_or_above = tuple(discriminator_confusion(real, fake, np.nextafter(threshold, -1)))
    slips = (tp, fp, fn, tn), (tn, fp, fn, tp), (fn, tp, tn, fp), at_or_above
    for slip, hint in zip(slips, ("swapped", "fake positive", "reversed", "at threshold")):
        if got == slip:
            return _no(hint, threshold)
    if (got[0] + got[1], got[2] + got[3]) != (tp + fn, fp + tn):
        return _no("add up", tp + fn, fp + tn, got[0] + got[1], got[2] + got[3])
    bad = [name for name, g, t in zip(("TP", "FN", "FP", "TN"), got, truth) if g != t]
    return _no("off", ", ".join(bad), "is" if len(bad) == 1 else "are")


def check_metrics_answer(cm, *, accuracy=None, precision=None, recall=None, f1=None, tol=5e-3):
    """Check accuracy, precision, recall and/or F1 computed by hand from the counts ``cm`` (as
    ``check_confusion_answer`` takes them): fractions in [0, 1], each right within ``tol``. Knows
    the usual slips, among them the seed slides' accuracy formula (TP + TN) / TN (source 004,
    section 3.2), 1 + TP / TN: never below 1. No value: ValueError. Defined in Chapter 4."""
    if _unanswered(accuracy, precision, recall, f1):
        return _UNANSWERED
    tp, fn, fp, tn = counts = as_counts(cm)
    right = binary_metrics(counts)
    given = zip(_SLIPS, (accuracy, precision, recall, f1))  # (name, answer) pairs
    given = {name: float(v) for name, v in given if v is not None}
    if not given:
        raise ValueError("give at least one of accuracy=, precision=, recall=, f1=")
    slips = dict(right, mean=(right["precision"] + right["recall"]) / 2)  # what each slip gives
    slips["slides"], slips["no TN"] = (tp + tn) / tn if tn else None, tp / sum(counts)
    slips["judged real"] = (tp + tn) / (tp + fp) if tp + fp else None
    slips["negatives"] = tn / (tn + fn) if tn + fn else 0.0
    close = lambda a, b, within=tol: b is not None and abs(a - b) <= within
    ok, notes = [], []
    for name, value in given.items():
        if close(value, right[name]):
            ok.append(name)
            continue
        hint = next((_HINTS[s] for s in _SLIPS[name] if close(value, slips[s])), None)
        if hint is None and close(value, 100 * right[name], 100 * tol):
            hint = _HINTS["percent"]
        notes.append(f"{name} = {value:.4g} is wrong: {hint or _HINTS['recompute']}")
    if not notes:
        return Verdict(True, ", ".join(f"{n} = {right[n]:.4f}" for n in ok) + ".")
    return Verdict(False, " ".join(notes) + (f" ({', '.join(ok)} right.)" if ok else ""))


def _cells(answer, what) -> frozenset:
    """The cells an answer names: "TP", "false positive", "TP and TN", ["tn", "tp"], ..."""
    text = " ".join(answer) if isinstance(answer, (list, tuple, set)) else str(answer)
    text, cells = text.lower().replace("_", " ").replace("-", " "), set()
    for phrase in sorted(_CELLS, key=len, reverse=True):
        text, found = re.subn(r"\b" + phrase.replace(" ", r"\s+") + r"s?\b", " ", text)
        cells |= {_CELLS[phrase]} if found else set()
    if not cells:
        say = f"{what}: name cells as 'TP', 'FN', 'FP', 'TN' (or 'false positive', ...); got "
        raise ValueError(say + repr(answer))
    return frozenset(cells)


def check_cell_names(*, type_i=None, type_ii=None, g_wants=None, d_wants=None) -> Verdict:
    """Check which cells are Type I and II errors and which G and D want, real being positive:
    name cells "TP", "FN", "FP", "TN" (or "false positive", ...), several as "TP and TN" or
    ["TP", "TN"]. No answer: ValueError. Defined in Chapter 4."""
    answers = {"type_i": type_i, "type_ii": type_ii, "g_wants": g_wants, "d_wants": d_wants}
    if _unanswered(answers):
        return _UNANSWERED
    answers = {k: _cells(v, k) for k, v in answers.items() if v is not None}
    if not answers:
        raise ValueError("answer at least one of type_i=, type_ii=, g_wants=, d_wants=")
    order, ok, notes = ["TP", "FN", "FP", "TN"], [], []
    for k, cells in answers.items():
        if cells == _TRUTH[k]:
            ok.append(f"{_LABELS[k]} = {' and '.join(sorted(cells, key=order.index))}")
        else:
            hint = "g_row" if k == "g_wants" and cells & {"TP", "FN"} else k
            notes.append(f"{_LABELS[k]}: {_HINTS[hint]}")
    if not notes:
        return Verdict(True, ", ".join(ok) + ".")
    return Verdict(False, " ".join(notes) + (f" ({'; '.join(ok)}: right.)" if ok else ""))


def check_threshold_answer(threshold, p_real_on_real, p_real_on_fake, *, max_fpr=0.05, slack=0.01):
    """Check a threshold letting at most ``max_fpr`` of the fakes pass: right when the Type I
    rate is at most ``max_fpr`` and the recall within ``slack`` of the best any threshold reaches
    under that limit. A threshold not a number in [0, 1]: ValueError. Defined in Chapter 4."""
    if threshold is Ellipsis:
        return _UNANSWERED
    if not (isinstance(threshold, (int, float, np.floating)) and 0 <= float(threshold) <= 1):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    real, fake = (np.asarray(x, np.float64).ravel() for x in (p_real_on_real, p_real_on_fake))
    c = discriminator_confusion(real, fake, float(threshold))  # checks the scores, too
    fpr, recall = c.fp / fake.size, c.tp / real.size
    t = np.unique(np.r_[0.0, real, fake, 1.0])  # the verdicts only change at the scores
    above = lambda x: (x.size - np.searchsorted(np.sort(x), t, side="right")) / x.size
    best = above(real)[above(fake) <= max_fpr].max(initial=0.0)  # recall at each t, in limit
    here = f"at {float(threshold):.3f}, {100 * fpr:.1f}% of fakes pass and recall is {recall:.3f}"
    if fpr > max_fpr:
        return _no("raise", here, 100 * max_fpr)
    if recall < best - slack:
        return _no("lower", here, best)
    return Verdict(True, f"{here}; the best recall under the limit is {best:.3f}.")


def _judge(name, opt, moved, expected) -> list:
    """What is wrong with one network's optimizer and update (flat arrays)."""
    steps = int(opt.iterations)
    wrong = [] if steps == 1 else [_HINTS["steps"].format(name, steps)]
    if not np.any(moved):
        return wrong + [_HINTS["still"].format(name)]
    cosine = float(moved @ expected / (np.linalg.norm(moved) * np.linalg.norm(expected)))
    if cosine < 0.9:
        return wrong + [_HINTS["ascent" if cosine < -0.5 else "astray"].format(name)]
    size = np.abs(moved).mean() / np.abs(expected).mean()
    return wrong + ([] if 0.7 < size < 1.4 else [_HINTS["other"].format(name, size)])


def check_train_step_fix(make_step) -> Verdict:
    """Check a fixed training step (the report's bug, source 000). Defined in Chapter 3.

    ``make_step(generator, discriminator, g_optimizer, d_optimizer)`` returns ``step(images)``
    updating each network once, D's output a logit. Tried on tiny models with two fresh Adams of
    different rates, each network must descend its own loss through its own optimizer, once."""
    g_rate, d_rate = 1e-3, 4e-3  # different, so an update tells which optimizer made it
    # G ignores z at first (zero kernel) and D is linear: the first gradients do not depend on z
    normal, bias = keras.initializers.RandomNormal, keras.initializers.RandomNormal(0, 0.5, 1)
    dense = layers.Dense(784, "tanh", kernel_initializer="zeros", bias_initializer=bias)
    g = keras.Sequential([keras.Input((8,)), dense, layers.Reshape((28, 28, 1))])
    linear = layers.Dense(1, kernel_initializer=normal(0, 0.05, 2))
    d = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), linear])
    real = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype(np.float32)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    with tf.GradientTape(persistent=True) as tape:
        fake = g(tf.zeros((len(real), 8)), training=True)
        real_out, fake_out = d(real, training=True), d(fake, training=True)
        d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        g_loss = bce(tf.ones_like(fake_out), fake_out)
    adam_first = lambda grad, rate: -rate * grad / (np.abs(grad) + 1e-7)  # for any loss scale
    flat = lambda arrays: np.concatenate([np.ravel(a) for a in arrays])
    d_expected = adam_first(flat(tape.gradient(d_loss, d.weights)), d_rate)
    g_expected = adam_first(tape.gradient(g_loss, g.weights[1]).numpy(), g_rate)  # G's bias
    d_before, g_before = flat(d.weights), g.weights[1].numpy().copy()
    g_opt, d_opt = keras.optimizers.Adam(g_rate), keras.optimizers.Adam(d_rate)
    try:
        make_step(g, d, g_opt, d_opt)(real)
    except Exception as err:  # report any failure as a failed check
        last = [line.strip() for line in str(err).splitlines() if line.strip()] or [""]
        return _no("own", f"the step raised {type(err).__name__}: {last[-1][:300]}")
    problems = _judge("discriminator", d_opt, flat(d.weights) - d_before, d_expected)
    problems += _judge("generator", g_opt, g.weights[1].numpy() - g_before, g_expected)
    if not problems:
        return Verdict(True, "each network descends its own loss through its own optimizer.")
    return _no("own", "; ".join(problems))
