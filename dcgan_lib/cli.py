"""Command line: ``python -m dcgan_lib train | sample | evaluate`` (see ``--help``); errors
are one line on stderr and exit status 2. The run folders: :mod:`dcgan_lib.runs`."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

from . import clusters, rejection, runs
from .data import resumable_dataset
from .growing_batch import batch_at, segments, warmup_at
from .runs import CHECKPOINT_DIR, HISTORY_FILE, CLIError


def cmd_train(args) -> int:
    out = Path(args.out).expanduser()
    lock, run, s, (images, labels) = runs.prepare(args, out)  # the lock is held until we return
    import keras
    import tensorflow as tf

    from .callbacks import EpochHistory, StopOnSignal, TimeBudget
    from .checkpoints import CheckpointEvery, GANCheckpoint
    from .conditional import labelled_dataset, rate_tails
    from .gan import make_gan
    from .progress import Progress

    keras.utils.set_random_seed(s["seed"])  # the same seed, the same weights
    jit = {"auto": "auto", "on": True, "off": False}[s["xla"]]
    gan = make_gan(s["model"], **{key: s[key] for key in runs.FIXED}, jit_compile=jit)
    checkpoint = GANCheckpoint(gan, out / CHECKPOINT_DIR)
    runs.restore(checkpoint, out, run, args.from_checkpoint, s)
    history = runs.read_history(out / HISTORY_FILE, checkpoint.step)  # later rows: lost work
    done, skip, size = int(checkpoint.epoch), int(checkpoint.epoch_step), s["batch_size"]
    if s["epochs"] is not None and done >= s["epochs"]:
        held = f"{done} complete epochs (step {checkpoint.step}) of '{s['model']}'"
        print(f"{out} already holds {held}; nothing to do. Raise --epochs to train further.")
        return 0
    run, session = runs.start_session(out, run, s, args.argv, checkpoint, len(images))
    log = EpochHistory(size, rows=history, path=out / HISTORY_FILE, epochs=s["epochs"], verbose=1)
    saver = CheckpointEvery(checkpoint, every=s["checkpoint_every"])
    budget, stopper, error = TimeBudget(s["seconds"] or math.inf), StopOnSignal(), None
    total = s["epochs"] and sum(len(images) // batch_at(s, e) for e in range(s["epochs"]))
    bar = Progress(steps=total, seconds=s["seconds"], out=sys.stdout)  # before log
    tail = rate_tails(s["model"], budget, s["learning_rate"], s["g_learning_rate"])  # Chapter 5
    options = dict(callbacks=[stopper, bar, log, budget, *tail, saver], shuffle=False, verbose=0)

    def fit(first, last, skip=0):  # epochs first+1..last in one batch size, less those done
        size = log.batch_size = batch_at(s, first)  # a batch that grows: growing_batch.py
        if gan.ema_generator is not None:  # and then, maybe, a longer average of G's weights
            gan.ema_warmup.assign(warmup_at(s, first))
        where, n = dict(seed=s["seed"], first_epoch=first, skip=skip), len(images) // size - skip
        data = (labelled_dataset(images, labels, size, classes=s["clusters"] or 10, **where)
                if labels is not None else resumable_dataset(images, size, **where))  # fmt: skip
        gan.fit(data, initial_epoch=first, epochs=last, steps_per_epoch=n, **options)

    with stopper:
        try:  # the rest of an epoch a session cut short (from its next batch), then whole ones
            for first, last in segments(done, s["epochs"] or 10**9, s, cut=skip > 0):
                if not gan.stop_training and not stopper.received:
                    fit(first, last, skip if first == done else 0)
        except KeyboardInterrupt:  # a second Ctrl+C: stop at once, save nothing
            stopper.received = "twice"
        except (OSError, tf.errors.OpError) as err:  # a full disk, say, while saving
            error = err
    stopped = stopper.received or ("time budget" if budget.stopped else None)
    before = history[-1]["train_seconds"] if history else 0
    seconds = log.rows[-1]["train_seconds"] - before if log.rows else 0
    return runs.end_session(out, run, session, s, checkpoint, saver, stopped, error, seconds)


def cmd_sample(args) -> int:
    directory, target = Path(args.dir).expanduser(), Path(args.out).expanduser()
    if not directory.is_dir():
        raise CLIError(f"run directory {directory} does not exist: give one written by 'train'")
    run = runs.read_run(directory)
    if target.suffix not in (".npz", ".png"):
        raise CLIError(f"--out {target} should end in .npz (the images) or .png (a picture)")
    if target.exists() and not args.force:
        raise CLIError(f"{target} already exists: pass --force to overwrite it")
    labels = runs.labels_to_ask(run, args.n, args.digit)  # None: not a conditional run
    gan, which = runs.load_gan(run, directory, args.from_checkpoint)
    judge = rejection.Judge.asked(run, gan, args.rejection)  # None: every image G draws
    options = dict(noise=run["settings"]["noise"], seed=args.seed, labels=labels, judge=judge)
    write = runs.write_grid if target.suffix == ".png" else runs.write_samples
    what = write(target, clusters.sampler(gan, run, args.seed), args.n, **options)
    print(f"Wrote {args.n} images of '{run['model']}' ({which}) to {target}: {what}{judge or ''}")
    return 0


def cmd_evaluate(args) -> int:
    from .quality import MIN_FID_IMAGES, evaluate_file

    try:
        result = evaluate_file(args.file)
    except (FileNotFoundError, ValueError) as err:  # one line that names the file once
        raise CLIError(str(err).splitlines()[0]) from None
    if result["n"] < MIN_FID_IMAGES:
        few = f"warning: only {result['n']} images: below {MIN_FID_IMAGES} (about 8 x the "
        few += "classifier's 128 features) the Fréchet distance is strongly biased upward; "
        print(f"{few}evaluate 10,000 to compare with the course's numbers", file=sys.stderr)
    print(str(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .models import MODELS

    called = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    prog = called if called and called not in ("__main__.py", "-c") else "python -m dcgan_lib"
    what = "Train DCGANs on MNIST, sample from them, evaluate samples. MNIST comes from "
    parser = argparse.ArgumentParser(prog, description=what + "$DCGAN_MNIST (an .npz) if set.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    what = "train a GAN (or carry on training one) into a directory"
    how = "Train a GAN; run again on the same --out to resume."
    train = sub.add_parser("train", help=what, description=how)
    train.add_argument("--model", choices=sorted(MODELS), help="which G and D (a new run needs it)")
    train.add_argument("--out", required=True, help="run directory (resumed if it holds a run)")
    for key, (kinds, what) in runs.SETTINGS.items():  # the settings kept in run.json
        kind = {"type": kinds[0]} if isinstance(kinds[0], type) else {"choices": kinds}
        if what is not None:
            train.add_argument(runs.option(key), help=what, **kind)
    what = "stop after this much training time in this session (alone: no epoch limit; "
    what += "conditional: its learning rates fall to 10 %% over the last 30 %%)"
    train.add_argument("--seconds", type=float, help=what)
    what = "compile the step with XLA (auto: the model's choice, else on when a GPU is visible)"
    train.add_argument("--xla", choices=("auto", "on", "off"), default="auto", help=what)
    what = "carry on from ckpt-STEP, not the newest (when that one is damaged)"
    train.add_argument("--from-checkpoint", type=int, metavar="STEP", help=what)
    what = "generate images from a run's latest checkpoint"
    how = "Write N generated images (key 'images', float32 (N, 28, 28, 1) in [-1, 1]) to an .npz"
    sample = sub.add_parser("sample", help=what, description=how + " file, or a grid to a .png.")
    sample.add_argument("dir", help="run directory written by 'train'")
    sample.add_argument("--n", type=int, required=True, help="number of images")
    sample.add_argument("--out", required=True, help="output .npz file (or .png: a picture)")
    sample.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    sample.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    sample.add_argument("--digit", type=int, help="only this digit (a conditional run's)")
    sample.add_argument("--rejection", choices=("on", "off"), help=rejection.HELP)
    sample.add_argument("--from-checkpoint", type=int, metavar="STEP", help="ckpt-STEP, not newest")
    what = "Evaluate generated images (see dcgan_lib.quality)."
    score = sub.add_parser("evaluate", help="score an .npz of generated images", description=what)
    score.add_argument("file", help=".npz file with key 'images' (from 'sample')")
    for command, run in ((train, cmd_train), (sample, cmd_sample), (score, cmd_evaluate)):
        command.set_defaults(func=run)
    return parser


def main(argv=None) -> int:
    """Run the command line; return the exit status (2 for any user error)."""
    args = build_parser().parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)  # as run.json records them
    try:
        return args.func(args)
    except (CLIError, OSError) as err:  # OSError: permissions, a full disk, ...
        print(f"error: {err}", file=sys.stderr)
        logging.getLogger("tensorflow").setLevel(logging.ERROR)  # not what a failed restore left
        return 2
