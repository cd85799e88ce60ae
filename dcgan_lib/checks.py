"""Self-checks for the exercises: each returns a Verdict, "Right: ..." or "Not yet: ..." + hint."""

import re

import keras
import numpy as np
import tensorflow as tf

from .confusion import as_counts, binary_metrics, discriminator_confusion, roc_curve

__all__ = ["check_confusion_answer", "check_metrics_answer", "check_cell_names"]
__all__ += ["check_threshold_answer", "check_train_step_fix"]


class Verdict:
    """A check's outcome: true when right; shown (``message``) as "Right: ..." or "Not yet: ..."."""

    def __init__(self, ok, text):
        self.ok, self.message = bool(ok), ("Right: " if ok else "Not yet: ") + text

    __bool__ = lambda self: self.ok
    __repr__ = __str__ = lambda self: self.message


_HINTS = {  # what to say about the usual slips
    "swapped": "FP and FN are swapped: FP is a *fake* judged real, FN a *real* judged fake.",
    "fake positive": "you made *fake* the positive class; here it is real: TP = reals judged real.",
    "reversed": "your verdicts are reversed: judged real means P(real) *above* the threshold.",
    "at threshold": "a score of exactly {} is judged fake: real is strictly above the threshold.",
    "add up": "TP + FN must add up to the {} real images, FP + TN to the {} fakes, not {} and {}.",
    "off": "{} {} off: compare each image's score with the threshold, row 'real' then 'fake'.",
    "slides": "(TP + TN) / TN is the slides' mistake: it equals 1 + TP / TN, never below 1. "
    "Accuracy divides the correct verdicts by *all* verdicts, TP + FP + FN + TN.",
    "judged_real": "that divides by the images judged real only (TP + FP), not by all four counts.",
    "no_tn": "count both kinds of correct verdict: TP *and* TN.",
    "recall": "that is recall. Precision looks down the column 'judged real': TP / (TP + FP).",
    "negatives": "precision is about the images judged *real*: TP / (TP + FP).",
    "precision": "that is precision. Recall looks along the row 'real': TP / (TP + FN).",
    "specificity": "that is specificity, TN / (TN + FP). Recall is about reals: TP / (TP + FN).",
    "mean": "that is the arithmetic mean. F1 is the *harmonic* mean: 2PR / (P + R).",
    "percent": "give it as a fraction in [0, 1], not a percentage.",
    "recompute": "recompute it from the four counts.",
    "type_i": "a Type I error is a false alarm, a false *positive*: a fake accepted as real (FP).",
    "type_ii": "a Type II error is a miss, a false *negative*: a real rejected as fake (FN).",
    "g_wants": "G makes fakes only: it moves only the 'fake' row, wanting them judged real: FP.",
    "d_wants": "D wants every verdict right: both diagonal cells, TP and TN.",
    "raise": "{0}: more than {1:g}% of fakes pass. Raise the threshold.",
    "lower": "{0}: a lower threshold keeps the limit too, with recall up to {2:.3f}. Lower it.",
    "steps": "the {}'s optimizer took {} steps in one call, not 1",
    "still": "the {}'s weights did not change",
    "ascent": "the {} went UP its loss (gradient ascent)",
    "astray": "the {}'s update does not follow the gradient of its loss",
    "other": "the {} moved {:.2f}x its own Adam's first step: by the other network's optimizer?",
    "own": "{}\nHint: each network's gradients go to its own optimizer, to lower its own loss.",
}
_SLIPS = dict(accuracy=("slides", "judged_real", "no_tn"), precision=("recall", "negatives"))
_SLIPS.update(recall=("precision", "specificity"), f1=("mean",))
_CELLS = dict(TP="true.positive", FN="false.negative", FP="false.positive", TN="true.negative")
_ANSWERS = dict(type_i=("FP",), type_ii=("FN",), g_wants=("FP",), d_wants=("TP", "TN"))
_no = lambda hint, *values: Verdict(False, _HINTS[hint].format(*values))
_UNANSWERED = Verdict(False, "replace each ... with your answer, then run the check again.")
_unanswered = lambda *answers: "Ellipsis" in repr(answers)  # ``...`` left, however nested


def _each(answers, judge) -> Verdict:  # judge(key, answer) -> (right, text) for each one given
    if _unanswered(answers):
        return _UNANSWERED
    given = {key: answer for key, answer in answers.items() if answer is not None}
    if not given:
        raise ValueError("give at least one of " + ", ".join(f"{key}=" for key in answers))
    results = [judge(key, answer) for key, answer in given.items()]
    right, wrong = [t for ok, t in results if ok], [t for ok, t in results if not ok]
    if wrong:  # what is wrong, then what is already right
        return Verdict(False, " ".join(wrong) + (f" (right: {'; '.join(right)}.)" if right else ""))
    return Verdict(True, ", ".join(right) + ".")


def check_confusion_answer(answer, p_real_on_real, p_real_on_fake, threshold=0.5) -> Verdict:
    """Check hand-counted TP, FN, FP, TN of D's outputs at ``threshold`` (judged real: strictly
    above), given as ``as_counts`` takes them (else ValueError). Defined in Chapter 4."""
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
    """Check accuracy, precision, recall and/or F1 (fractions) from counts ``cm`` within ``tol``,
    knowing slips like the slides' (TP + TN) / TN. None given: ValueError. Defined in Chapter 4."""
    tp, fn, fp, tn = counts = as_counts(cm)
    right = binary_metrics(counts)
    div = lambda num, den: num / den if den else None
    slips = dict(right, no_tn=tp / sum(counts), slides=div(tp + tn, tn), negatives=div(tn, tn + fn))
    slips.update(judged_real=div(tp + tn, tp + fp), mean=(right["precision"] + right["recall"]) / 2)
    close = lambda a, b: b is not None and abs(float(a) - b) <= tol

    def judge(name, value):
        if close(value, right[name]):
            return True, f"{name} = {right[name]:.4f}"
        hint = next((s for s in _SLIPS[name] if close(value, slips[s])), None)
        hint = hint or ("percent" if close(value / 100, right[name]) else "recompute")
        return False, f"{name} = {float(value):.4g} is wrong: {_HINTS[hint]}"

    return _each(dict(accuracy=accuracy, precision=precision, recall=recall, f1=f1), judge)


def check_cell_names(*, type_i=None, type_ii=None, g_wants=None, d_wants=None) -> Verdict:
    """Check the cells (real positive) of Type I, II errors and that G, D want: "TP", "TP and TN",
    "false positive", ... None given, or no cell named: ValueError. Defined in Chapter 4."""

    def judge(key, answer):
        named = {c for c in _CELLS if re.search(rf"\b({c}|{_CELLS[c]})s?\b", str(answer), re.I)}
        if not named:
            raise ValueError(f"{key}: name cells TP, FN, FP, TN, 'false positive', ...: {answer!r}")
        if named == set(_ANSWERS[key]):
            return True, f"{key} = {' and '.join(_ANSWERS[key])}"
        return False, f"{key}: {_HINTS[key]}"

    return _each(dict(type_i=type_i, type_ii=type_ii, g_wants=g_wants, d_wants=d_wants), judge)


def check_threshold_answer(threshold, p_real_on_real, p_real_on_fake, *, max_fpr=0.05, slack=0.01):
    """Check a threshold letting at most ``max_fpr`` of the fakes pass, its recall within ``slack``
    of the best under that limit. Not a number in [0, 1]: ValueError. Defined in Chapter 4."""
    if threshold is Ellipsis:
        return _UNANSWERED
    if not (isinstance(threshold, (int, float, np.floating)) and 0 <= float(threshold) <= 1):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    tp, fn, fp, tn = discriminator_confusion(p_real_on_real, p_real_on_fake, float(threshold))
    fpr, recall = fp / (fp + tn), tp / (tp + fn)
    fprs, recalls, cuts = roc_curve(p_real_on_real, p_real_on_fake)  # every threshold's verdicts
    best = recalls[(fprs <= max_fpr) & (cuts > 0)].max()  # judged real: above a threshold >= 0
    here = f"at {float(threshold):.3f}, {100 * fpr:.1f}% of fakes pass and recall is {recall:.3f}"
    if fpr > max_fpr or recall < best - slack:
        return _no("raise" if fpr > max_fpr else "lower", here, 100 * max_fpr, best)
    return Verdict(True, f"{here}; the best recall under the limit is {best:.3f}.")


def _judge(name, optimizer, moved, gradient) -> list:  # what is wrong, against Adam's 1st step
    steps = int(optimizer.iterations)
    wrong = [] if steps == 1 else [_HINTS["steps"].format(name, steps)]
    if not np.any(moved):
        return wrong + [_HINTS["still"].format(name)]
    expected = -float(optimizer.learning_rate) * np.asarray(gradient) / (np.abs(gradient) + 1e-7)
    cosine = float(np.vdot(moved, expected) / (np.linalg.norm(moved) * np.linalg.norm(expected)))
    if cosine < 0.9:
        return wrong + [_HINTS["ascent" if cosine < -0.5 else "astray"].format(name)]
    size = np.abs(moved).mean() / np.abs(expected).mean()
    return wrong + ([] if 0.7 < size < 1.4 else [_HINTS["other"].format(name, size)])


def check_train_step_fix(make_step) -> Verdict:
    """Check a fixed ``make_step(g, d, g_optimizer, d_optimizer)`` -> ``step(images)`` (D: logits):
    each network must descend its own loss through its own optimizer, once. Defined in Chapter 3."""
    # G ignores z at first (zero kernel) and D is linear: the first gradients do not depend on z
    bias = keras.initializers.RandomNormal(0, 0.5, seed=1)
    g_dense = keras.layers.Dense(784, "tanh", kernel_initializer="zeros", bias_initializer=bias)
    g = keras.Sequential([keras.Input((8,)), g_dense, keras.layers.Reshape((28, 28, 1))])
    d_dense = keras.layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(0, 0.05, 2))
    d = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), d_dense])
    real = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype(np.float32)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    with tf.GradientTape(persistent=True) as tape:
        real_out, fake_out = d(real), d(g(tf.zeros((16, 8))))
        d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        g_loss = bce(tf.ones_like(fake_out), fake_out)
    d_grad, g_grad = tape.gradient(d_loss, d_dense.kernel), tape.gradient(g_loss, g_dense.bias)
    d_before, g_before = d_dense.kernel.numpy(), g_dense.bias.numpy()
    g_opt, d_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(4e-3)  # rates tell apart
    try:
        make_step(g, d, g_opt, d_opt)(real)
    except Exception as err:  # report any failure as a failed check
        last = (str(err).strip().splitlines() or [""])[-1].strip()
        return _no("own", f"the step raised {type(err).__name__}: {last[:300]}")
    problems = _judge("discriminator", d_opt, d_dense.kernel.numpy() - d_before, d_grad)
    problems += _judge("generator", g_opt, g_dense.bias.numpy() - g_before, g_grad)
    if not problems:
        return Verdict(True, "each network descends its own loss through its own optimizer.")
    return _no("own", "; ".join(problems))
