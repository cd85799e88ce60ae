"""Faults a careless or unlucky student meets (issue 14): nothing lost, nothing silent.

Training is killed (SIGKILL), interrupted (SIGINT, as Ctrl+C sends) or stopped
(SIGTERM) at random points, some of them during a checkpoint's save; the same
command then resumes it, and the run must end exactly as an uninterrupted one
does: every tensor of the last checkpoint (weights, both optimizers, random
states, counters) and every row of history.json but its timings. The signal is
sent by the trainer itself through the test-only DCGAN_TEST_SIGNAL hook of
``dcgan_lib.callbacks.StopOnSignal`` ("SIGTERM 13 0.01": 0.01 s after step 13).
Then the other faults: two trainers on one folder, divergence, damaged or
missing checkpoint files, hand-edited run.json and history.json, a full disk;
and checkpoints saved at chosen steps, mid-epoch, that resume exactly.
"""

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, SHARED_MNIST, needs_mnist, random_digits, run_cli, weights_of

import dcgan_lib as dl
from dcgan_lib import cli
from dcgan_lib.checkpoints import choose_checkpoint

pytestmark = needs_mnist

# 256 images in batches of 32: 8 steps an epoch, a checkpoint after steps 8, 16 and 24
RUN = ("--model", "dense", "--images", 256, "--batch-size", 32, "--epochs", 3, "--seed", 3)


def train(out, *args, signal_at="", **popen):
    """``train --out out ARGS`` in a subprocess, sending itself ``signal_at`` (see above)."""
    return run_cli("train", "--out", out, *args, env={"DCGAN_TEST_SIGNAL": signal_at}, **popen)


def train_here(out, *args):
    """``train`` in this process (TensorFlow is imported once): its exit status."""
    return cli.main(["train", "--out", str(out), *map(str, args)])


def final_state(out):
    """The run's last checkpoint (name and tensors) and its history without timings."""
    import tensorflow as tf

    path = tf.train.latest_checkpoint(out / "checkpoints")
    reader = tf.train.load_checkpoint(path)
    tensors = {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if not name.startswith(("_CHECKPOINTABLE_OBJECT_GRAPH", "save_counter"))
    }
    rows = [
        {k: v for k, v in row.items() if "seconds" not in k}
        for row in json.loads((out / "history.json").read_text())
    ]
    return Path(path).name, tensors, rows


def assert_same_end(out, reference):
    name, tensors, rows = final_state(out)
    assert name == reference[0] == "ckpt-24"
    assert tensors.keys() == reference[1].keys() and len(tensors) > 30
    for key, value in reference[1].items():
        np.testing.assert_array_equal(tensors[key], value, err_msg=key)
    assert rows == reference[2]


def files(directory):
    return {
        p.relative_to(directory): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def one_error_line(capsys, *words):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, and its end."""
    out = tmp_path_factory.mktemp("reference") / "run"
    assert train_here(out, *RUN) == 0
    return out, final_state(out)


@pytest.fixture
def copy(reference, tmp_path):
    """A copy of the reference run to damage."""
    out = tmp_path / "run"
    shutil.copytree(reference[0], out)
    return out


# Odd seeds aim just after an epoch's last step: at the history write and the checkpoint save.
@pytest.mark.parametrize(
    "sig,seed",
    [("SIGKILL", 1), ("SIGKILL", 2), ("SIGINT", 3), ("SIGINT", 4), ("SIGTERM", 5), ("SIGTERM", 6)],
)
def test_stopped_anywhere_then_resumed_equals_uninterrupted(reference, tmp_path, sig, seed):
    rng = random.Random(seed)
    step, delay = (
        (rng.choice([8, 16]), rng.uniform(0, 0.03))
        if seed % 2
        else (rng.randint(1, 22), rng.uniform(0, 0.01))
    )
    out = tmp_path / "run"
    first = train(out, *RUN, signal_at=f"{sig} {step} {delay:.4f}")
    stopped = {"SIGKILL": -9, "SIGINT": 130, "SIGTERM": 143}[sig]
    assert first.returncode in (stopped, 0), first.stdout + first.stderr  # 0: it ended first
    assert "Traceback" not in first.stderr
    assert train_here(out, *RUN) == 0  # the same command
    assert_same_end(out, reference[1])
    sessions = json.loads((out / "run.json").read_text())["sessions"]
    if first.returncode:
        assert [s["status"] for s in sessions] == [
            "killed" if sig == "SIGKILL" else "interrupted",
            "complete",
        ]
    assert not list(out.rglob("*.tmp")) and not list(out.rglob("*_temp"))


def test_one_trainer_per_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    env = dict(os.environ, DCGAN_MNIST=str(SHARED_MNIST), TF_CPP_MIN_LOG_LEVEL="3")
    options = "--model dense --images 256 --batch-size 32 --epochs 1000000".split()
    command = [sys.executable, "-m", "dcgan_lib", "train", "--out", str(out), *options]
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = subprocess.Popen(command, cwd=ROOT, env=env, **quiet)
    try:
        deadline = time.time() + 120
        while not (out / "checkpoints" / "checkpoint").exists():
            assert first.poll() is None and time.time() < deadline
            time.sleep(0.2)
        assert cli.main(["train", "--out", str(out), "--epochs", "2000000"]) == 2
        one_error_line(capsys, str(out), "in use by another trainer", f"process {first.pid}")
    finally:
        first.kill()
        first.wait()
    # its lock died with it; its session is marked for what it was
    assert cli.main(["train", "--out", str(out), "--seconds", "0.2"]) == 0
    sessions = json.loads((out / "run.json").read_text())["sessions"]
    assert [s["status"] for s in sessions] == ["killed", "time budget"]


def test_divergence_stops_and_keeps_the_last_finite_checkpoint(copy, tmp_path, capsys):
    out = tmp_path / "diverging"
    assert train_here(out, *RUN[:8], "--learning-rate", 1e30) == 2  # RUN but its seed
    one_error_line(capsys, "training diverged at step", "lower --learning-rate")
    json.loads(
        (out / "history.json").read_text(),  # valid JSON: null, not NaN
        parse_constant=lambda c: pytest.fail(f"{c} in history.json"),
    )
    assert json.loads((out / "run.json").read_text())["sessions"][-1]["status"] == "diverged"
    assert not list((out / "checkpoints").glob("ckpt-*"))  # no NaN weights saved

    # a checkpoint with NaN weights (written past the guard) is not sampled
    gan = dl.make_gan("dense")
    checkpoint = dl.GANCheckpoint(gan, copy / "checkpoints")
    assert checkpoint.restore()
    weight = gan.sampling_generator.weights[0]  # the weights `sample` draws with
    weight.assign(np.full(weight.shape, np.nan, "float32"))
    with pytest.raises(FloatingPointError):
        checkpoint.save()
    checkpoint.manager.save(checkpoint_number=99)  # past the guard
    assert cli.main(["sample", str(copy), "--n", "4", "--out", str(tmp_path / "x.npz")]) == 2
    one_error_line(capsys, "ckpt-99", "not finite", "--from-checkpoint")
    assert not (tmp_path / "x.npz").exists()

    wrong = [("--learning-rate", "nan"), ("--learning-rate", "inf"), ("--g-learning-rate", "nan")]
    wrong += [("--beta-1", "1.0"), ("--beta-1", "nan"), ("--beta-1", "-5")]
    wrong += [("--seconds", "nan"), ("--seconds", "inf")]
    for option in wrong:
        new = tmp_path / "new"
        assert cli.main(["train", "--model", "dense", "--out", str(new), *option]) == 2
        one_error_line(capsys, option[0])
        assert not new.exists()


def test_damaged_checkpoint_is_named_and_an_older_one_can_be_used(copy, reference, capsys):
    checkpoints = copy / "checkpoints"
    data = checkpoints / "ckpt-24.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:1000])  # truncated
    flipped = bytearray((checkpoints / "ckpt-16.data-00000-of-00001").read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF  # fails its checksum
    (checkpoints / "ckpt-16.data-00000-of-00001").write_bytes(bytes(flipped))
    before = files(copy)
    assert cli.main(["train", "--out", str(copy), "--epochs", "4"]) == 2
    line = one_error_line(capsys, "ckpt-24 is damaged", "ckpt-8", "--from-checkpoint 8")
    assert "does not fit" not in line
    sample = ["sample", str(copy), "--n", "4", "--out", str(copy.parent / "s.npz")]
    assert cli.main(sample) == 2
    one_error_line(capsys, "ckpt-24 is damaged", "--from-checkpoint 8")
    assert cli.main(["train", "--out", str(copy), "--from-checkpoint", "12"]) == 2
    one_error_line(capsys, "no checkpoint ckpt-12", "ckpt-8, ckpt-16, ckpt-24")
    assert cli.main([*sample, "--from-checkpoint", "12"]) == 2
    one_error_line(capsys, "no checkpoint ckpt-12")
    assert files(copy) == before  # nothing written
    assert cli.main([*sample, "--from-checkpoint", "8"]) == 0
    # from step 8 the same run is trained again, to the very same end
    assert cli.main(["train", "--out", str(copy), "--from-checkpoint", "8"]) == 0
    assert_same_end(copy, reference[1])


@pytest.mark.parametrize("state", ["missing", "garbled"])
def test_lost_checkpoint_state_file_is_rebuilt_not_a_fresh_start(copy, reference, state, capsys):
    state_file = copy / "checkpoints" / "checkpoint"
    if state == "missing":
        state_file.unlink()
    else:
        state_file.write_text('model_checkpoint_path: "ckpt-')
    samples = copy.parent / "s.npz"
    assert cli.main(["sample", str(copy), "--n", "4", "--out", str(samples)]) == 0
    out = capsys.readouterr().out
    assert "rebuilt" in out and "ckpt-8, ckpt-16, ckpt-24" in out and "checkpoint ckpt-24" in out
    state_file.unlink()  # lost again: train rebuilds it too
    assert cli.main(["train", "--out", str(copy)]) == 0  # 3 epochs: nothing to do
    out = capsys.readouterr().out
    assert "rebuilt" in out and "ckpt-8, ckpt-16, ckpt-24" in out and "nothing to do" in out
    assert_same_end(copy, reference[1])
    for path in copy.glob("checkpoints/ckpt-*"):  # no checkpoint at all
        path.unlink()
    (copy / "checkpoints" / "checkpoint").unlink()
    before = files(copy)
    assert cli.main(["train", "--out", str(copy), "--epochs", "4"]) == 2
    one_error_line(capsys, "step 24", "no checkpoint", "restore its checkpoint files")
    assert cli.main(["sample", str(copy), "--n", "4", "--out", str(samples), "--force"]) == 2
    assert "no checkpoint yet" not in one_error_line(capsys, "step 24")
    assert files(copy) == before


@pytest.mark.parametrize(
    "edit,words",
    [
        (lambda run: run.update(model="dcgan9"), ("run.json", "dcgan9")),
        (lambda run: run["settings"].update(seed="abc"), ("run.json", "seed", "whole number")),
        (lambda run: run.update(settings=None), ("run.json", "settings")),
        (lambda run: run.update(sessions={}), ("run.json", "sessions")),
        (lambda run: run["settings"].pop("g_learning_rate"), ("g_learning_rate", "missing")),
        (lambda run: run.pop("settings"), ("run.json", "settings")),
        ("truncate run.json", ("run.json", "cannot be read")),
        ("truncate history.json", ("history.json", "cannot be read")),
        ("history.json rows", ("history.json", "steps")),
    ],
)
def test_hand_edited_run_files_are_named(copy, edit, words, capsys):
    if callable(edit):
        run = json.loads((copy / "run.json").read_text())
        edit(run)
        (copy / "run.json").write_text(json.dumps(run))
    elif edit.startswith("truncate"):
        path = copy / edit.split()[1]
        path.write_text(path.read_text()[:40])
    else:
        (copy / "history.json").write_text(json.dumps([{"epoch": 1, "steps": "8"}]))
    before = files(copy)
    assert cli.main(["train", "--out", str(copy), "--epochs", "4"]) == 2
    one_error_line(capsys, *words)
    if not (isinstance(edit, str) and "history" in edit):  # sample reads no history
        assert cli.main(["sample", str(copy), "--n", "4", "--out", str(copy.parent / "s.npz")]) == 2
        one_error_line(capsys, *words)
    assert files(copy) == before


def _full_disk():
    """In the child: no file may grow past 1 MB; writing more fails (EFBIG) as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))


def test_full_disk_while_saving_keeps_the_last_checkpoint(copy):
    before = {p.name for p in (copy / "checkpoints").iterdir()}
    result = train(copy, "--epochs", 4, preexec_fn=_full_disk)
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("error: could not save") and "ckpt-24" in line and "intact" in line
    assert {p.name for p in (copy / "checkpoints").iterdir()} == before  # no litter
    assert not list(copy.rglob("*.tmp"))
    assert choose_checkpoint(copy / "checkpoints").endswith("ckpt-24")  # and it reads
    assert json.loads((copy / "run.json").read_text())["sessions"][-1]["status"] == "failed"


def test_checkpoints_at_chosen_steps_resume_exactly(tmp_path):
    """CheckpointEvery(at_steps=...): step 0 at the start, steps within an epoch with how far
    the epoch got (resumed from there, training ends as it would have), an epoch's last step
    with the epoch counted; every=None saves at no other epoch's end."""
    images, batch, steps = random_digits(96), 16, 6  # 6 steps an epoch, 2 epochs

    def gan_and_checkpoint(directory):
        gan = dl.make_gan("dense", seed=1)  # a restored GAN has the saved weights
        return gan, dl.GANCheckpoint(gan, directory, max_to_keep=None)

    def fit(gan, saver, first, last, skip=0):
        data = dl.resumable_dataset(images, batch, seed=1, first_epoch=first, skip=skip)
        options = dict(callbacks=[saver], verbose=0, shuffle=False)
        gan.fit(data, initial_epoch=first, epochs=last, steps_per_epoch=steps - skip, **options)

    gan, checkpoint = gan_and_checkpoint(tmp_path / "a")
    saver = dl.CheckpointEvery(checkpoint, every=None, at_steps=[0, 4, 6, 9])
    fit(gan, saver, 0, 2)
    assert sorted(saver.paths) == [0, 4, 6, 9]
    names = [Path(p).name for p in saver.saved]
    assert names == ["ckpt-0", "ckpt-4", "ckpt-6", "ckpt-9", "ckpt-12"]  # 12: fit's end
    end = weights_of(gan.generator) + weights_of(gan.discriminator)
    for step, (epoch, epoch_step) in {0: (0, 0), 4: (0, 4), 6: (1, 0), 9: (1, 3)}.items():
        gan, checkpoint = gan_and_checkpoint(tmp_path / "a")
        assert checkpoint.restore(step) and checkpoint.step == step
        assert (int(checkpoint.epoch), int(checkpoint.epoch_step)) == (epoch, epoch_step)
    # from step 9, three batches into epoch 2: finish that epoch as the CLI does, same end
    saver = dl.CheckpointEvery(checkpoint, at_steps=[12])
    fit(gan, saver, 1, 2, skip=3)
    assert checkpoint.step == 12 and int(checkpoint.epoch) == 2 and saver.paths[12]
    for a, b in zip(end, weights_of(gan.generator) + weights_of(gan.discriminator)):
        np.testing.assert_array_equal(a, b)


def test_a_batch_that_grows_resumes_exactly_and_refuses_a_change_mid_epoch(tmp_path, capsys):
    """--half-batch-epochs 1: epoch 1 in batches of 32 (8 steps of 256 images), epoch 2 of 64
    (4 steps). Stopped in either epoch, the same command ends as an uninterrupted run; a
    change of the epoch's batch in its middle is refused and leaves the run as it was."""
    grow = ("--model", "dense", "--images", 256, "--batch-size", 64, "--half-batch-epochs", 1)
    grow += ("--epochs", 2, "--seed", 3)
    whole = tmp_path / "whole"
    assert train_here(whole, *grow) == 0
    assert "batches of 64 (32 up to epoch 1)" in capsys.readouterr().out
    name, tensors, rows = final_state(whole)
    assert name == "ckpt-12" and [(r["steps"], r["images"]) for r in rows] == [(8, 256), (12, 256)]
    assert rows[-1]["images_seen"] == 512 and all(r["complete"] for r in rows)
    for step, change in ((3, ("--half-batch-epochs", 0)), (10, ("--batch-size", 32))):
        out = tmp_path / f"stopped_{step}"
        first = train(out, *grow, signal_at=f"SIGTERM {step} 0")
        assert first.returncode == 143, first.stdout + first.stderr
        kept = lambda out=out: {p: b for p, b in files(out).items() if p.name != ".lock"}  # noqa: E731
        before = kept()
        assert cli.main(["train", "--out", str(out), *map(str, change)]) == 2
        one_error_line(capsys, "middle of epoch", "--half-batch-epochs")
        assert kept() == before
        assert train_here(out, *grow) == 0
        end = final_state(out)
        assert end[0] == name and end[2] == rows
        for key, value in tensors.items():
            np.testing.assert_array_equal(end[1][key], value, err_msg=key)


def test_fast_lengthens_its_average_when_the_batch_grows_and_after_a_resume(tmp_path, monkeypatch):
    """The command line's fast: the average's warm-up h is 10 (about the last n / 9 steps) while
    the batch is half, then 5 (n / 4). A session stopped in epoch 2 resumes with 5 and ends
    exactly as the uninterrupted run, the average of G's weights included."""
    seen, fit = [], dl.GAN.fit

    def spy(gan, *args, **kwargs):  # the warm-up each piece of the run trains with
        seen.append((kwargs["initial_epoch"], float(gan.ema_warmup.numpy())))
        return fit(gan, *args, **kwargs)

    monkeypatch.setattr(dl.GAN, "fit", spy)
    grow = ("--model", "fast", "--images", 256, "--batch-size", 64, "--half-batch-epochs", 1)
    grow += ("--epochs", 2, "--seed", 3, "--xla", "off")
    assert train_here(tmp_path / "whole", *grow) == 0
    assert seen == [(0, 10.0), (1, 5.0)]
    name, tensors, rows = final_state(tmp_path / "whole")
    assert any("ema_generator" in key for key in tensors)
    first = train(tmp_path / "stopped", *grow, signal_at="SIGTERM 10 0")
    assert first.returncode == 143, first.stdout + first.stderr
    seen.clear()
    assert train_here(tmp_path / "stopped", *grow) == 0
    assert seen == [(1, 5.0)]  # the rest of epoch 2
    end = final_state(tmp_path / "stopped")
    assert end[0] == name and end[2] == rows
    for key, value in tensors.items():  # oneDNN's convolutions: equal to rounding, not bit for bit
        np.testing.assert_allclose(end[1][key], value, rtol=1e-3, atol=1e-9, err_msg=key)
