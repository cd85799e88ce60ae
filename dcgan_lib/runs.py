"""The run folder of ``train --out DIR``, its files checked before they are trusted (a person
may edit them), and an OS lock. Imports without TensorFlow: its functions import what they use."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np

from .data import load_mnist

try:
    import fcntl
except ImportError:  # Windows: no flock, no lock
    fcntl = None

__all__ = []

RUN_FILE, HISTORY_FILE, CHECKPOINT_DIR = "run.json", "history.json", "checkpoints"
LOCK_FILE, RUN_KIND, DEFAULT_EPOCHS = ".lock", "dcgan_lib training run", 5
# A new run's settings where neither the command line nor the model's defaults give them.
NEW_RUN = {"noise": "normal", "seed": 0, "images": None, "checkpoint_every": 1}
NEW_RUN |= {"real_label": 1.0, "ema_decay": None, "precision": "float32"}
# Each setting in run.json: its types (float: any number; None: null) or its choices.
SETTINGS = {"seed": (int,), "batch_size": (int,), "images": (int, None), "epochs": (int, None)}
SETTINGS |= {"learning_rate": (float,), "g_learning_rate": (float,), "beta_1": (float,)}
SETTINGS |= {"real_label": (float,), "checkpoint_every": (int,), "ema_decay": (float, None)}
SETTINGS |= {"noise": ("normal", "uniform")}
SETTINGS["precision"] = ("float32", "mixed_float16", "mixed_bfloat16")
# The settings a run keeps for life (make_gan's options), and what a row of history.json holds.
FIXED = ("noise", "seed", "learning_rate", "g_learning_rate", "beta_1", "real_label")
FIXED += ("ema_decay", "precision")
# The help of the options that set them (the model's defaults set the others).
HELP = {
    "epochs": "train until the run has this many complete epochs (default: the run's last "
    f"setting, else {DEFAULT_EPOCHS}; unlimited with --seconds alone)",
    "images": "use only the first N training images",
    "batch_size": "images per step (default depends on the model)",
    "seed": "seed for weights, noise and data order (default 0)",
    "noise": "z ~ N(0,1) or U(-1,1) (default normal)",
    "learning_rate": "Adam learning rate of D, and of G unless --g-learning-rate is given "
    "(default depends on the model)",
    "g_learning_rate": "G's own Adam learning rate (default: the model's, or --learning-rate "
    "when that is given)",
    "beta_1": "Adam's beta_1 of both optimizers",
    "precision": "layer precision (default float32; mixed_float16 on GPUs, mixed_bfloat16 on "
    "TPUs and recent CPUs/GPUs: see BENCHMARKS.md)",
    "checkpoint_every": "save every N epochs (default 1; the end of training is always saved)",
}
ROW = {"epoch": int, "steps": int, "images": int, "images_seen": int, "seconds": float}
ROW |= {"train_seconds": float, "complete": bool}


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def option(key: str) -> str:
    """The command-line option of a setting: ``--batch-size`` for ``batch_size``."""
    return "--" + key.replace("_", "-")


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _fits(value, kinds) -> bool:
    """Whether ``value`` is one of ``kinds``: types (float: any number), None or strings."""
    if isinstance(value, bool):  # JSON true/false are not numbers here
        return bool in kinds
    types = tuple(k for k in kinds if isinstance(k, type)) + ((int,) if float in kinds else ())
    return isinstance(value, types) or value in [k for k in kinds if not isinstance(k, type)]


def write_json(path, data) -> None:
    """Write ``data`` as JSON atomically (a temporary file, then a rename)."""
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
        os.replace(tmp, path)
    except BaseException:  # a full disk, say: no half-written file left
        tmp.unlink(missing_ok=True)
        raise


def read_run(directory: Path) -> dict:
    """The ``run.json`` of a run directory, checked; CLIError naming what is wrong."""
    from .models import MODELS  # imports TensorFlow

    path = directory / RUN_FILE
    try:
        run = json.loads(path.read_text())
    except FileNotFoundError:
        raise CLIError(f"{directory} is not a training run (it has no {RUN_FILE})") from None
    except (OSError, ValueError) as err:
        why = f"cannot be read as a run description ({err})"
        raise CLIError(f"{path} {why}: undo the edit, or train into a new --out") from None
    if not isinstance(run, dict) or run.get("kind") != RUN_KIND or "model" not in run:
        raise CLIError(f"{path} is not a dcgan_lib run description")

    def refuse(what):
        raise CLIError(f"{path}: {what}; undo the edit, or train into a new --out")

    settings = run.get("settings")
    if not isinstance(run["model"], str) or run["model"] not in MODELS:
        refuse(f"model {run['model']!r} is not one this dcgan_lib knows ({', '.join(MODELS)})")
    if not isinstance(settings, dict):
        refuse(f'"settings" is {json.dumps(settings)}, not an object of settings')
    if not isinstance(run.get("sessions"), list):
        refuse('"sessions" is not a list')
    for key, kinds in SETTINGS.items():
        if key not in settings:
            refuse(f'setting "{key}" is missing')
        if not _fits(settings[key], kinds):
            names = {int: "a whole number", float: "a number", None: "null"}
            want = " or ".join(names.get(k, k) for k in kinds)
            refuse(f'setting "{key}" is {json.dumps(settings[key])}, not {want}')
    return run


def _run_in(out: Path, model: str | None):
    """The run in ``out`` (None for a new run), or refuse ``out``."""
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is a file, not a directory")
    if out.is_dir() and (out / RUN_FILE).exists():
        run = read_run(out)
        if model is not None and run["model"] != model:
            fix = f"use another --out, or --model {run['model']} to continue it"
            raise CLIError(f"{out} holds a run of model '{run['model']}', not '{model}': {fix}")
        return run
    if out.is_dir() and any(p.name != LOCK_FILE for p in out.iterdir()):
        fix = "refusing to write a run into it; choose a new or empty directory"
        raise CLIError(f"{out} is not empty and holds no {RUN_FILE}: {fix}")
    return None


def merge_settings(args, run) -> dict:
    """The settings of this session: the command line's, else the resumed run's (those of
    FIXED may not change), else the model's defaults. CLIError for a value out of range."""
    from .gan import learning_rates  # imports TensorFlow
    from .models import MODELS

    model = args.model or (run or {}).get("model")
    if model is None:
        raise CLIError("--model is required for a new run")
    defaults = {**NEW_RUN, **MODELS[model].defaults}
    old, s = (run["settings"] if run else defaults), {"model": model}
    for key in [key for key in SETTINGS if key != "epochs"]:
        given = getattr(args, key, None)
        if run is not None and key in FIXED and given is not None and given != old[key]:
            fix = "it cannot change when resuming (start a new --out instead)"
            raise CLIError(f"this run was started with {option(key)} {old[key]}; {fix}")
        s[key] = old.get(key) if given is None else given
    for key in ("learning_rate", "g_learning_rate", "seconds"):
        if getattr(args, key) is not None and not 0 < getattr(args, key) < math.inf:
            raise CLIError(f"{option(key)} must be a positive number, got {getattr(args, key)}")
    if not 0 <= s["beta_1"] < 1:
        raise CLIError(f"--beta-1 must be at least 0 and below 1, got {s['beta_1']}")
    if run is None:  # make_gan's rule: --learning-rate alone sets both rates
        s["g_learning_rate"] = learning_rates(defaults, args.learning_rate, args.g_learning_rate)[1]
    epochs = None if args.seconds is not None else old.get("epochs") or DEFAULT_EPOCHS
    epochs = epochs if args.epochs is None else args.epochs
    s.update(xla=args.xla, seconds=args.seconds, epochs=epochs)
    for key in ("epochs", "batch_size", "images", "checkpoint_every"):
        if s[key] is not None and s[key] < 1:
            raise CLIError(f"{option(key)} must be at least 1, got {s[key]}")
    return s


def read_history(path: Path, step: int) -> list:
    """The rows of ``history.json`` up to optimizer step ``step`` (later rows are work no
    checkpoint kept); [] if there is no such file. CLIError if it is not a history."""
    if not path.exists():
        return []
    fix = "undo the edit, or move the file away to restart the history"
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise CLIError(f"{path} cannot be read as a training history ({err}): {fix}") from None
    bad = f"{path} is not a training history"
    for i, row in enumerate(rows if isinstance(rows, list) else [None]):
        if not isinstance(row, dict):
            raise CLIError(f"{bad} (it is not a list of rows): {fix}")
        wrong = ", ".join(key for key, kind in ROW.items() if not _fits(row.get(key), (kind,)))
        if wrong:
            raise CLIError(f"{bad} (row {i + 1} has no valid {wrong}): {fix}")
    return [row for row in rows if row["steps"] <= step]


def _lock(out: Path):
    """Create ``out`` and hold an OS lock on it until this process ends (keep the returned
    file: closing it releases the lock); CLIError if another process holds it."""
    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / LOCK_FILE, "a+")
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        fix = "wait for it to finish, or stop it, before training this run"
        raise CLIError(f"{out} is in use by another trainer ({holder}): {fix}") from None
    handle.truncate(0)
    handle.write(f"process {os.getpid()}")
    handle.flush()
    return handle


def prepare(args, out: Path):
    """``(lock, run, settings, images)`` for ``train --out out``: refused before anything is
    touched, then locked (``run`` is None for a new run)."""
    run = _run_in(out, args.model)
    s = merge_settings(args, run)
    try:
        (images, _), _ = load_mnist()
    except (FileNotFoundError, ValueError) as err:
        raise CLIError(str(err).splitlines()[0]) from None
    if s["images"] is not None and s["images"] > len(images):
        have = f"the {len(images)} training images available"
        raise CLIError(f"--images {s['images']} asks for more than {have}")
    images = images[: s["images"]]
    if len(images) < s["batch_size"]:
        few = f"{len(images)} images are fewer than one batch of {s['batch_size']}"
        raise CLIError(f"{few}: lower --batch-size or raise --images")
    lock = _lock(out)
    if _run_in(out, args.model) != run:  # another trainer wrote it before we locked
        lock.close()
        return prepare(args, out)
    return lock, run, s, images


def find_checkpoint(run, directory: Path, load, use: str, fix: str):
    """``load()``: the checkpoint of the run in ``directory`` it chose (None: none). CLIError if
    it is damaged (how to ``use`` an older one), does not fit, or is missing though the run
    trained (``fix``)."""
    from .checkpoints import DamagedCheckpoint  # imports TensorFlow

    try:
        found = load()
    except DamagedCheckpoint as err:
        fix = "no older checkpoint is intact"
        if err.older:
            step = str(err.older).rsplit("-", 1)[1]
            fix = f"ckpt-{step}, older, is intact: add --from-checkpoint {step} to {use}"
        raise CLIError(f"checkpoint {err.path} is damaged ({err.reason}); {fix}") from None
    except ValueError as err:
        why = f"if this dcgan_lib's '{run['model']}' model differs from the one that made the run"
        raise CLIError(f"{directory}: {err}; {why}, train into a new --out") from None
    steps = [s.get("end_step") for s in (run or {}).get("sessions", []) if isinstance(s, dict)]
    trained = max([n for n in steps if isinstance(n, int)] or [0])
    if not found and trained:
        saved = f"{directory} holds a run saved at step {trained} but no checkpoint in"
        raise CLIError(f"{saved} {directory / CHECKPOINT_DIR}: {fix}")
    return found


def restore(checkpoint, out: Path, run, s, step) -> bool:
    """Restore the newest checkpoint (or ``ckpt-{step}``) for ``train``: whether there was one."""
    if checkpoint.rebuilt:
        found = ", ".join(Path(p).name for p in checkpoint.rebuilt)
        lost = f"{out / CHECKPOINT_DIR / 'checkpoint'} was missing or unreadable"
        print(f"note: {lost}; rebuilt it from the checkpoint files found ({found})")
    use = "carry on from it (the steps after it are lost)"
    fix = "refusing to start it afresh; restore the checkpoint files, or train into a new --out"
    resumed = find_checkpoint(run, out, lambda: checkpoint.restore(step), use, fix)
    old = [run["settings"][key] for key in ("batch_size", "images")] if run else []
    if int(checkpoint.epoch_step) and [s["batch_size"], s["images"]] != old:
        cut = f"{out} stopped in the middle of epoch {int(checkpoint.epoch) + 1}"
        raise CLIError(
            f"{cut}: finish it with the run's --batch-size and --images, then change them"
        )
    return resumed


def load_generator(run, directory: Path, step):
    """``(generator, which)``: G as the newest checkpoint of the run in ``directory`` (or
    ``ckpt-{step}``) holds it, its weight average if the run keeps one; CLIError if it cannot."""
    import tensorflow as tf

    from .checkpoints import choose_checkpoint
    from .models import MODELS

    choose = lambda: choose_checkpoint(directory / CHECKPOINT_DIR, step)
    path = find_checkpoint(run, directory, choose, "sample from it", "restore the checkpoint files")
    if path is None:
        raise CLIError(f"{directory} holds no checkpoint yet: train it first")
    generator, epoch = MODELS[run["model"]].generator(), tf.Variable(0, dtype=tf.int64)
    key = "ema_generator" if run["settings"]["ema_decay"] else "generator"
    try:
        restored = tf.train.Checkpoint(**{key: generator}, epoch=epoch).restore(path)
        restored.expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as err:
        why = f"{type(err).__name__}: {str(err).splitlines()[0]}"
        raise CLIError(f"checkpoint {path} does not fit model '{run['model']}' ({why})") from None
    if not all(np.isfinite(w).all() for w in generator.get_weights()):
        why = f"checkpoint {path} holds weights that are not finite numbers (the run diverged)"
        fix = "sample an older one with --from-checkpoint N, or train a new run with a lower"
        raise CLIError(f"{why}: {fix} --learning-rate")
    average = ", average of G's weights" if key == "ema_generator" else ""
    return generator, f"epoch {int(epoch)}, checkpoint {Path(path).name}{average}"


def start_session(out: Path, run, s, argv, checkpoint, images: int, resumed: bool) -> tuple:
    """Record in ``run.json`` a session that starts now (a new run's if ``run`` is None: then
    sessions left "running" were killed: we hold the lock) and say so. ``(run, session)``."""
    run = run or {"kind": RUN_KIND, "format": 1, "model": s["model"], "created": _now()}
    for old in run.setdefault("sessions", []):
        if isinstance(old, dict) and old.get("status") == "running":
            old["status"] = "killed"
    done, step, skip = int(checkpoint.epoch), checkpoint.step, int(checkpoint.epoch_step)
    session = {"started": _now(), "argv": argv, "start_epoch": done, "start_step": step}
    session["status"] = "running"
    modules = {"dcgan_lib": __package__, "tensorflow": "tensorflow", "keras": "keras"}
    versions = {k: sys.modules[m].__version__ for k, m in modules.items()}  # imported by now
    versions |= {"numpy": np.__version__, "python": platform.python_version()}
    settings = {k: v for k, v in s.items() if k not in ("model", "seconds", "xla")}
    run.update(settings=settings, versions=versions)
    run["sessions"].append(session)
    write_json(out / RUN_FILE, run)
    says = [f"{'Resuming' if resumed else 'Training'} '{s['model']}' in {out}: {images} images"]
    says += [f"batch {s['batch_size']}", f"{images // s['batch_size']} steps/epoch"]
    says += [f"epoch {done + 1} of {s['epochs'] or 'unlimited'}"]
    says += [f"step {step}"] * resumed + [f"batch {skip + 1}"] * bool(skip)
    says += [f"stopping after {s['seconds']:g} s of training"] if s["seconds"] else []
    print(", ".join(says), flush=True)
    return run, session


def end_session(out: Path, run, session, s, checkpoint, saver, stopped, error, seconds) -> int:
    """Record in ``run.json`` how the session ended and say so: the exit status, or CLIError.

    ``saver``: the CheckpointEvery; ``stopped``: the signal that stopped it, "twice" (at once),
    "time budget" or None; ``error``: an error while saving; ``seconds``: of training."""
    epoch, part, step = int(checkpoint.epoch), int(checkpoint.epoch_step), saver.saved_step
    finished = s["epochs"] is not None and epoch >= s["epochs"]
    status = "failed" if error else "diverged" if saver.diverged is not None else "complete"
    if status == "complete" and stopped and not finished:
        status = "time budget" if stopped == "time budget" else "interrupted"
    session.update(ended=_now(), status=status, end_epoch=epoch, end_step=step)
    session["train_seconds"] = round(seconds, 3)
    try:
        write_json(out / RUN_FILE, run)
    except OSError:
        if not error:  # a failed save is the error to report
            raise
    kept = f"the last checkpoint, ckpt-{step}, is intact"
    kept = kept if checkpoint.latest else "no checkpoint was saved"
    if error:  # TF's errors read "path; why [Op:...]"
        why = str(error).splitlines()[0].split("; ")[-1].split(" [Op:")[0]
        why = error.strerror if isinstance(error, OSError) and error.strerror else why
        fix = "free some disk space and run the same command to carry on"
        raise CLIError(f"could not save in {out} ({why}); {kept}: {fix}")
    if status == "diverged":
        why = f"training diverged at step {saver.diverged}: a loss is no longer a finite number"
        fix = "train into a new --out with a lower --learning-rate"
        raise CLIError(f"{why}; {kept}; {fix} (this run's: {s['learning_rate']:g})")
    where = f"epoch {epoch}, step {step}"
    if part:
        where = f"step {step}, {part} batches into epoch {epoch + 1}"
    if status == "interrupted":
        saved = f"saved {where}" if stopped != "twice" else kept
        fix = "run the same command to carry on exactly where it stopped."
        print(f"\nInterrupted: {saved} in {out}; {fix}", file=sys.stderr)
        return 143 if stopped == "SIGTERM" else 130
    done = "Done" if status == "complete" else "Time budget used up"
    print(f"{done}: {where}; checkpoint {checkpoint.latest}, history {out / HISTORY_FILE}")
    return 0


def write_samples(target: Path, generator, n: int, *, noise: str, seed: int):
    """``np.savez(target, images=generate_images(generator, n, ...))``, written one batch at a
    time: memory holds one batch. The file appears under its name only once complete."""
    from .models import generate_batches

    target.parent.mkdir(parents=True, exist_ok=True)
    need, free = n * 28 * 28 * 4, shutil.disk_usage(target.parent).free
    if need > free:
        space = f"{need / 1e6:,.0f} MB in {target.parent}, which has {free / 1e6:,.0f} MB free"
        raise CLIError(f"--n {n} needs {space}: ask for fewer images (evaluate uses 10,000)")
    tmp, done = target.with_name(target.stem + ".tmp.npz"), 0
    header = {"descr": "<f4", "fortran_order": False, "shape": (n, 28, 28, 1)}
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            with archive.open("images.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array_header_1_0(f, header)
                for batch in generate_batches(generator, n, noise=noise, seed=seed):
                    f.write(batch.astype("<f4", copy=False).tobytes())
                    done += len(batch)
                    if n > 10_000 and done % 10_000 == 0:
                        print(f"  {done:,} of {n:,} images", flush=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
