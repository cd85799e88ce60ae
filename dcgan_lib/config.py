"""Run sizes: every chapter asks here how big its run is, so that CI runs the very same cells
on a small budget. ``DCGAN_QUICK=1`` selects the quick sizes, unset or 0 the full ones."""

from __future__ import annotations

import os
import types


def quick_mode() -> bool:
    """True when ``DCGAN_QUICK`` is 1/true/yes/on; False when unset or 0/false/no/off."""
    value = os.environ.get("DCGAN_QUICK", "").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"", "0", "false", "no", "off"}:
        return False
    raise ValueError(
        f"DCGAN_QUICK={os.environ['DCGAN_QUICK']!r} is not understood: set it to 1 "
        "for the quick CI mode, or unset it (or 0) for full runs."
    )


def sizes(*, verbose=True, **pairs) -> types.SimpleNamespace:
    """Pick each run size's full or quick value and print them. Defined in Chapter 1.

    Each keyword is ``name=(full_value, quick_value)``; the one line printed makes a
    notebook's saved output show the settings that made it.

    >>> sizes(iterations=(20_000, 200), batch_size=(128, 128), verbose=False).batch_size
    128
    """
    quick = quick_mode()
    for name, pair in pairs.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(
                f"sizes({name}=...) needs a pair (full_value, quick_value), got {pair!r}"
            )
    chosen = {name: pair[quick] for name, pair in pairs.items()}
    if verbose:
        mode = "QUICK (DCGAN_QUICK=1)" if quick else "FULL"
        print(f"Run mode {mode}: " + ", ".join(f"{k}={v}" for k, v in chosen.items()))
    return types.SimpleNamespace(**chosen)


__all__ = ["sizes"]
