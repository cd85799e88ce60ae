"""The bookkeeping of a run folder for the command line (Chapter 3).

A run folder (``train --out``) holds ``run.json``, ``history.json`` and
``checkpoints/``. This module checks the two JSON files, which a person may
have edited by hand, before anything trusts them, and keeps two trainers out
of one folder with an OS lock (``.lock``) that the operating system releases
when its process ends, however it ends. It needs neither TensorFlow nor Keras.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

try:
    import fcntl
except ImportError:                  # Windows: no flock, no lock
    fcntl = None

__all__ = ["CLIError", "LOCK_FILE", "check_run", "read_history", "lock_run"]

LOCK_FILE = ".lock"

# What each setting in run.json must be: its types (None: may be null) and, for some, its choices.
SETTINGS = {"seed": (int,), "batch_size": (int,), "images": (int, None), "epochs": (int, None),
            "checkpoint_every": (int,), "learning_rate": (float,), "g_learning_rate": (float,),
            "beta_1": (float,), "real_label": (float,), "ema_decay": (float, None),
            "noise": ("normal", "uniform"),
            "precision": ("float32", "mixed_float16", "mixed_bfloat16")}
# What each row of history.json must hold.
ROW = {"epoch": int, "steps": int, "images": int, "images_seen": int, "seconds": float,
       "train_seconds": float, "complete": bool}


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def _fits(value, kinds) -> bool:
    """Whether ``value`` is one of ``kinds``: types, None (null) or the strings allowed."""
    if isinstance(value, bool):                    # JSON true/false are not numbers here
        return bool in kinds
    return any(value is None if kind is None else value == kind if isinstance(kind, str)
               else isinstance(value, (int, float) if kind is float else kind) for kind in kinds)


def check_run(run: dict, path, models) -> dict:
    """Return ``run`` (the parsed ``run.json`` at ``path``) if its fields are what
    ``train`` writes and its model is one of ``models``; else CLIError naming the field."""
    def refuse(what):
        raise CLIError(f"{path}: {what}; undo the edit, or train into a new --out")

    if not isinstance(run["model"], str) or run["model"] not in models:
        refuse(f"model {run['model']!r} is not one this dcgan_lib knows ({', '.join(models)})")
    settings = run.setdefault("settings", {})
    if not isinstance(settings, dict):
        refuse(f"\"settings\" is {json.dumps(settings)}, not an object of settings")
    if not isinstance(run.setdefault("sessions", []), list):
        refuse("\"sessions\" is not a list")
    for key, value in settings.items():
        kinds = SETTINGS.get(key, ())
        if kinds and not _fits(value, kinds):
            want = " or ".join("null" if k is None else k if isinstance(k, str) else
                               {int: "a whole number", float: "a number"}[k] for k in kinds)
            refuse(f"setting \"{key}\" is {json.dumps(value)}, not {want}")
    return run


def read_history(path: Path, step: int) -> list:
    """The rows of ``history.json`` up to optimizer step ``step`` (later rows are
    work that no checkpoint kept); [] if there is no such file. CLIError if the
    file is not a history as ``train`` writes it."""
    if not path.exists():
        return []
    fix = "undo the edit, or move the file away to restart the history"
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise CLIError(f"{path} cannot be read as a training history ({err}): {fix}") from None
    for i, row in enumerate(rows if isinstance(rows, list) else [None]):
        wrong = [key for key, kind in ROW.items()
                 if not isinstance(row, dict) or not _fits(row.get(key), (kind,))]
        if wrong:
            what = f"row {i + 1} has no valid {', '.join(wrong)}" if isinstance(row, dict) \
                else "it is not a list of rows"
            raise CLIError(f"{path} is not a training history ({what}): {fix}")
    return [row for row in rows if row["steps"] <= step]


def lock_run(out: Path):
    """Create ``out`` if need be and hold an OS lock on it until this process ends.

    Returns the open lock file (keep it: closing it releases the lock). CLIError
    if another process holds the lock. The operating system drops a lock with its
    process, so one left by a killed trainer blocks nothing.
    """
    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / LOCK_FILE, "a+")
    if fcntl is None:
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise CLIError(f"{out} is in use by another trainer ({holder}): wait for it to finish, "
                       "or stop it, before training this run") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"process {os.getpid()}")
    handle.flush()
    return handle
