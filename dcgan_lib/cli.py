"""Command line: train a GAN, draw samples from it, evaluate them (Chapter 3).

    python -m dcgan_lib train --model tutorial --out runs/tut --epochs 5
    python -m dcgan_lib sample runs/tut --n 1000 --out samples.npz
    python -m dcgan_lib evaluate samples.npz

``train`` writes into its ``--out`` directory a ``run.json`` (model, settings,
versions, one entry per session), ``history.json`` (one row per epoch) and
``checkpoints/``. Run it again on the same directory and it carries on where
the last checkpoint left off; it refuses a directory that holds another
model's run, or files that are not a run. The models are those of
:data:`dcgan_lib.models.MODEL_BUILDERS` (add one there and it is available
here), trained by :class:`dcgan_lib.gan_model.GAN`. Errors are one line on
stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import datetime
import json
import logging
import math
import os
import platform
import sys
from pathlib import Path

from .runs import LOCK_FILE, CLIError, check_run, lock_run, read_history

__all__ = ["main", "CLIError", "RUN_FILE", "HISTORY_FILE", "CHECKPOINT_DIR"]

RUN_FILE, HISTORY_FILE, CHECKPOINT_DIR = "run.json", "history.json", "checkpoints"
RUN_KIND = "dcgan_lib training run"
# a run keeps these for life
FIXED = ("noise", "seed", "learning_rate", "g_learning_rate", "beta_1", "real_label", "ema_decay", "precision")
DEFAULT_EPOCHS = 5


def _now():
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _versions():
    import keras
    import numpy
    import tensorflow as tf

    from . import __version__

    return {"dcgan_lib": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": numpy.__version__, "python": platform.python_version()}


def _write_json(path, data):
    from .callbacks import write_json

    write_json(path, data)


def read_run(directory: Path) -> dict:
    """The ``run.json`` of a run directory; CLIError if it is not one."""
    path = directory / RUN_FILE
    try:
        run = json.loads(path.read_text())
    except FileNotFoundError:
        raise CLIError(f"{directory} is not a training run (it has no {RUN_FILE})") from None
    except (OSError, ValueError) as err:
        raise CLIError(f"{path} cannot be read as a run description ({err}): undo the edit, "
                       "or train into a new --out") from None
    if not isinstance(run, dict) or run.get("kind") != RUN_KIND or "model" not in run:
        raise CLIError(f"{path} is not a dcgan_lib run description")
    from .models import MODEL_BUILDERS

    return check_run(run, path, MODEL_BUILDERS)


# --- train ---------------------------------------------------------------------

def _check_out_dir(out: Path, model: str | None):
    """Return the existing run in ``out`` (or None for a new run), or refuse."""
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is a file, not a directory")
    if out.is_dir() and (out / RUN_FILE).exists():
        run = read_run(out)
        if model is not None and run["model"] != model:
            raise CLIError(f"{out} holds a run of model '{run['model']}', not '{model}': "
                           f"use another --out, or --model {run['model']} to continue it")
        return run
    if out.is_dir() and any(p.name != LOCK_FILE for p in out.iterdir()):
        raise CLIError(f"{out} is not empty and holds no {RUN_FILE}: refusing to write a run "
                       "into it; choose a new or empty directory")
    return None


def _settings(args, run):
    """Merge command-line options with a resumed run's settings and defaults."""
    from .gan import learning_rates, training_defaults

    model = args.model or (run or {}).get("model")
    if model is None:
        raise CLIError("--model is required for a new run")
    old = (run or {}).get("settings", {})
    defaults = training_defaults(model)
    s = {"model": model}
    for key in ("noise", "seed", "learning_rate", "beta_1", "batch_size", "images", "checkpoint_every",
                "real_label", "ema_decay", "precision"):
        given = getattr(args, key, None)
        if run is not None and key in FIXED and given is not None and given != old.get(key):
            raise CLIError(f"this run was started with --{key.replace('_', '-')} {old.get(key)}; "
                           "it cannot change when resuming (start a new --out instead)")
        fallback = {"noise": "normal", "seed": 0, "images": None, "checkpoint_every": 1,
                    "real_label": 1.0, "ema_decay": None, "precision": "float32"}
        if run is not None and key not in old:              # a run from before the key existed
            s[key] = given if given is not None else fallback.get(key, defaults.get(key))
        else:
            s[key] = given if given is not None else old.get(key, defaults.get(key, fallback.get(key)))
    given_g = getattr(args, "g_learning_rate", None)
    for key, value in (("learning_rate", s["learning_rate"]), ("g_learning_rate", given_g)):
        if value is not None and not 0 < value < math.inf:
            raise CLIError(f"--{key.replace('_', '-')} must be a positive number, got {value}")
    if not 0 <= s["beta_1"] < 1:
        raise CLIError(f"--beta-1 must be at least 0 and below 1, got {s['beta_1']}")
    if run is not None:           # runs from before the key existed trained G at D's rate
        old_g = old.get("g_learning_rate", s["learning_rate"])
        if given_g is not None and given_g != old_g:
            raise CLIError(f"this run was started with --g-learning-rate {old_g}; it cannot change "
                           "when resuming (start a new --out instead)")
        s["g_learning_rate"] = old_g
    else:                         # make_gan's rule: --learning-rate alone sets both rates
        _, s["g_learning_rate"] = learning_rates(defaults, args.learning_rate, given_g)
    s["xla"] = args.xla
    if args.epochs is not None:
        s["epochs"] = args.epochs
    elif args.seconds is not None:
        s["epochs"] = None                       # as many as the time allows
    else:
        s["epochs"] = old.get("epochs") or DEFAULT_EPOCHS
    s["seconds"] = args.seconds
    for key, low in (("epochs", 1), ("batch_size", 1), ("images", 1), ("checkpoint_every", 1)):
        if s[key] is not None and s[key] < low:
            raise CLIError(f"--{key.replace('_', '-')} must be at least {low}, got {s[key]}")
    if s["seconds"] is not None and not 0 < s["seconds"] < math.inf:
        raise CLIError(f"--seconds must be a positive number, got {s['seconds']}")
    return s


def _load_images(count):
    from .data import load_mnist

    try:
        (x_train, _), _ = load_mnist()
    except (FileNotFoundError, ValueError) as err:
        raise CLIError(str(err).splitlines()[0]) from None
    if count is not None:
        if count > len(x_train):
            raise CLIError(f"--images {count} asks for more than the {len(x_train)} training "
                           "images available")
        x_train = x_train[:count]
    return x_train


def _damaged(err, use) -> str:
    """The message for a :class:`~dcgan_lib.checkpoints.DamagedCheckpoint`."""
    older = f"ckpt-{str(err.older).rsplit('-', 1)[1]}" if err.older else None
    fix = (f"{older}, older, is intact: add --from-checkpoint {older[5:]} to {use}" if older
           else "no older checkpoint is intact")
    return f"checkpoint {err.path} is damaged ({err.reason}); {fix}"


def _trained_steps(run) -> int:
    """The most steps a session of ``run`` says it saved (0 for a new run)."""
    return max([s.get("end_step") or 0 for s in (run or {}).get("sessions", [])
                if isinstance(s, dict) and isinstance(s.get("end_step"), int)] or [0])


def _restore(checkpoint, out, run, s, from_checkpoint) -> bool:
    """Restore the newest checkpoint (or --from-checkpoint's); CLIError if it cannot be."""
    from .checkpoints import DamagedCheckpoint

    if checkpoint.rebuilt:
        found = ", ".join(Path(p).name for p in checkpoint.rebuilt)
        print(f"note: {out / CHECKPOINT_DIR / 'checkpoint'} was missing or unreadable; rebuilt it "
              f"from the checkpoint files found ({found})")
    try:
        resumed = checkpoint.restore(from_checkpoint)
    except DamagedCheckpoint as err:
        raise CLIError(_damaged(err, "carry on from it (the steps after it are lost)")) from None
    except ValueError as err:
        raise CLIError(f"{out}: {err}; if this dcgan_lib's '{s['model']}' model differs from "
                       "the one that made the run, train into a new --out") from None
    if not resumed and _trained_steps(run):
        raise CLIError(f"{out} holds a run saved at step {_trained_steps(run)} but no checkpoint "
                       f"in {out / CHECKPOINT_DIR}: refusing to start it afresh; restore the "
                       "checkpoint files, or train into a new --out")
    if int(checkpoint.epoch_step) and (s["batch_size"], s["images"]) != (
            run["settings"].get("batch_size"), run["settings"].get("images")):
        raise CLIError(f"{out} stopped in the middle of epoch {int(checkpoint.epoch) + 1}: finish "
                       "it with the run's --batch-size and --images, then change them")
    return resumed


def _prepare(args, out):
    """The run in ``out`` (None for a new one), the settings and the images; or refuse."""
    run = _check_out_dir(out, args.model)
    s = _settings(args, run)
    images = _load_images(s["images"])
    if len(images) < s["batch_size"]:
        raise CLIError(f"{len(images)} images are fewer than one batch of {s['batch_size']}: "
                       "lower --batch-size or raise --images")
    return run, s, images


def _signal_at(gan) -> list:
    """Test-only fault injection (tests/test_faults.py): with DCGAN_TEST_SIGNAL="SIGTERM 13 0.01"
    this process sends itself SIGTERM 0.01 s after step 13: at a chosen point, or during a save."""
    if not os.environ.get("DCGAN_TEST_SIGNAL"):
        return []
    import signal
    import threading

    import keras

    name, step, delay = os.environ["DCGAN_TEST_SIGNAL"].split()
    kill = threading.Timer(float(delay), os.kill, (os.getpid(), getattr(signal, name)))
    kill.daemon = True

    def after_step(batch, logs):
        if int(gan.g_optimizer.iterations) == int(step):
            kill.start()

    return [keras.callbacks.LambdaCallback(on_train_batch_end=after_step)]


def cmd_train(args) -> int:
    out = Path(args.out).expanduser()
    run, s, images = _prepare(args, out)        # refuse before touching anything
    lock = lock_run(out)                        # noqa: F841 -- held until we return
    if _check_out_dir(out, args.model) != run:  # another trainer wrote it before we locked
        run, s, images = _prepare(args, out)

    import keras
    import tensorflow as tf

    from .callbacks import EpochHistory, StopOnSignal, TimeBudget
    from .checkpoints import CheckpointEvery, GANCheckpoint, resumable_dataset
    from .gan import make_gan

    keras.utils.set_random_seed(s["seed"])                # the same seed, the same weights
    gan = make_gan(s["model"], noise=s["noise"], seed=s["seed"],
                   learning_rate=s["learning_rate"], g_learning_rate=s["g_learning_rate"],
                   beta_1=s["beta_1"], real_label=s["real_label"],
                   ema_decay=s["ema_decay"], precision=s["precision"],
                   jit_compile={"auto": "auto", "on": True, "off": False}[s["xla"]])
    checkpoint = GANCheckpoint(gan, out / CHECKPOINT_DIR)
    resumed = _restore(checkpoint, out, run, s, args.from_checkpoint)
    history = read_history(out / HISTORY_FILE, checkpoint.step)   # later rows: lost work
    done, step, skip = int(checkpoint.epoch), checkpoint.step, int(checkpoint.epoch_step)
    if s["epochs"] is not None and done >= s["epochs"]:
        print(f"{out} already holds {done} complete epochs (step {step}) of '{s['model']}'; "
              f"nothing to do. Raise --epochs to train further.")
        return 0

    run = run or {"kind": RUN_KIND, "format": 1, "model": s["model"], "created": _now(),
                  "sessions": []}
    for old in run["sessions"]:                   # we hold the lock: no one is running them
        if isinstance(old, dict) and old.get("status") == "running":
            old["status"] = "killed"
    session = {"started": _now(), "argv": sys.argv[1:] if args.argv is None else args.argv,
               "start_epoch": done, "start_step": step, "status": "running"}
    run.update(settings={k: v for k, v in s.items() if k not in ("model", "seconds", "xla")},
               versions=_versions())
    run["sessions"].append(session)
    _write_json(out / RUN_FILE, run)

    steps_per_epoch = len(images) // s["batch_size"]
    last = "unlimited" if s["epochs"] is None else s["epochs"]
    print(f"{'Resuming' if resumed else 'Training'} '{s['model']}' in {out}: {len(images)} images, "
          f"batch {s['batch_size']}, {steps_per_epoch} steps/epoch, epoch {done + 1} of {last}"
          + (f", step {step}" if resumed else "") + (f", batch {skip + 1}" if skip else "")
          + (f", stopping after {s['seconds']:g} s of training" if s["seconds"] else ""), flush=True)

    recorder = EpochHistory(s["batch_size"], rows=history, path=out / HISTORY_FILE, verbose=True,
                            epochs=s["epochs"])
    saver = CheckpointEvery(checkpoint, every=s["checkpoint_every"])
    budget = TimeBudget(s["seconds"]) if s["seconds"] else None
    stopper = StopOnSignal()
    options = dict(callbacks=[stopper, recorder] + [budget] * bool(budget) + [saver]
                   + _signal_at(gan),
                   shuffle=False, verbose=1 if sys.stdout.isatty() and s["epochs"] else 0)
    error, epochs = None, s["epochs"] or 10**9
    with stopper:
        try:
            if skip:                    # finish the epoch a session cut short, from its next batch
                gan.fit(resumable_dataset(images, s["batch_size"], seed=s["seed"], first_epoch=done,
                                          skip=skip), initial_epoch=done, epochs=done + 1,
                        steps_per_epoch=steps_per_epoch - skip, **options)
            first = int(checkpoint.epoch)
            if not gan.stop_training and not stopper.received and first < epochs:
                gan.fit(resumable_dataset(images, s["batch_size"], seed=s["seed"],
                                          first_epoch=first), initial_epoch=first, epochs=epochs,
                        steps_per_epoch=steps_per_epoch, **options)
        except KeyboardInterrupt:                    # a second Ctrl+C: stop at once, save nothing
            stopper.received = "twice"
        except (OSError, tf.errors.OpError) as err:  # a full disk, say, while saving
            error = err
    finished = s["epochs"] is not None and int(checkpoint.epoch) >= s["epochs"]
    status = ("failed" if error else "diverged" if saver.diverged is not None
              else "interrupted" if stopper.received and not finished
              else "time budget" if budget and budget.stopped and not finished else "complete")
    seconds = (recorder.rows[-1]["train_seconds"] if recorder.rows else 0) - (
        history[-1]["train_seconds"] if history else 0)
    session.update(ended=_now(), status=status, end_epoch=int(checkpoint.epoch),
                   end_step=saver.saved_step, train_seconds=round(seconds, 3))
    try:
        _write_json(out / RUN_FILE, run)
    except OSError:
        if not error:
            raise
    kept = (f"the last checkpoint, ckpt-{saver.saved_step}, is intact" if resumed or saver.saved
            else "no checkpoint was saved")
    if error:
        reason = (error.strerror if isinstance(error, OSError) and error.strerror else  # TF's:
                  str(error).splitlines()[0].split("; ")[-1].split(" [Op:")[0])  # "path; why [Op:]"
        raise CLIError(f"could not save in {out} ({reason}); {kept}: free some disk space and "
                       "run the same command to carry on")
    if status == "diverged":
        raise CLIError(f"training diverged at step {saver.diverged}: a loss is no longer a finite "
                       f"number; {kept}; train into a new --out with a lower --learning-rate "
                       f"(this run's: {s['learning_rate']:g})")
    where = (f"step {saver.saved_step}, {int(checkpoint.epoch_step)} batches into epoch "
             f"{int(checkpoint.epoch) + 1}" if int(checkpoint.epoch_step)
             else f"epoch {int(checkpoint.epoch)}, step {saver.saved_step}")
    if status == "interrupted":
        saved = f"saved {where}" if stopper.received != "twice" else kept
        print(f"\nInterrupted: {saved} in {out}; run the same command to carry on exactly "
              "where it stopped.", file=sys.stderr)
        return 143 if stopper.received == "SIGTERM" else 130
    note = {"complete": "Done", "time budget": "Time budget used up"}[status]
    print(f"{note}: {where}; checkpoint {checkpoint.latest}, history {out / HISTORY_FILE}")
    return 0


# --- sample ----------------------------------------------------------------------

def cmd_sample(args) -> int:
    directory = Path(args.dir).expanduser()
    if not directory.is_dir():
        raise CLIError(f"run directory {directory} does not exist")
    run = read_run(directory)
    target = Path(args.out).expanduser()
    if target.suffix != ".npz":
        raise CLIError(f"--out {target} should end in .npz")
    if target.exists() and not args.force:
        raise CLIError(f"{target} already exists: pass --force to overwrite it")
    if args.n < 1:
        raise CLIError(f"--n must be at least 1, got {args.n}")

    from .checkpoints import DamagedCheckpoint, choose_checkpoint
    from .models import MODEL_BUILDERS

    model = run["model"]
    if model not in MODEL_BUILDERS:
        raise CLIError(f"{directory} holds a run of model '{model}', which this version of "
                       f"dcgan_lib does not know (known: {', '.join(MODEL_BUILDERS)})")
    try:
        path = choose_checkpoint(directory / CHECKPOINT_DIR, args.from_checkpoint)
    except DamagedCheckpoint as err:
        raise CLIError(_damaged(err, "sample from it")) from None
    if path is None and _trained_steps(run):
        raise CLIError(f"{directory} holds a run saved at step {_trained_steps(run)} but no "
                       f"checkpoint in {directory / CHECKPOINT_DIR}: restore the checkpoint files")
    if path is None:
        raise CLIError(f"{directory} holds no checkpoint yet: train it first")
    import numpy as np
    import tensorflow as tf

    generator = MODEL_BUILDERS[model][0]()
    epoch = tf.Variable(0, dtype=tf.int64)
    # A run that keeps an average of G's weights is sampled from the average.
    key = "ema_generator" if run.get("settings", {}).get("ema_decay") else "generator"
    try:
        tf.train.Checkpoint(**{key: generator}, epoch=epoch).restore(path) \
            .expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as err:
        raise CLIError(f"checkpoint {path} does not fit model '{model}' "
                       f"({type(err).__name__}: {str(err).splitlines()[0]})") from None
    if not all(np.isfinite(w).all() for w in generator.get_weights()):
        raise CLIError(f"checkpoint {path} holds weights that are not finite numbers (the run "
                       "diverged): sample an older one with --from-checkpoint N, or train a new "
                       "run with a lower --learning-rate")
    noise = run.get("settings", {}).get("noise", "normal")
    _write_samples(target, generator, args.n, noise=noise, seed=args.seed)
    which = ", average of G's weights" if key == "ema_generator" else ""
    print(f"Wrote {args.n} images of '{model}' (epoch {int(epoch)}, checkpoint "
          f"{Path(path).name}{which}) to {target}: float32 ({args.n}, 28, 28, 1) in [-1, 1]")
    return 0


def _write_samples(target: Path, generator, n: int, *, noise: str, seed: int):
    """``np.savez(target, images=...)``, written one batch at a time: memory holds one batch.

    The file appears under its name only once complete; progress is shown for large ``n``.
    """
    import shutil
    import zipfile

    import numpy as np

    from .gan import _generate_batches

    target.parent.mkdir(parents=True, exist_ok=True)
    need, free = n * 28 * 28 * 4, shutil.disk_usage(target.parent).free
    if need > free:
        raise CLIError(f"--n {n} needs {need / 1e6:,.0f} MB in {target.parent}, which has "
                       f"{free / 1e6:,.0f} MB free: ask for fewer images (evaluate uses 10,000)")
    tmp = target.with_name(target.stem + ".tmp.npz")
    header = {"descr": "<f4", "fortran_order": False, "shape": (n, 28, 28, 1)}
    try:
        with zipfile.ZipFile(tmp, "w") as archive, \
                archive.open("images.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            done = 0
            for batch in _generate_batches(generator, n, noise=noise, seed=seed):
                f.write(batch.astype("<f4", copy=False).tobytes())
                done += len(batch)
                if n > 10_000 and done % 10_000 == 0:
                    print(f"  {done:,} of {n:,} images", flush=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)


# --- evaluate --------------------------------------------------------------------

def cmd_evaluate(args) -> int:
    try:
        from .quality import MIN_FID_IMAGES, evaluate_file, format_report
    except ImportError as err:
        raise CLIError(f"evaluate needs dcgan_lib.metrics, which cannot be imported ({err})") from None
    try:
        result = evaluate_file(args.file)
    except (FileNotFoundError, ValueError) as err:       # one line that names the file once
        raise CLIError(str(err).splitlines()[0]) from None
    if result["n"] < MIN_FID_IMAGES:
        print(f"warning: only {result['n']} images: below {MIN_FID_IMAGES} (about 8 x the "
              "classifier's 128 features) the Fréchet distance is strongly biased upward; "
              "evaluate 10,000 to compare with the course's numbers", file=sys.stderr)
    print(format_report(result))
    return 0


# --- parser ----------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from .models import MODEL_BUILDERS

    called = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    parser = argparse.ArgumentParser(
        prog=called if called and called not in ("__main__.py", "-c") else "python -m dcgan_lib",
        description="Train DCGANs on MNIST, sample from them, evaluate samples. "
                    "MNIST comes from $DCGAN_MNIST (an .npz in Keras' layout) if set.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train a GAN (or carry on training one) into a directory",
                       description="Train a GAN; run again on the same --out to resume.")
    t.add_argument("--model", choices=sorted(MODEL_BUILDERS),
                   help="which generator/discriminator pair (required for a new run)")
    t.add_argument("--out", required=True, help="run directory (created; resumed if it holds a run)")
    t.add_argument("--epochs", type=int, help="train until the run has this many complete epochs "
                   f"(default: the run's last setting, else {DEFAULT_EPOCHS}; unlimited with "
                   "--seconds alone)")
    t.add_argument("--seconds", type=float, help="stop after this much training time in this session "
                   "(checked after every step); progress is saved")
    t.add_argument("--images", type=int, help="use only the first N training images")
    t.add_argument("--batch-size", type=int, help="images per step (default depends on the model)")
    t.add_argument("--seed", type=int, help="seed for weights, noise and data order (default 0)")
    t.add_argument("--noise", choices=("normal", "uniform"), help="z ~ N(0,1) or U(-1,1) (default normal)")
    t.add_argument("--learning-rate", type=float, help="Adam learning rate of D, and of G unless "
                   "--g-learning-rate is given (default depends on the model)")
    t.add_argument("--g-learning-rate", type=float, help="G's own Adam learning rate (default: the "
                   "model's, or --learning-rate when that is given)")
    t.add_argument("--beta-1", type=float, help="Adam's beta_1 of both optimizers")
    t.add_argument("--precision", choices=("float32", "mixed_float16", "mixed_bfloat16"),
                   help="layer precision (default float32; mixed_float16 on GPUs, mixed_bfloat16 "
                        "on TPUs and recent CPUs/GPUs: see BENCHMARKS.md)")
    t.add_argument("--xla", choices=("auto", "on", "off"), default="auto",
                   help="compile the step with XLA (auto: on when a GPU is visible, as Keras does)")
    t.add_argument("--checkpoint-every", type=int, help="save every N epochs (default 1; the end of "
                   "training is always saved)")
    t.add_argument("--from-checkpoint", type=int, metavar="STEP",
                   help="carry on from the checkpoint ckpt-STEP instead of the newest (when that "
                        "one is damaged); the steps after it are trained again")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="generate images from a run's latest checkpoint",
                       description="Write N generated images (key 'images', float32 (N, 28, 28, 1) "
                                   "in [-1, 1]) to an .npz file.")
    s.add_argument("dir", help="run directory written by 'train'")
    s.add_argument("--n", type=int, required=True, help="number of images")
    s.add_argument("--out", required=True, help="output .npz file")
    s.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    s.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    s.add_argument("--from-checkpoint", type=int, metavar="STEP",
                   help="sample from the checkpoint ckpt-STEP instead of the newest")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", help="score an .npz of generated images",
                       description="Evaluate generated images (see dcgan_lib.metrics).")
    e.add_argument("file", help=".npz file with key 'images' (from 'sample')")
    e.set_defaults(func=cmd_evaluate)
    return parser


def main(argv=None) -> int:
    """Run the command line; return the exit status (2 for any user error)."""
    args = build_parser().parse_args(argv)
    args.argv = None if argv is None else list(argv)
    try:
        return args.func(args)
    except (CLIError, OSError) as err:          # OSError: permissions, a full disk, ...
        print(f"error: {err}", file=sys.stderr)
        # A checkpoint that failed to restore lists every value it left unrestored
        # when its objects are deleted; the line above has said what matters.
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        return 2
