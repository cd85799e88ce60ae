"""D's rejection sampling: ``sample --rejection on`` keeps each of G's images with a
probability that D's verdict on it sets (Azadi et al., 2019, "Discriminator rejection
sampling"). A D at its optimum outputs the logit l(x) = log p_data(x) / p_G(x) (Goodfellow et
al., 2014), so keeping x with probability exp(l(x) - m), m the largest logit, turns samples of
G into samples of the data: rejection sampling with G as the proposal. A trained D is not at
its optimum, and it judged G itself, not the average of G's weights that ``sample`` draws
from; measured on ``fast``, it helped after 10 minutes of training in every run, and after 3
was worse as often as better, so it is not the default (issue 16: the search log's tenth
round, ``benchmarks/fast_config_search.md``). Keeping D's favourites instead (the images it rates
highest) is far worse: a density ratio is not a score of quality, and the favourites lack
variety. Chapter 4 shows what D's verdicts say."""

from __future__ import annotations

import numpy as np

from .runs import CLIError

__all__ = []

HELP = "on: keep each image with the probability D's verdict gives it (a model without labels "
HELP += "or clusters, as fast with --clusters 0; it helped some runs and hurt others); "
HELP += "off (default): every image G draws"
MIN_KEPT = 0.01  # below this share of drawn images kept, refuse: D's verdicts are degenerate


def kept_batches(
    generator, discriminator, n: int, *, logits=True, noise="normal", seed=0, tally=None
):
    """``n`` images of ``generator`` that D lets through, in float32 batches (500, 28, 28, 1)
    in [-1, 1] (the last one smaller). Each image x drawn is kept with probability min(1,
    exp(l(x) - m)): l is D's logit (``logits``: D outputs logits, else P(real), turned into
    one), m the largest logit among the first 10,000 images drawn. The same ``seed``, the same
    images. ``tally`` (a dict), if given, ends up holding ``drawn`` and ``kept``. ValueError if
    D keeps under 1 % of them."""
    from .models import draw_noise

    rng, drawn, kept, waiting = np.random.default_rng(seed), 0, 0, []

    def draw(size=500):  # (images, D's logits)
        z = draw_noise((size, generator.input_shape[-1]), noise, rng)
        x = np.clip(np.asarray(generator(z, training=False), np.float32), -1.0, 1.0)
        d = np.asarray(discriminator(x, training=False), np.float64).reshape(-1)
        if not logits:
            d = np.log(np.clip(d, 1e-12, 1.0)) - np.log(np.clip(1.0 - d, 1e-12, 1.0))
        return x, d

    first = [draw() for _ in range(20)]  # 10,000 images set m, then are judged like the rest
    m = max(d.max() for _, d in first)
    if not np.isfinite(m):
        raise ValueError("D's verdicts are not finite numbers: sample with --rejection off")
    while kept < n:
        x, d = first.pop(0) if first else draw()
        keep = rng.random(len(d)) < np.exp(np.minimum(d - m, 0.0))
        drawn, x = drawn + len(d), x[keep][: n - kept]
        kept, waiting = kept + len(x), waiting + [x]
        if tally is not None:
            tally.update(drawn=drawn, kept=kept)
        if drawn >= 100_000 and kept < MIN_KEPT * drawn:
            why = f"D kept {kept:,} of {drawn:,} images drawn (under {MIN_KEPT:.0%})"
            raise ValueError(f"{why}: its verdicts are degenerate; sample with --rejection off")
        if sum(map(len, waiting)) >= 500 or kept == n:  # batches of 500, the last one less
            batch, waiting = np.concatenate(waiting), []
            while len(batch):
                yield batch[:500]
                batch = batch[500:]


class Judge:
    """D's rejection sampling as ``sample`` asks for it: ``batches`` (as :func:`kept_batches`,
    a one-line CLIError if D's verdicts are degenerate); ``str``: what it kept, in words."""

    def __init__(self, discriminator, logits: bool):
        self.discriminator, self.logits, self.tally = discriminator, logits, {}

    @classmethod
    def asked(cls, run, gan, rejection: str | None):
        """A Judge for ``--rejection on`` (CLIError for a labelled model), else None."""
        from .models import MODELS

        if rejection == "on" and MODELS[run["model"]].labelled:
            raise CLIError(f"--rejection on: '{run['model']}' draws digits on request; use off")
        if rejection == "on" and run["settings"]["clusters"]:
            why = "this run's D judges an image with its cluster (--clusters), not alone"
            raise CLIError(f"--rejection on: {why}; use off (or train with --clusters 0)")
        return cls(gan.discriminator, gan.d_logits) if rejection == "on" else None

    def batches(self, generator, n: int, **options):
        try:
            yield from kept_batches(
                generator, self.discriminator, n, logits=self.logits, tally=self.tally, **options
            )
        except ValueError as err:
            raise CLIError(str(err)) from None

    def __str__(self):
        drawn, kept = self.tally.get("drawn", 0), self.tally.get("kept", 0)
        return f"; D's rejection sampling kept {kept:,} of {drawn:,}"
