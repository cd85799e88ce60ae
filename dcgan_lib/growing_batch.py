"""A batch that grows during a run: the command line's ``--half-batch-epochs N`` trains a run's
first N epochs in batches of half its ``--batch-size``, then in whole ones. Small batches buy
more steps early, when G learns fastest; larger ones then lower the noise of each step, as a
falling learning rate would (Smith et al., 2018, "Don't decay the learning rate, increase the
batch size"). Then the average of G's weights may take a longer window: the best window grows
faster than the run. Appendix A's ``fast`` model does both in the command line (issue 16: the
search log's eighth and tenth rounds, ``benchmarks/fast_config_search.md``; ``BENCHMARKS.md``
section 8)."""

from __future__ import annotations

__all__ = []
# The settings this module reads (run.json, as ``runs.SETTINGS``; None: no option of its own),
# and the values of runs from before them: no growing batch, no late window.
SETTINGS = {
    "half_batch_epochs": ((int,), "the first N epochs at half the batch size (default: model's)"),
    "ema_late_warmup": ((float, None), None),  # the average's h (gan.py) once the batch has grown
}
BEFORE = {"half_batch_epochs": 0, "ema_late_warmup": None}


def batch_at(s: dict, epoch: int) -> int:
    """Images per step in ``epoch`` (0: the first) of a run with settings ``s``: half its
    ``batch_size`` (rounded down) in its first ``half_batch_epochs``, then all of it."""
    half = epoch < s.get("half_batch_epochs", 0) and s["batch_size"] > 1
    return s["batch_size"] // 2 if half else s["batch_size"]


def warmup_at(s: dict, epoch: int) -> float:
    """The average of G's weights' warm-up h (``dl.GAN._update_ema``: about the last n / (h - 1)
    steps) in ``epoch``: 10, and ``ema_late_warmup`` (a longer window) once the batch has grown."""
    late = s.get("ema_late_warmup")
    return 10.0 if late is None or batch_at(s, epoch) < s["batch_size"] else late


def segments(first: int, last: int, s: dict, cut=False) -> list:
    """Epochs ``first`` + 1 to ``last`` as ``(first, last)`` pieces of one batch size each; with
    ``cut``, epoch ``first`` + 1 (cut short by an earlier session) is a piece of its own."""
    if cut:
        return [(first, first + 1)] + segments(first + 1, last, s)
    grows = min(max(first, s.get("half_batch_epochs", 0)), last)
    return [(a, b) for a, b in ((first, grows), (grows, last)) if a < b]


def describe(s: dict, epoch: int) -> str:
    """What ``train`` says of the batches from ``epoch`` on: "batches of 64 (32 up to epoch 4)"."""
    now, end, size = batch_at(s, epoch), s.get("half_batch_epochs", 0), s["batch_size"]
    return f"batches of {size}" + (f" ({now} up to epoch {end})" if now != size else "")
