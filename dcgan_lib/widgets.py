"""Interactive widgets for exploring a discriminator (defined in Chapter 4).

:func:`threshold_explorer` puts a slider on D's decision threshold: moving it
redraws D's confusion matrix, the two histograms of D's scores (on real and on
fake images) with the threshold drawn across them, and the ROC curve with the
current operating point, and rewrites accuracy, precision, recall and F1.

ipywidgets and matplotlib are imported inside the functions, so the rest of
``dcgan_lib`` works without them.
"""
from __future__ import annotations

import math

import numpy as np

from .confusion import auc, binary_metrics, discriminator_confusion, roc_curve

__all__ = ["ThresholdExplorer", "threshold_explorer", "to_probabilities"]


def to_probabilities(scores, *, from_logits: bool) -> np.ndarray:
    """D's outputs as P(real), float64, flattened: a stable sigmoid for logits, a check otherwise."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.size == 0:
        raise ValueError("no scores given")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores hold NaN or infinite values")
    if from_logits:
        out = np.empty_like(s)
        pos = s >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-s[pos]))
        e = np.exp(s[~pos])
        out[~pos] = e / (1.0 + e)
        return out
    if s.min() < 0 or s.max() > 1:
        raise ValueError(f"probabilities must lie in [0, 1], got [{s.min():.4g}, {s.max():.4g}]; "
                         "for a logit discriminator pass from_logits=True")
    return s


class ThresholdExplorer:
    """A slider on D's threshold and what D's verdicts look like there (Defined in Chapter 4).

    Build it with :func:`threshold_explorer`. An image is judged *real* when
    D's P(real) is strictly above the threshold (as in
    :func:`dcgan_lib.discriminator_confusion`).

    Attributes a notebook or a test can read:

    - ``slider``: the ``ipywidgets.FloatSlider`` (set ``slider.value`` to move it);
    - ``widget``: the whole box to display (the explorer displays itself, too);
    - ``threshold``, ``confusion`` (a :class:`dcgan_lib.BinaryConfusion`) and
      ``metrics`` (:func:`dcgan_lib.binary_metrics`): what is shown *now*;
    - ``auc``: the area under D's ROC curve (it does not depend on the threshold);
    - ``figure``: the last matplotlib figure drawn (None with ``draw=False``);
    - ``redraws``: how many times it has redrawn.
    """

    def __init__(self, p_real_on_real, p_real_on_fake, threshold: float = 0.5, *,
                 from_logits: bool = False, draw: bool = True, continuous_update: bool = False,
                 title: str = "D's verdicts"):
        import ipywidgets as w

        self.real = to_probabilities(p_real_on_real, from_logits=from_logits)
        self.fake = to_probabilities(p_real_on_fake, from_logits=from_logits)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
        self.fpr, self.tpr, _ = roc_curve(self.real, self.fake)
        self.auc = auc(self.fpr, self.tpr)
        self.draw, self.title = draw, title
        self.figure, self.redraws = None, 0
        self.slider = w.FloatSlider(value=threshold, min=0.0, max=1.0, step=0.01,
                                    description="threshold", readout_format=".2f",
                                    continuous_update=continuous_update,
                                    layout=w.Layout(width="420px"))
        self.text = w.HTML()
        self.output = w.Output()
        self.widget = w.VBox([w.HBox([self.slider, self.text]), self.output])
        self.slider.observe(self._on_change, names="value")
        self.update()

    # what is shown ---------------------------------------------------------------

    @property
    def threshold(self) -> float:
        return float(self.slider.value)

    def _on_change(self, change):
        self.update()

    def update(self):
        """Recompute the confusion and metrics at the slider's threshold and redraw."""
        self.confusion = discriminator_confusion(self.real, self.fake, self.threshold)
        self.metrics = binary_metrics(self.confusion)
        m, c = self.metrics, self.confusion
        self.text.value = (
            f"<code>TP {c.tp} FN {c.fn} FP {c.fp} TN {c.tn}</code><br>"
            f"accuracy <b>{m['accuracy']:.3f}</b> &nbsp; precision {m['precision']:.3f} &nbsp; "
            f"recall {m['recall']:.3f} &nbsp; F1 {m['f1']:.3f} &nbsp; AUC {self.auc:.3f}")
        if self.draw:
            self._redraw()

    def summary(self) -> str:
        """One line: the threshold, the four counts and the four metrics shown now."""
        m, c = self.metrics, self.confusion
        return (f"threshold {self.threshold:.2f}: TP {c.tp} FN {c.fn} FP {c.fp} TN {c.tn} | "
                f"accuracy {m['accuracy']:.3f} precision {m['precision']:.3f} "
                f"recall {m['recall']:.3f} F1 {m['f1']:.3f} | AUC {self.auc:.3f}")

    def _redraw(self):
        import matplotlib.pyplot as plt

        from .plotting import plot_confusion, plot_roc

        t = self.threshold
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.1), gridspec_kw={"width_ratios": [1, 1.5, 1]})
        plot_confusion(self.confusion, ax=axes[0], title=f"{self.title} at threshold {t:.2f}")
        bins = np.linspace(0.0, 1.0, 41)
        axes[1].hist(self.real, bins=bins, alpha=0.6, color="tab:blue", label=f"real ({self.real.size})")
        axes[1].hist(self.fake, bins=bins, alpha=0.6, color="tab:orange", label=f"fake ({self.fake.size})")
        axes[1].axvline(t, color="crimson", lw=1.5, label="threshold")
        axes[1].set_yscale("log")
        axes[1].set_xlabel("D's P(real)")
        axes[1].set_ylabel("images (log scale)")
        axes[1].set_title("right of the line: judged real", fontsize=10)
        axes[1].legend(fontsize=7, loc="upper center")
        fpr_now = self.confusion.fp / max(self.fake.size, 1)
        tpr_now = self.confusion.tp / max(self.real.size, 1)
        plot_roc(self.fpr, self.tpr, auc_value=self.auc, ax=axes[2], mark=(fpr_now, tpr_now), title="ROC")
        fig.tight_layout()
        self.figure = fig
        self.redraws += 1
        if _in_ipython():
            from IPython.display import display

            with self.output:
                self.output.clear_output(wait=True)
                display(fig)
        plt.close(fig)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def __repr__(self):
        return f"ThresholdExplorer({self.summary()})"


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def threshold_explorer(p_real_on_real, p_real_on_fake, threshold: float = 0.5, *,
                       from_logits: bool = False, draw: bool = True,
                       continuous_update: bool = False) -> ThresholdExplorer:
    """A slider on D's decision threshold that redraws its confusion matrix (Defined in Chapter 4).

    ``p_real_on_real``, ``p_real_on_fake``: D's outputs on real and on
    generated images, any shape; probabilities in [0, 1], or logits with
    ``from_logits=True`` (turned into probabilities, so the slider is always a
    probability). Returns a :class:`ThresholdExplorer`; the last expression
    of a cell displays it. Moving the slider redraws the matrix, the score
    histograms and the ROC point (on release; ``continuous_update=True`` redraws
    while dragging). ``draw=False`` skips the figures (the counts and metrics
    still follow the slider), for tests and scripts.

    >>> explorer = threshold_explorer([0.9, 0.7, 0.2], [0.1, 0.6], draw=False)
    >>> explorer.confusion
    BinaryConfusion(tp=2, fn=1, fp=1, tn=1)
    >>> explorer.slider.value = 0.65
    >>> explorer.confusion
    BinaryConfusion(tp=2, fn=1, fp=0, tn=2)
    """
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    return ThresholdExplorer(p_real_on_real, p_real_on_fake, threshold, from_logits=from_logits,
                             draw=draw, continuous_update=continuous_update)
