"""A slider on D's decision threshold redrawing its confusion matrix, score histograms and ROC."""

import base64
import io

import numpy as np

from .confusion import binary_metrics, discriminator_confusion, roc_curve
from .plotting import plot_confusion, plot_roc

__all__ = ["threshold_explorer"]


def _to_probabilities(scores, from_logits) -> np.ndarray:
    """D's outputs as P(real), flat float64: a stable sigmoid of logits, else as they are."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    e = np.exp(-np.abs(s))  # <= 1: no overflow
    return np.where(s >= 0, 1 / (1 + e), e / (1 + e)) if from_logits else s


class ThresholdExplorer:
    """D's verdicts at a slider's threshold: ``threshold``, ``confusion``, ``metrics``, ``auc``,
    ``slider``, ``widget``, ``real``/``fake`` (P(real)), ``figure`` (last drawn), ``redraws``."""

    def __init__(self, real, fake, threshold, draw, slider):
        import ipywidgets as w

        self.real, self.fake, self.draw, self.figure, self.redraws = real, fake, draw, None, 0
        self.fpr, self.tpr, _ = roc_curve(real, fake)
        self.auc = float(np.trapezoid(self.tpr, self.fpr))
        options = dict(max=1, step=0.01, description="threshold", continuous_update=False) | slider
        self.slider = w.FloatSlider(threshold, layout={"width": "420px"}, **options)
        self.text, self.output = w.HTML(), w.Output()
        self.widget = w.VBox([w.HBox([self.slider, self.text]), self.output])
        self.slider.observe(lambda change: self.update(), names="value")
        self.update()

    def update(self):
        """Count D's verdicts at the slider's threshold, and redraw."""
        self.threshold = float(self.slider.value)
        self.confusion = discriminator_confusion(self.real, self.fake, self.threshold)
        self.metrics = binary_metrics(self.confusion)
        self.text.value = f"<code>{self.summary()}</code>"
        if self.draw:
            self._redraw()

    def summary(self) -> str:
        """One line: the threshold, the four counts and the four metrics shown now."""
        counts = " ".join(f"{k.upper()} {n}" for k, n in self.confusion._asdict().items())
        rates = " ".join(f"{k} {v:.3f}" for k, v in list(self.metrics.items())[:4])
        return f"threshold {self.threshold:.2f}: {counts} | {rates} | AUC {self.auc:.3f}"

    def _redraw(self):
        import matplotlib.pyplot as plt
        from IPython import get_ipython
        from IPython.display import display

        fig, axes = plt.subplots(1, 3, figsize=(11, 3.1), width_ratios=[1, 1.5, 1], layout="tight")
        plot_confusion(self.confusion, ax=axes[0], title=f"D's verdicts at {self.threshold:.2f}")
        for scores, name in ((self.real, "real"), (self.fake, "fake")):
            axes[1].hist(scores, 40, range=(0, 1), alpha=0.6, label=f"{name} ({scores.size})")
        axes[1].axvline(self.threshold, color="crimson", lw=1.5, label="threshold")
        axes[1].set(yscale="log", xlabel="D's P(real)", ylabel="images (log scale)")
        axes[1].set_title("right of the line: judged real", fontsize=10)
        axes[1].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3)
        mark = (self.confusion.fp / self.fake.size, self.confusion.tp / self.real.size)
        plot_roc(self.fpr, self.tpr, auc_value=self.auc, ax=axes[2], mark=mark, title="ROC")
        self.figure, self.redraws = fig, self.redraws + 1
        if get_ipython() is not None:  # in a notebook: replace the figure below the slider
            with self.output:
                self.output.clear_output(wait=True)
                display(fig)
        plt.close(fig)

    def _repr_mimebundle_(self, **kwargs):  # a notebook shows the widget; a static page (a deck,
        bundle = self.widget._repr_mimebundle_(**kwargs)  # a viewer) the picture drawn last
        if self.figure is not None:
            png = io.BytesIO()
            self.figure.savefig(png, format="png", dpi=72)
            bundle["image/png"] = base64.b64encode(png.getvalue()).decode()
        return bundle

    def __repr__(self):
        return f"ThresholdExplorer({self.summary()})"


def threshold_explorer(
    p_real_on_real, p_real_on_fake, threshold=0.5, *, from_logits=False, draw=True, **slider
) -> ThresholdExplorer:
    """A slider on D's decision threshold redrawing its confusion matrix, score histograms and ROC
    point (``draw=False``: only counts). D's outputs, any shape: probabilities, or logits with
    ``from_logits=True``; ``slider``: FloatSlider options. Threshold outside [0, 1], or outputs
    empty, not finite or not probabilities: ValueError. Defined in Chapter 4."""
    if not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    discriminator_confusion(p_real_on_real, p_real_on_fake, from_logits=from_logits)  # checks them
    real, fake = (_to_probabilities(s, from_logits) for s in (p_real_on_real, p_real_on_fake))
    return ThresholdExplorer(real, fake, threshold, draw, slider)
