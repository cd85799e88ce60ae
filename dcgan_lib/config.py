"""Run sizes and quick mode (defined in Chapter 1).

Every chapter asks this module how big its run is, so that CI can execute the
very same notebook cells on a small budget: ``DCGAN_QUICK=1`` selects the quick
sizes, anything else (or nothing) the full-length ones.
"""
from __future__ import annotations

import os
import types

__all__ = ["quick_mode", "sizes"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def quick_mode() -> bool:
    """Return True when the environment asks for the quick (CI) mode.

    Reads ``DCGAN_QUICK``: ``1/true/yes/on`` mean quick, ``0/false/no/off`` or
    unset mean full. Any other value is a mistake and raises ``ValueError``.
    """
    value = os.environ.get("DCGAN_QUICK", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"DCGAN_QUICK={os.environ['DCGAN_QUICK']!r} is not understood: "
        "set it to 1 for the quick CI mode, or unset it (or 0) for full runs."
    )


def sizes(*, verbose: bool = True, **pairs) -> types.SimpleNamespace:
    """Pick the full or the quick value of each run size.

    Each keyword is ``name=(full_value, quick_value)``. Returns a namespace with
    the chosen values and prints them on one line, so the saved output of a
    notebook always shows the settings that made it.

    >>> cfg = sizes(iterations=(20_000, 200), batch_size=(128, 128), verbose=False)
    >>> cfg.batch_size
    128
    """
    quick = quick_mode()
    chosen = {}
    for name, pair in pairs.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(
                f"sizes({name}=...) needs a pair (full_value, quick_value), got {pair!r}"
            )
        chosen[name] = pair[1] if quick else pair[0]
    if verbose:
        mode = "QUICK (DCGAN_QUICK=1)" if quick else "FULL"
        shown = ", ".join(f"{k}={v}" for k, v in chosen.items())
        print(f"Run mode {mode}: {shown}")
    return types.SimpleNamespace(**chosen)
