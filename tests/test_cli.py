"""The command line ``python -m dcgan_lib`` (Chapter 3): train, resume, sample, refuse."""

import json
import shutil

import numpy as np
import pytest
from helpers import SHARED_MNIST, needs_mnist, run_cli

from dcgan_lib import cli, models, runs

pytestmark = needs_mnist


def assert_clean_error(result, *words):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A dense run: 512 images, batch 64, one epoch (8 steps)."""
    out = tmp_path_factory.mktemp("runs") / "dense"
    options = ("--model", "dense", "--images", 512, "--epochs", 1, "--batch-size", 64)
    result = run_cli("train", "--out", out, *options)
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert line.startswith("epoch 1/1: d_loss") and line.endswith("/s)")  # one line an epoch
    return out


def test_train_writes_run_history_and_checkpoint(trained):
    run = json.loads((trained / "run.json").read_text())
    assert run["model"] == "dense"
    assert run["settings"]["batch_size"] == 64 and run["settings"]["images"] == 512
    assert {"tensorflow", "keras", "dcgan_lib"} <= set(run["versions"])
    assert run["sessions"][-1]["status"] == "complete"
    (row,) = json.loads((trained / "history.json").read_text())
    assert row["epoch"] == 1 and row["steps"] == 8 and row["images_seen"] == 512
    assert row["complete"] is True
    assert {"d_loss", "g_loss", "d_acc_real", "d_acc_fake", "seconds"} <= set(row)
    assert (trained / "checkpoints" / "ckpt-8.index").is_file()


def test_sample_writes_images_and_refuses_to_overwrite(trained, tmp_path, capsys):
    target = tmp_path / "samples.npz"
    result = run_cli("sample", trained, "--n", 20, "--out", target, "--seed", 1)
    assert result.returncode == 0, result.stderr
    with np.load(target) as f:
        images = f["images"]
    assert images.shape == (20, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0 and images.std() > 0
    before = target.read_bytes()
    assert cli.main(["sample", str(trained), "--n", "5", "--out", str(target)]) == 2
    assert "--force" in capsys.readouterr().err
    assert target.read_bytes() == before
    assert cli.main(["sample", str(trained), "--n", "5", "--out", str(target), "--force"]) == 0
    with np.load(target) as f:
        assert f["images"].shape == (5, 28, 28, 1)


def test_sample_keeps_what_d_lets_through_when_asked(trained, tmp_path, capsys):
    """``sample --rejection on``: D's rejection sampling (issue 16); by default (and with
    ``--rejection off``) ``sample`` writes G's images as drawn, those of ``generate_images``."""
    on, off, options = tmp_path / "on.npz", tmp_path / "off.npz", ["--n", "30", "--seed", "5"]
    assert cli.main(["sample", str(trained), "--out", str(on), "--rejection", "on", *options]) == 0
    assert "D's rejection sampling kept 30 of " in capsys.readouterr().out
    assert cli.main(["sample", str(trained), "--out", str(off), *options]) == 0
    assert "rejection" not in capsys.readouterr().out
    again = tmp_path / "again.npz"
    assert (
        cli.main(["sample", str(trained), "--out", str(again), "--rejection", "off", *options]) == 0
    )
    run = runs.read_run(trained)
    generator = runs.load_gan(run, trained, None)[0].sampling_generator
    drawn = models.generate_images(generator, 30, noise=run["settings"]["noise"], seed=5)
    with np.load(on) as kept, np.load(off) as every, np.load(again) as also:
        assert np.allclose(every["images"], drawn, atol=1e-6)
        assert np.array_equal(also["images"], every["images"])
        assert kept["images"].shape == drawn.shape and not np.allclose(kept["images"], drawn)


def test_resume_continues_the_run(trained, tmp_path):
    out = tmp_path / "dense"
    shutil.copytree(trained, out)
    result = run_cli("train", "--out", out, "--epochs", 2)  # the model comes from run.json
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Resuming" in result.stdout and "step 8" in result.stdout
    epochs = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert len(epochs) == 1 and epochs[0].startswith("epoch 2/2: ")  # one line an epoch
    rows = json.loads((out / "history.json").read_text())
    assert [r["epoch"] for r in rows] == [1, 2] and rows[-1]["steps"] == 16
    assert rows[-1]["images_seen"] == 1024
    run = json.loads((out / "run.json").read_text())
    assert [s["start_step"] for s in run["sessions"]] == [0, 8]
    assert (out / "checkpoints" / "ckpt-16.index").is_file()
    assert cli.main(["train", "--out", str(out), "--epochs", "2"]) == 0  # nothing left to do


def test_refusals(trained, tmp_path, capsys):
    result = run_cli("train", "--model", "tutorial", "--out", trained, "--epochs", 2)
    assert_clean_error(result, "dense", "tutorial")
    other = tmp_path / "other"
    shutil.copytree(trained, other)
    run = json.loads((other / "run.json").read_text())
    run["model"] = "tutorial"
    (other / "run.json").write_text(json.dumps(run))
    result = run_cli("sample", other, "--n", 4, "--out", tmp_path / "x.npz")
    assert_clean_error(result, "does not fit")
    assert not (tmp_path / "x.npz").exists()

    def refused(*argv, words=()):
        assert cli.main([str(a) for a in argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err
        for word in words:
            assert word in err

    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    refused("train", "--model", "dense", "--out", stranger, words=("not empty",))
    assert sorted(p.name for p in stranger.iterdir()) == ["notes.txt"]
    refused("train", "--out", tmp_path / "new", words=("--model",))
    new = ("train", "--model", "dense", "--out")
    refused(*new, tmp_path / "big", "--images", 10**6, words=("--images",))
    refused("train", "--out", trained, "--seed", 5, words=("seed",))
    refused("train", "--out", trained, "--g-learning-rate", 0.1, words=("--g-learning-rate",))
    words = ("--g-learning-rate", "positive")
    refused(*new, tmp_path / "neg", "--g-learning-rate", -1, words=words)
    refused("sample", stranger, "--n", 4, "--out", tmp_path / "x.npz", words=("run.json",))
    empty_run = tmp_path / "empty_run"
    empty_run.mkdir()
    shutil.copy(trained / "run.json", empty_run / "run.json")
    refused("sample", empty_run, "--n", 4, "--out", tmp_path / "x.npz", words=("no checkpoint",))
    nowhere = tmp_path / "nowhere"
    refused("sample", nowhere, "--n", 4, "--out", tmp_path / "x.npz", words=("does not exist",))
    refused("evaluate", tmp_path / "missing.npz", words=("does not exist",))


def test_learning_rate_settings():
    def settings(*argv, run=None):
        args = cli.build_parser().parse_args(["train", "--out", "x", *argv])
        return runs.merge_settings(args, run)

    fast = models.MODELS["fast"].defaults | runs.COMMAND_LINE["fast"]  # the CLI's over make_gan's
    s = settings("--model", "fast")
    g_rate = fast.get("g_learning_rate", fast["learning_rate"])
    assert (s["learning_rate"], s["g_learning_rate"]) == (fast["learning_rate"], g_rate)
    assert (s["real_label"], s["ema_decay"]) == (fast.get("real_label", 1.0), 0.9999)
    assert s["half_batch_epochs"] == 4 and models.MODELS["fast"].defaults["ema_decay"] == 0.999
    assert s["ema_late_warmup"] == 5.0 and settings("--model", "dense")["ema_late_warmup"] is None
    assert s["clusters"] == 50 and settings("--model", "dense")["clusters"] == 0  # search log 12
    assert settings("--model", "fast", "--clusters", "0")["clusters"] == 0
    s = settings("--model", "fast", "--learning-rate", "1e-3")  # alone: both networks
    assert (s["learning_rate"], s["g_learning_rate"]) == (1e-3, 1e-3)
    s = settings("--model", "fast", "--g-learning-rate", "2e-3")
    assert (s["learning_rate"], s["g_learning_rate"]) == (fast["learning_rate"], 2e-3)
    run = {"model": "fast", "settings": {k: v for k, v in s.items() if k in runs.SETTINGS}}
    resumed = settings("--epochs", "9", run=run)  # a run keeps its rates
    assert (resumed["learning_rate"], resumed["g_learning_rate"]) == (fast["learning_rate"], 2e-3)
    assert resumed["epochs"] == 9 and resumed["model"] == "fast"
    with pytest.raises(runs.CLIError, match="started with --g-learning-rate 0.002; it cannot"):
        settings("--g-learning-rate", "1e-3", run=run)


def test_seconds_stops_mid_epoch(tmp_path):
    out = tmp_path / "timed"
    # 20,000 images in batches of 4: 5,000 steps, far more than 1 s of work
    options = ("--model", "dense", "--images", 20000, "--batch-size", 4, "--seconds", 1)
    result = run_cli("train", "--out", out, *options)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Time budget" in result.stdout
    (row,) = json.loads((out / "history.json").read_text())
    assert row["complete"] is False and 0 < row["steps"] < 5000
    assert row["seconds"] < 30
    run = json.loads((out / "run.json").read_text())
    assert run["sessions"][-1]["status"] == "time budget"
    assert run["sessions"][-1]["end_step"] == row["steps"]


# --- evaluate's refusals and warnings (issue 14) ---------------------------------------


def test_evaluate_refuses_bad_files_in_one_line_naming_them_once(damaged_npz, tmp_path, capsys):
    files = damaged_npz({"images": np.zeros((4, 28, 28), np.uint8)})
    np.savez(tmp_path / "unit.npz", images=np.full((4, 28, 28), 0.5, np.float32))
    files.update(directory=tmp_path, unit=tmp_path / "unit.npz", missing=tmp_path / "absent.npz")
    for case, path in files.items():
        assert cli.main(["evaluate", str(path)]) == 2, case
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), (case, err)
        assert lines[0].count(str(path)) == 1, (case, err)
        fix = "2 * x - 1" if case == "unit" else "np.savez"
        assert fix in lines[0] and "pickled" not in lines[0], (case, err)
        assert ("is a directory" in lines[0]) == (case == "directory"), (case, err)


def test_evaluate_warns_below_the_sample_count_that_means_something(tmp_path, capsys):
    with np.load(SHARED_MNIST) as f:
        x = f["x_test"][:50]
    np.savez(tmp_path / "few.npz", images=x)
    assert cli.main(["evaluate", str(tmp_path / "few.npz")]) == 0
    out = capsys.readouterr()
    (warning,) = out.err.strip().splitlines()
    assert warning.startswith("warning: only 50 images: below 1000") and "10,000" in warning
    assert "fid=" in out.out.splitlines()[-1]


def test_unreadable_dcgan_mnist_is_one_line(damaged_npz, tmp_path, monkeypatch, capsys):
    path = damaged_npz({"x_train": np.zeros((2, 28, 28), np.uint8)})["npy"]  # a .npy, not an .npz
    monkeypatch.setenv("DCGAN_MNIST", str(path))
    assert cli.main(["train", "--model", "dense", "--out", str(tmp_path / "run")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error:") and line.count(str(path)) == 1
    assert "single .npy array" in line and "DCGAN_MNIST" in line


# --- sample: streamed to disk, one batch in memory (issue 14) ---------------------------


def test_sample_writes_batch_by_batch_the_same_images(tmp_path, capsys, monkeypatch):
    import tracemalloc

    generator = models.MODELS["dense"].generator()
    n, target = 10_001, tmp_path / "s.npz"

    def write(target):
        runs.write_samples(target, generator, n, noise="normal", seed=3)

    tracemalloc.start()
    try:
        write(target)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n * 28 * 28 * 4 / 4, peak  # 31 MB written, a few MB held
    with np.load(target) as f:
        np.testing.assert_array_equal(f["images"], models.generate_images(generator, n, seed=3))
    assert "10,000 of 10,001 images" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]
    monkeypatch.setattr("shutil.disk_usage", lambda _: type("U", (), {"free": 10**6})())
    with pytest.raises(runs.CLIError, match=r"--n 10001 needs 31 MB .* 1 MB free"):
        write(tmp_path / "t.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]

    def interrupted(*args, **kwargs):  # stopped while writing: no file left
        yield np.zeros((10, 28, 28, 1), np.float32)
        raise KeyboardInterrupt

    monkeypatch.undo()  # room on the disk again
    monkeypatch.setattr(models, "generate_batches", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runs.write_samples(tmp_path / "u.npz", generator, 20, noise="normal", seed=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]


def test_sample_saves_a_picture_a_student_can_open(trained, tmp_path):
    import matplotlib.image

    target = tmp_path / "grid.png"
    result = run_cli("sample", trained, "--n", 25, "--out", target)
    assert result.returncode == 0, result.stderr
    assert "a 3 x 10 grid" in result.stdout and not list(tmp_path.glob("*.tmp*"))
    picture = matplotlib.image.imread(target)  # rows of 10 tiles of 28 px, 2 px apart
    assert picture.shape[:2] == (3 * 30 + 2, 10 * 30 + 2) and picture.std() > 0
    too_many = run_cli("sample", trained, "--n", 401, "--out", tmp_path / "big.png")
    assert_clean_error(too_many, "at most 400")
    assert_clean_error(run_cli("sample", trained, "--n", 4, "--out", tmp_path / "a.jpg"), ".png")
