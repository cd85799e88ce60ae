"""Self-checks for the exercises (defined in Chapter 4).

Each ``check_*`` function compares a student's answer with the right one and
returns a :class:`Verdict`: true when right, false otherwise, and shown (as the
last line of a notebook cell, or with ``print``) as one line starting with
"Right" or "Not yet", with a hint aimed at the usual mistake. An answer still
holding the exercise's placeholder ``...`` gets "Not yet" and no error, so a
notebook with unanswered exercises runs from top to bottom.

    >>> dl.check_cell_names(type_i="FP", type_ii="FN")
    Right: Type I = FP, Type II = FN.
"""
from __future__ import annotations

import math
import re

import numpy as np

from .confusion import BinaryConfusion, binary_metrics, discriminator_confusion

__all__ = ["Verdict", "check_confusion_answer", "check_metrics_answer", "check_cell_names",
           "check_threshold_answer"]


class Verdict:
    """The outcome of a check: ``bool(verdict)`` says right or wrong, ``message`` why."""

    def __init__(self, ok: bool, message: str):
        self.ok, self.message = bool(ok), message

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return self.message

    __str__ = __repr__


def _right(text):
    return Verdict(True, "Right: " + text)


def _wrong(text):
    return Verdict(False, "Not yet: " + text)


_UNANSWERED = Verdict(False, "Not yet: replace each ... with your answer, then run the check again.")


def _unanswered(*answers) -> bool:
    """True when an answer still holds the exercise's placeholder ``...`` (Ellipsis)."""
    for a in answers:
        if a is Ellipsis:
            return True
        if isinstance(a, dict) and any(v is Ellipsis for v in a.values()):
            return True
        if isinstance(a, (list, tuple)) and any(_unanswered(v) for v in a):
            return True
    return False


# --- the four cells ---------------------------------------------------------------------

def _as_counts(answer) -> tuple:
    """(tp, fn, fp, tn) from a BinaryConfusion, a mapping, a 4-sequence or [[TP, FN], [FP, TN]]."""
    if isinstance(answer, BinaryConfusion):
        return tuple(int(v) for v in answer)
    if isinstance(answer, dict):
        low = {str(k).lower(): v for k, v in answer.items()}
        missing = {"tp", "fn", "fp", "tn"} - set(low)
        if missing:
            raise ValueError(f"the answer lacks {sorted(missing)}: give tp, fn, fp and tn")
        return tuple(int(low[k]) for k in ("tp", "fn", "fp", "tn"))
    arr = np.asarray(answer)
    if arr.shape == (2, 2):
        return int(arr[0, 0]), int(arr[0, 1]), int(arr[1, 0]), int(arr[1, 1])
    if arr.shape == (4,):
        return tuple(int(v) for v in arr)
    raise ValueError("give the answer as dict(tp=..., fn=..., fp=..., tn=...), "
                     "a tuple (tp, fn, fp, tn) or a 2x2 table [[TP, FN], [FP, TN]]")


def check_confusion_answer(answer, p_real_on_real, p_real_on_fake, threshold: float = 0.5) -> Verdict:
    """Check hand-counted TP, FN, FP, TN for D's outputs at ``threshold`` (Chapter 4).

    ``answer``: ``dict(tp=..., fn=..., fp=..., tn=...)``, a tuple in that order
    or a 2x2 table ``[[TP, FN], [FP, TN]]``. ``p_real_on_real``,
    ``p_real_on_fake``: D's probabilities on the real and on the fake images;
    an image counts as judged real when its probability is *above* the
    threshold (as in :func:`dcgan_lib.discriminator_confusion`).
    """
    if _unanswered(answer):
        return _UNANSWERED
    got = _as_counts(answer)
    truth = tuple(discriminator_confusion(p_real_on_real, p_real_on_fake, threshold))
    tp, fn, fp, tn = truth
    shown = f"TP={tp}, FN={fn}, FP={fp}, TN={tn}"
    if got == truth:
        return _right(shown + ".")
    real = np.asarray(p_real_on_real, np.float64).reshape(-1)
    fake = np.asarray(p_real_on_fake, np.float64).reshape(-1)
    at_least = (int(np.sum(real >= threshold)), int(np.sum(real < threshold)),
                int(np.sum(fake >= threshold)), int(np.sum(fake < threshold)))
    if got == (tp, fp, fn, tn):
        return _wrong("FP and FN are swapped. FP (false positive) is a *fake* image judged real; "
                      "FN (false negative) is a *real* image judged fake.")
    if got == (tn, fp, fn, tp):
        return _wrong("you made *fake* the positive class. Here the positive class is real: "
                      "TP counts real images judged real.")
    if got == (fn, tp, tn, fp):
        return _wrong("your verdicts are reversed: D judges an image real when its P(real) is "
                      "*above* the threshold.")
    if got == at_least:
        return _wrong(f"check the images whose P(real) is exactly {threshold}: an image counts as "
                      "judged real only when its score is strictly above the threshold.")
    if got[0] + got[1] != real.size or got[2] + got[3] != fake.size:
        return _wrong(f"TP + FN must add up to the {real.size} real images and FP + TN to the "
                      f"{fake.size} fakes; yours add up to {got[0] + got[1]} and {got[2] + got[3]}.")
    names = ("TP", "FN", "FP", "TN")
    bad = [n for n, g, t in zip(names, got, truth) if g != t]
    return _wrong(f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} off. Go through the real "
                  "images (row 'real') and the fakes (row 'fake') one by one, comparing each "
                  "score with the threshold.")


# --- the metrics ------------------------------------------------------------------------

def _close(a, b, tol):
    return a is not None and math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=tol)


def _ratio(num, den):
    return num / den if den else 0.0


def check_metrics_answer(cm, *, accuracy=None, precision=None, recall=None, f1=None,
                         tol: float = 5e-3) -> Verdict:
    """Check accuracy, precision, recall and/or F1 computed by hand from ``cm`` (Chapter 4).

    ``cm``: the counts (anything :func:`check_confusion_answer` accepts as an
    answer). Give the values as fractions in [0, 1] (0.75, not 75); each must be
    within ``tol`` of the right one. Recognises the usual slips, among them the
    seed slides' accuracy formula (TP + TN) / TN (source 004, section 3.2),
    which is 1 + TP / TN: never below 1.
    """
    if _unanswered(accuracy, precision, recall, f1):
        return _UNANSWERED
    tp, fn, fp, tn = _as_counts(cm)
    right = binary_metrics(dict(tp=tp, fn=fn, fp=fp, tn=tn))
    given = {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        raise ValueError("give at least one of accuracy=, precision=, recall=, f1=")
    slips = {
        "accuracy": [((tp + tn) / tn if tn else None,
                      "(TP + TN) / TN is the slides' mistake: it equals 1 + TP / TN, never below "
                      "1. Accuracy divides the correct verdicts by *all* verdicts, "
                      "TP + FP + FN + TN."),
                     ((tp + tn) / (tp + fp) if tp + fp else None,
                      "that divides by the images judged real only (TP + FP). Accuracy divides "
                      "the correct verdicts by *all* verdicts, TP + FP + FN + TN."),
                     (_ratio(tp, tp + fn + fp + tn),
                      "count both kinds of correct verdict: TP *and* TN.")],
        "precision": [(right["recall"], "that is recall. Precision looks down the column "
                                        "'judged real': TP / (TP + FP)."),
                      (_ratio(tn, tn + fn), "precision is about the images judged *real*: "
                                            "TP / (TP + FP).")],
        "recall": [(right["precision"], "that is precision. Recall looks along the row 'real': "
                                        "TP / (TP + FN)."),
                   (right["specificity"], "that is the share of fakes caught (specificity, "
                                          "TN / (TN + FP)). Recall is about the reals: TP / (TP + FN).")],
        "f1": [((right["precision"] + right["recall"]) / 2,
                "that is the arithmetic mean. F1 is the *harmonic* mean: "
                "2 * precision * recall / (precision + recall).")],
    }
    ok, notes = [], []
    for name, value in given.items():
        value = float(value)
        if _close(value, right[name], tol):
            ok.append(name)
            continue
        hint = next((h for v, h in slips[name] if v is not None and _close(value, v, tol)), None)
        if hint is None and _close(value, 100 * right[name], 100 * tol):
            hint = "give it as a fraction in [0, 1], not a percentage."
        notes.append(f"{name} = {value:.4g} is wrong: " + (hint or "recompute it from the four counts."))
    if not notes:
        return _right(", ".join(f"{n} = {right[n]:.4f}" for n in ok) + ".")
    return _wrong(" ".join(notes) + (f" ({', '.join(ok)} right.)" if ok else ""))


# --- which cell is which ----------------------------------------------------------------

_CELL_WORDS = {"tp": "TP", "fn": "FN", "fp": "FP", "tn": "TN",
               "true positive": "TP", "false negative": "FN",
               "false positive": "FP", "true negative": "TN"}


def _cells(answer, what) -> frozenset:
    if isinstance(answer, str):
        text = answer.lower().replace("_", " ").replace("-", " ")
        found = []
        for phrase in sorted(_CELL_WORDS, key=len, reverse=True):
            pattern = r"\b" + phrase.replace(" ", r"\s+") + r"s?\b"
            if re.search(pattern, text):
                found.append(_CELL_WORDS[phrase])
                text = re.sub(pattern, " ", text)
        cells = frozenset(found)
    else:
        cells = frozenset().union(*(_cells(a, what) for a in answer)) if answer else frozenset()
    if not cells:
        raise ValueError(f"{what}: name cells as 'TP', 'FN', 'FP', 'TN' (or 'false positive', ...); "
                         f"got {answer!r}")
    return cells


def check_cell_names(*, type_i=None, type_ii=None, g_wants=None, d_wants=None) -> Verdict:
    """Check which confusion cells are Type I and Type II errors and which G and D want (Chapter 4).

    Name cells as "TP", "FN", "FP", "TN" (or "false positive" and so on);
    ``d_wants`` may name several ("TP and TN", or ["TP", "TN"]). Real is the
    positive class.
    """
    answers = {"type_i": type_i, "type_ii": type_ii, "g_wants": g_wants, "d_wants": d_wants}
    if _unanswered(*answers.values()):
        return _UNANSWERED
    answers = {k: _cells(v, k) for k, v in answers.items() if v is not None}
    if not answers:
        raise ValueError("answer at least one of type_i=, type_ii=, g_wants=, d_wants=")
    truth = {"type_i": {"FP"}, "type_ii": {"FN"}, "g_wants": {"FP"}, "d_wants": {"TP", "TN"}}
    labels = {"type_i": "Type I", "type_ii": "Type II", "g_wants": "G wants", "d_wants": "D wants"}
    hints = {
        "type_i": "a Type I error is a false alarm, a false *positive*: a fake accepted as real (FP).",
        "type_ii": "a Type II error is a miss, a false *negative*: a real image rejected as fake (FN).",
        "g_wants": ("G only makes fakes, so it can only move the 'fake' row; it wants its fakes "
                    "judged real: FP." if answers.get("g_wants", set()) & {"TP", "FN"} else
                    "G wants its fakes judged real, the cell D counts as a false positive: FP."),
        "d_wants": "D wants every verdict right: both diagonal cells, TP and TN.",
    }
    ok, notes = [], []
    for key, cells in answers.items():
        if set(cells) == truth[key]:
            ok.append(f"{labels[key]} = {' and '.join(sorted(cells, key='TP FN FP TN'.split().index))}")
        else:
            notes.append(f"{labels[key]}: {hints[key]}")
    if not notes:
        return _right(", ".join(ok) + ".")
    return _wrong(" ".join(notes) + (f" ({'; '.join(ok)}: right.)" if ok else ""))


# --- choosing a threshold ---------------------------------------------------------------

def check_threshold_answer(threshold, p_real_on_real, p_real_on_fake, *, max_fpr: float = 0.05,
                           slack: float = 0.01) -> Verdict:
    """Check a threshold that lets at most ``max_fpr`` of the fakes pass as real (Chapter 4).

    The exercise: let through no more than ``max_fpr`` of the fakes (Type I
    rate), and as many real images as that allows (recall). Right when the
    false-positive rate is at most ``max_fpr`` and the recall is within
    ``slack`` of the best any threshold achieves under that limit.
    """
    if threshold is Ellipsis:
        return _UNANSWERED
    if not (isinstance(threshold, (int, float, np.floating)) and 0 <= float(threshold) <= 1):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    real = np.asarray(p_real_on_real, np.float64).reshape(-1)
    fake = np.asarray(p_real_on_fake, np.float64).reshape(-1)
    cm = discriminator_confusion(real, fake, float(threshold))
    fpr, recall = cm.fp / fake.size, cm.tp / real.size
    best = 0.0
    for t in np.unique(np.r_[0.0, real, fake, 1.0]):        # the verdicts only change at scores
        c = discriminator_confusion(real, fake, float(t))
        if c.fp / fake.size <= max_fpr:
            best = max(best, c.tp / real.size)
    here = f"at {float(threshold):.3f}, {100 * fpr:.1f}% of fakes pass and recall is {recall:.3f}"
    if fpr > max_fpr:
        return _wrong(f"{here}: more than {100 * max_fpr:g}% of fakes pass. Raise the threshold.")
    if recall < best - slack:
        return _wrong(f"{here}: the limit holds, but a lower threshold keeps it too and accepts "
                      f"more real images (recall up to {best:.3f}). Lower it.")
    return _right(f"{here}; the best recall under the limit is {best:.3f}.")
