"""The run folder of ``train --out DIR``: run.json and history.json (checked: a person may edit
them), its sessions, an OS lock, samples streamed to a file. Imports without TensorFlow."""

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

from . import clusters, growing_batch
from .data import load_mnist

try:
    import fcntl
except ImportError:  # Windows: no flock, no lock
    fcntl = None

__all__ = []

RUN_FILE, HISTORY_FILE, CHECKPOINT_DIR = "run.json", "history.json", "checkpoints"
LOCK_FILE, RUN_KIND, DEFAULT_EPOCHS = ".lock", "dcgan_lib training run", 5
# Each setting in run.json: its types (float: any number; None: null) or its choices, and the
# help of its option (None: no option, the model's defaults set it). The CLI is built from it.
SETTINGS = {
    "epochs": ((int, None), f"stop at N complete epochs (default: last, else {DEFAULT_EPOCHS})"),
    "images": ((int, None), "use only the first N training images"),
    "batch_size": ((int,), "images per step (default: the model's)"),
    "seed": ((int,), "seed for weights, noise and data order (default 0)"),
    "noise": (("normal", "uniform"), "z ~ N(0,1) or U(-1,1) (default normal)"),
    "learning_rate": ((float,), "Adam learning rate of D, and of G (default: the model's)"),
    "g_learning_rate": ((float,), "G's own Adam learning rate (default: as D's)"),
    "beta_1": ((float,), "Adam's beta_1 of both optimizers"),
    "precision": (("float32", "mixed_float16", "mixed_bfloat16"), "layer precision (float32)"),
    "checkpoint_every": ((int,), "save every N epochs (default 1; the end is always saved)"),
    "real_label": ((float,), None),
    "ema_decay": ((float, None), None),
    **clusters.SETTINGS,  # clusters of the images as labels (clusters.py)
} | growing_batch.SETTINGS  # those that batch size and average's window take from the epoch
# A new run's settings where neither the command line nor the model's defaults give them.
NEW_RUN = {"noise": "normal", "seed": 0, "images": None, "checkpoint_every": 1, **clusters.BEFORE}
NEW_RUN |= {"real_label": 1.0, "ema_decay": None, "precision": "float32", **growing_batch.BEFORE}
# The command line's defaults over the model's: fast's growing batch and average (search log 8-10)
COMMAND_LINE = {"fast": dict(half_batch_epochs=4, ema_decay=0.9999, ema_late_warmup=5.0)}
COMMAND_LINE["fast"]["clusters"] = 50  # and 50 clusters of the images (search log 12)
FIXED = ("noise", "seed", "learning_rate", "g_learning_rate", "beta_1", "real_label")
FIXED += ("ema_decay", "precision", "cluster_shares")  # a run keeps these for life (make_gan's)
# The numbers' ranges: what a valid value is, and its test.
_COUNT, _RATE = ("at least 1", lambda n: n >= 1), ("a positive number", lambda x: 0 < x < math.inf)
LIMITS = dict.fromkeys(("epochs", "images", "batch_size", "checkpoint_every"), _COUNT)
LIMITS |= dict.fromkeys(("learning_rate", "g_learning_rate", "seconds"), _RATE)
LIMITS["beta_1"] = ("at least 0 and below 1", lambda x: 0 <= x < 1)
LIMITS |= {"half_batch_epochs": ("at least 0", lambda n: n >= 0)} | clusters.LIMITS
# A row of history.json.
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


def _read_json(path: Path, wrong):
    """The JSON in ``path``; CLIError if it cannot be read or ``wrong(data)`` finds a fault."""
    fix = "move it away to restart the history" if path.name == HISTORY_FILE else "use a new --out"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise CLIError(f"{path} cannot be read ({err}): undo the edit, or {fix}") from None
    problem = wrong(data)
    if problem:
        raise CLIError(f"{path}: {problem}; undo the edit, or {fix}")
    return data


def read_run(directory: Path) -> dict:
    """The checked ``run.json`` of a run directory; CLIError naming what is wrong."""
    from .models import MODELS  # imports TensorFlow

    if not (directory / RUN_FILE).exists():
        raise CLIError(f"{directory} is not a training run (it has no {RUN_FILE})")

    def wrong(run):
        if not isinstance(run, dict) or run.get("kind") != RUN_KIND:
            return "not a dcgan_lib run description"
        settings, model, names = run.get("settings"), run.get("model"), ", ".join(MODELS)
        if not isinstance(model, str) or model not in MODELS:
            return f"model {json.dumps(model)} is not one this dcgan_lib knows ({names})"
        if not isinstance(settings, dict):
            return f'"settings" is {json.dumps(settings)}, not an object'
        settings.update({**growing_batch.BEFORE, **clusters.BEFORE, **settings})  # older runs
        if not isinstance(run.get("sessions"), list):
            return '"sessions" is not a list'
        names = {int: "a whole number", float: "a number", None: "null"}
        for key, (kinds, _) in SETTINGS.items():
            if key not in settings or not _fits(settings[key], kinds):
                value = json.dumps(settings[key]) if key in settings else "missing"
                want = " or ".join(names.get(k, k) for k in kinds)
                return f'setting "{key}" is {value}, not {want}'

    return _read_json(directory / RUN_FILE, wrong)


def read_history(path: Path, step: int) -> list:
    """The rows of ``history.json`` up to step ``step`` (later ones: work no checkpoint kept)."""

    def wrong(rows):
        for i, row in enumerate(rows if isinstance(rows, list) else [{}]):
            row = row if isinstance(row, dict) else {}
            bad = [key for key, kind in ROW.items() if not _fits(row.get(key), (kind,))]
            if bad:
                return f"not a training history (row {i + 1} has no valid {', '.join(bad)})"

    rows = _read_json(path, wrong) if path.exists() else []
    return [row for row in rows if row["steps"] <= step]


def merge_settings(args, run) -> dict:
    """This session's settings: the command line's, else the resumed run's (those in FIXED
    may not change), else the model's defaults. CLIError for a value out of range."""
    from .gan import learning_rates  # imports TensorFlow
    from .models import MODELS

    model = args.model or (run or {}).get("model")
    if model is None:
        raise CLIError("--model is required for a new run")
    defaults = {**NEW_RUN, **MODELS[model].defaults, **COMMAND_LINE.get(model, {})}
    old, s = (run["settings"] if run else defaults), {"model": model}
    for key in SETTINGS:
        given = getattr(args, key, None)
        if run is not None and key in FIXED and given is not None and given != old[key]:
            fix = "it cannot change when resuming (start a new --out instead)"
            raise CLIError(f"this run was started with {option(key)} {old[key]}; {fix}")
        s[key] = old.get(key) if given is None else given
    if args.epochs is None:  # with --seconds alone: until the time is up
        s["epochs"] = None if args.seconds is not None else old.get("epochs") or DEFAULT_EPOCHS
    s.update(xla=defaults.get("xla", "auto") if args.xla == "auto" else args.xla)
    s["seconds"] = args.seconds
    for key, (valid, test) in LIMITS.items():
        if s[key] is not None and not test(s[key]):
            raise CLIError(f"{option(key)} must be {valid}, got {s[key]}")
    if run is None:  # make_gan's rule: --learning-rate alone sets both rates
        s["g_learning_rate"] = learning_rates(defaults, args.learning_rate, args.g_learning_rate)[1]
    return s


def _run_in(out: Path, model: str | None):
    """The run in ``out`` (None for a new run), or CLIError if ``out`` may not hold one."""
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is a file: choose a directory")
    if (out / RUN_FILE).exists():
        run = read_run(out)
        if model is not None and run["model"] != model:
            fix = f"use another --out, or --model {run['model']} to continue it"
            raise CLIError(f"{out} holds a run of model '{run['model']}', not '{model}': {fix}")
        return run
    if out.is_dir() and any(p.name not in (LOCK_FILE, clusters.FILE) for p in out.iterdir()):
        raise CLIError(f"{out} is not empty and holds no {RUN_FILE}: choose a new or empty --out")
    return None


def prepare(args, out: Path):
    """``(lock, run, settings, (images, labels))`` for ``train --out out``: refused before it
    writes, then locked until the process ends or ``lock`` is closed (``run``: None if new)."""
    run = _run_in(out, args.model)
    s = merge_settings(args, run)
    try:
        (images, labels), _ = load_mnist()
    except (FileNotFoundError, ValueError) as err:
        raise CLIError(str(err).splitlines()[0]) from None
    if s["images"] is not None and s["images"] > len(images):
        raise CLIError(f"--images {s['images']} is more than the {len(images)} there are")
    images, labels = images[: s["images"]], labels[: s["images"]]
    if len(images) < s["batch_size"]:
        few = f"{len(images)} images are fewer than one batch of {s['batch_size']}"
        raise CLIError(f"{few}: lower --batch-size or raise --images")
    out.mkdir(parents=True, exist_ok=True)
    lock = open(out / LOCK_FILE, "a+")
    try:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "another process"
        lock.close()
        raise CLIError(f"{out} is in use by another trainer ({holder}): let it end first") from None
    lock.truncate(0)
    print(f"process {os.getpid()}", file=lock, flush=True)
    if _run_in(out, args.model) != run:  # another trainer wrote it before we locked
        lock.close()
        return prepare(args, out)
    return lock, run, s, (images, clusters.labels_for(out, images, labels, s, run))


def restore(checkpoint, directory: Path, run, step, s=None):
    """Restore the newest checkpoint (or ``ckpt-{step}``) of the run in ``directory``: its
    path, or None. CLIError if it is damaged, does not fit, is missing though the run trained,
    or (``s``: train's settings) it ends mid-epoch and ``s`` changes the epoch's batches."""
    from .checkpoints import DamagedCheckpoint  # imports TensorFlow

    if checkpoint.rebuilt:
        names = ", ".join(Path(p).name for p in checkpoint.rebuilt)
        print(f"note: the list of checkpoints was lost; rebuilt it from {names}")
    try:
        found = checkpoint.restore(step)
    except DamagedCheckpoint as err:
        older = f": add --from-checkpoint {err.older.rsplit('-', 1)[1]} to use it"
        raise CLIError(f"{err}{older if err.older else ''}") from None
    except ValueError as err:
        why = f"if this dcgan_lib's '{run['model']}' model differs from the one that made the run"
        raise CLIError(f"{directory}: {err}; {why}, train into a new --out") from None
    ends = [x.get("end_step") for x in run["sessions"] if isinstance(x, dict)] if run else []
    trained = max([n for n in ends if isinstance(n, int)] or [0])
    if not found and trained:
        lost = f"{directory} holds a run saved at step {trained} but no checkpoint"
        raise CLIError(f"{lost}: restore its checkpoint files, or train into a new --out")
    batches = lambda t: (growing_batch.batch_at(t, int(checkpoint.epoch)), t["images"])  # noqa: E731
    if s and run and int(checkpoint.epoch_step) and batches(s) != batches(run["settings"]):
        cut = f"{directory} stopped in the middle of epoch {int(checkpoint.epoch) + 1}"
        raise CLIError(f"{cut}: finish it with its --batch-size, --half-batch-epochs, --images")
    return found


def load_gan(run, directory: Path, step):
    """``(gan, which)``: the run's GAN as the newest checkpoint in ``directory`` (or
    ``ckpt-{step}``) holds it, its ``sampling_generator`` checked; CLIError if it cannot."""
    from .checkpoints import GANCheckpoint
    from .gan import make_gan

    gan = make_gan(run["model"], **{k: run["settings"][k] for k in FIXED if k != "precision"})
    checkpoint = GANCheckpoint(gan, directory / CHECKPOINT_DIR)
    path, generator = restore(checkpoint, directory, run, step), gan.sampling_generator
    if path is None:
        raise CLIError(f"{directory} holds no checkpoint yet: train it first")
    if not all(np.isfinite(w).all() for w in generator.get_weights()):
        why = f"checkpoint {path} holds weights that are not finite numbers (the run diverged)"
        raise CLIError(f"{why}: sample an older one with --from-checkpoint N")
    average = ", average of G's weights" if gan.ema_generator is not None else ""
    return gan, f"epoch {int(checkpoint.epoch)}, checkpoint {Path(path).name}{average}"


def start_session(out: Path, run, s, argv, checkpoint, images: int) -> tuple:
    """Record in ``run.json`` a session starting now (a new run if ``run`` is None), and say
    so; sessions still "running" were killed (we hold the lock). ``(run, session)``."""
    run = run or {"kind": RUN_KIND, "format": 1, "model": s["model"], "created": _now()}
    for old in run.setdefault("sessions", []):
        if isinstance(old, dict) and old.get("status") == "running":
            old["status"] = "killed"
    done, step, skip = int(checkpoint.epoch), checkpoint.step, int(checkpoint.epoch_step)
    session = dict(started=_now(), argv=argv, start_epoch=done, start_step=step, status="running")
    versions = {m: sys.modules[m].__version__ for m in ("dcgan_lib", "tensorflow", "keras")}
    versions |= {"numpy": np.__version__, "python": platform.python_version()}
    run.update(settings={k: v for k, v in s.items() if k in SETTINGS}, versions=versions)
    run["sessions"].append(session)
    write_json(out / RUN_FILE, run)
    until = f"to epoch {s['epochs']}" if s["epochs"] else "with no epoch limit"
    until += f", at most {s['seconds']:g} s" if s["seconds"] else ""
    size = f"{images} images in {growing_batch.describe(s, done)}"
    where = f"Resuming at step {step}, epoch {done + 1}, batch {skip + 1}" if step else "Training"
    print(f"{where}: '{s['model']}' in {out}, {size}, {until}", flush=True)
    return run, session


def end_session(out: Path, run, session, s, checkpoint, saver, stopped, error, seconds) -> int:
    """Record in ``run.json`` how the session ended and say so; the exit status, or CLIError.
    ``saver``: the CheckpointEvery; ``stopped``: the signal's name, "twice" or "time budget";
    ``error``: an error while saving; ``seconds``: of training."""
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
        if not error:  # else the failed save is the error to report
            raise
    kept = f"the last checkpoint, ckpt-{step}, is intact" if checkpoint.latest else "none was saved"
    if error:  # TF's errors read "path; why [Op:...]"
        why = str(error).splitlines()[0].split("; ")[-1].split(" [Op:")[0]
        why = error.strerror if isinstance(error, OSError) and error.strerror else why
        fix = "free some disk space, then run the same command to carry on"
        raise CLIError(f"could not save in {out} ({why}); {kept}: {fix}")
    if status == "diverged":
        fix = f"train into a new --out with a lower --learning-rate than {s['learning_rate']:g}"
        raise CLIError(f"training diverged at step {saver.diverged}; {kept}: {fix}")
    where = f"{part} batches into epoch {epoch + 1}" if part else f"epoch {epoch}"
    if status == "interrupted":
        saved = kept if stopped == "twice" else f"saved step {step}, {where}"
        fix = "run the same command to carry on exactly where it stopped."
        print(f"\nInterrupted: {saved} in {out}; {fix}", file=sys.stderr)
        return 143 if stopped == "SIGTERM" else 130
    done = "Done" if status == "complete" else "Time budget used up"
    print(f"{done}: step {step}, {where}; checkpoint {Path(checkpoint.latest).name} in {out}")
    return 0


def labels_to_ask(run, n: int, digit):
    """The digits (n,) to ask a conditional run's G for (``digit``, else 0..9 in turn), None for
    a run of another model; CLIError for an ``n`` or ``digit`` that cannot be asked for."""
    from .models import MODELS

    if n < 1:
        raise CLIError(f"--n must be at least 1, got {n}")
    labelled = MODELS[run["model"]].labelled
    if digit is not None and not (labelled and 0 <= digit <= 9):
        why = f"'{run['model']}' is not conditional (train one with --model conditional)"
        why = "ask for a digit from 0 to 9" if labelled else why
        raise CLIError(f"--digit {digit}: {why}")
    if labelled:
        return np.arange(n) % 10 if digit is None else np.full(n, digit)


def _batches(generator, n, *, noise, seed, labels=None, judge=None):
    """``n`` images of ``generator``, 500 at a time (of the digits ``labels``, or ``judge``'s)."""
    from .conditional import generate_digits
    from .models import generate_batches

    if labels is None:  # judge: D's rejection sampling (dcgan_lib.rejection), or None
        return (judge.batches if judge else generate_batches)(generator, n, noise=noise, seed=seed)
    parts = (range(start, min(start + 500, n)) for start in range(0, n, 500))
    return (generate_digits(generator, labels[i], noise=noise, seed=[seed, i.start]) for i in parts)


def write_grid(target: Path, generator, n: int, **how) -> str:
    """A picture of ``n`` <= 400 samples (``how``: see :func:`write_samples`), 10 a row (a
    conditional run's columns: 0..9), white on black, in the .png ``target``; what, in words."""
    import matplotlib.image

    from .plotting import image_grid

    if n > 400:
        raise CLIError(f"--n {n} is too many for one picture: ask for at most 400 (or an .npz)")
    images = np.concatenate(list(_batches(generator, n, **how)))
    rows, columns = -(-n // 10), min(n, 10)
    padded = np.concatenate([images, -np.ones((rows * columns - n, 28, 28, 1), np.float32)])
    grid, part = image_grid(padded, rows, columns), target.with_name(target.stem + ".tmp.png")
    matplotlib.image.imsave(part, grid, cmap="gray", vmin=0, vmax=255)
    os.replace(part, target)
    return f"a {rows} x {columns} grid, {grid.shape[1]} x {grid.shape[0]} pixels"


def write_samples(target: Path, generator, n: int, *, labels=None, **how) -> str:
    """``np.savez(target, images=generate_images(generator, n, ...))`` one batch at a time
    (one batch in memory), the file named only once complete; ``how``: noise, seed, judge (D's
    rejection sampling). ``labels`` (n,): the digits a Chapter 5 model is asked for, saved too."""
    target.parent.mkdir(parents=True, exist_ok=True)
    need, free = n * 28 * 28 * 4, shutil.disk_usage(target.parent).free
    if need > free:
        space = f"{need / 1e6:,.0f} MB in {target.parent}, which has {free / 1e6:,.0f} MB free"
        raise CLIError(f"--n {n} needs {space}: ask for fewer images (evaluate uses 10,000)")
    batches = _batches(generator, n, labels=labels, **how)
    tmp, done = target.with_name(target.stem + ".tmp.npz"), 0
    header = {"descr": "<f4", "fortran_order": False, "shape": (n, 28, 28, 1)}
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            with archive.open("images.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array_header_1_0(f, header)
                for batch in batches:
                    f.write(batch.astype("<f4", copy=False).tobytes())
                    done += len(batch)
                    if n > 10_000 and done % 10_000 == 0:
                        print(f"  {done:,} of {n:,} images", flush=True)
            if labels is not None:
                with archive.open("labels.npy", "w") as f:
                    np.lib.format.write_array(f, labels.astype(np.int64))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    return f"float32 ({n}, 28, 28, 1) in [-1, 1]" + (", labels" if labels is not None else "")
