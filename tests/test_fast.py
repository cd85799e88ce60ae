"""Appendix A's library parts: the fast model, the GAN's options (weight
average, label smoothing, mixed precision), their checkpoints, and the
benchmark script in its smoke mode."""

import json
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import ROOT, needs_mnist, random_digits, run_cli
from helpers import weights_of as _values

import dcgan_lib as dl


def _fit(gan, n=64, batch=32):
    """One epoch of n random digits in batches of ``batch``: the fit history."""
    dataset = dl.resumable_dataset(random_digits(n), batch, seed=0)
    return gan.fit(dataset, epochs=1, steps_per_epoch=n // batch, verbose=0, shuffle=False)


def test_fast_models_shapes_and_defaults():
    g, d = dl.build_fast_generator(), dl.build_fast_discriminator()
    assert g.input_shape == (None, 64) and g.output_shape == (None, 28, 28, 1)
    assert d.output_shape == (None, 1)
    gan = dl.make_gan("fast", seed=0)
    assert gan.ema_generator is not None and gan.sampling_generator is gan.ema_generator
    defaults = dl.MODELS["fast"].defaults
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(defaults["learning_rate"])
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(
        defaults.get("g_learning_rate", defaults["learning_rate"])
    )
    plain = dl.make_gan("tutorial", seed=0)  # the seeds' models: no options
    assert plain.ema_generator is None and plain.sampling_generator is plain.generator
    assert plain.real_label == 1.0


def test_fast_narrow_is_fast_with_g_half_as_wide():
    narrow, fast = dl.MODELS["fast-narrow"], dl.MODELS["fast"]
    assert narrow.defaults == fast.defaults  # the command line adds its own to fast's:
    line = dict(half_batch_epochs=4, ema_decay=0.9999, ema_late_warmup=5.0, clusters=50)
    assert dl.runs.COMMAND_LINE == {"fast": line}  # fast-narrow: none of them, no clusters
    assert narrow.logits and not narrow.labelled
    g, wide = narrow.generator(), fast.generator()
    assert g.output_shape == wide.output_shape == (None, 28, 28, 1)
    widths = [
        layer.filters for layer in g.layers if isinstance(layer, keras.layers.Conv2DTranspose)
    ]
    assert widths == [32, 1]  # fast's: [64, 1]
    assert g.count_params() < wide.count_params() / 2
    d = narrow.discriminator()
    assert d.count_params() == fast.discriminator().count_params()


def test_learning_rates_of_g_and_d():
    def rates(**kw):
        gan = dl.make_gan("fast", seed=0, **kw)
        return float(gan.d_optimizer.learning_rate), float(gan.g_optimizer.learning_rate)

    assert rates(learning_rate=1e-3) == pytest.approx((1e-3, 1e-3))  # alone: both networks
    assert rates(learning_rate=1e-3, g_learning_rate=2e-3) == pytest.approx((1e-3, 2e-3))
    assert rates(g_learning_rate=2e-3)[1] == pytest.approx(2e-3)
    with pytest.raises(ValueError, match="learning rates must be positive"):
        dl.make_gan("fast", g_learning_rate=0.0)


def test_weight_average_follows_its_rule():
    keras.utils.set_random_seed(0)
    gan = dl.make_gan("fast", seed=0, ema_decay=0.999)
    start = _values(gan.ema_generator.weights)
    assert all(np.array_equal(a, b) for a, b in zip(start, _values(gan.generator.weights)))
    _fit(gan, n=32)  # one step
    decay = min(0.999, 2 / 11)  # (1 + step) / (10 + step) at step 1
    after_g = _values(gan.generator.weights)
    for avg, s, g in zip(_values(gan.ema_generator.weights), start, after_g):
        np.testing.assert_allclose(avg, decay * s + (1 - decay) * g, rtol=1e-5, atol=1e-6)
    assert any(not np.array_equal(s, g) for s, g in zip(start, after_g))  # G did move
    assert int(gan.ema_steps) == 1
    gan.ema_warmup.assign(5.0)  # a longer window (the command line's, once the batch grows)
    before, _ = _values(gan.ema_generator.weights), _fit(gan, n=32)
    decay = min(0.999, 3 / 7)  # (1 + step) / (5 + step) at step 2
    for avg, s, g in zip(
        _values(gan.ema_generator.weights), before, _values(gan.generator.weights)
    ):
        np.testing.assert_allclose(avg, decay * s + (1 - decay) * g, rtol=1e-5, atol=1e-6)


def test_the_average_lengthens_once_the_batch_grows():
    from dcgan_lib.growing_batch import warmup_at

    s = dict(batch_size=64, half_batch_epochs=2)
    assert [warmup_at(s, e) for e in range(4)] == [10.0] * 4  # no late window: the library's
    s["ema_late_warmup"] = 5.0
    assert [warmup_at(s, e) for e in range(4)] == [10.0, 10.0, 5.0, 5.0]
    assert warmup_at(s | dict(half_batch_epochs=0), 0) == 5.0  # no growth: from the start


def test_real_label_one_is_the_plain_loss_and_smoothing_changes_d():
    def trained(**options):
        keras.utils.set_random_seed(0)
        spec = dl.MODELS["fast"]
        gan = dl.GAN(
            spec.generator(), spec.discriminator(), d_logits=spec.logits, seed=3, **options
        )
        gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
        _fit(gan)
        return _values(gan.discriminator.trainable_variables)

    plain, same, smoothed = trained(), trained(real_label=1.0), trained(real_label=0.9)
    for a, b in zip(plain, same):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert any(not np.allclose(a, b) for a, b in zip(plain, smoothed))


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_and_samples_float32(precision):
    keras.utils.set_random_seed(0)
    gan = dl.make_gan("fast", seed=0, precision=precision)
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left alone
    assert gan.generator.layers[0].compute_dtype == precision.split("_")[1]
    assert all(v.dtype == "float32" for v in gan.generator.trainable_variables)
    scaled = isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (precision == "mixed_float16")
    g0 = _values(gan.generator.trainable_variables)
    logs = _fit(gan).history
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert any(
        not np.array_equal(a, b) for a, b in zip(g0, _values(gan.generator.trainable_variables))
    )
    images = dl.generate_images(gan.sampling_generator, 5)
    assert images.dtype == np.float32 and images.shape == (5, 28, 28, 1)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="precision"):
        dl.make_gan("fast", precision="float16")
    with pytest.raises(ValueError, match="real_label"):
        dl.make_gan("fast", real_label=0.3)
    with pytest.raises(ValueError, match="ema_decay"):
        dl.make_gan("fast", ema_decay=1.5)


def test_checkpoint_keeps_the_weight_average(tmp_path):
    keras.utils.set_random_seed(0)
    gan = dl.make_gan("fast", seed=0)
    _fit(gan)
    dl.GANCheckpoint(gan, tmp_path).save()
    saved = _values(gan.ema_generator.weights)
    again = dl.make_gan("fast", seed=5)
    assert dl.GANCheckpoint(again, tmp_path).restore()
    for a, b in zip(saved, _values(again.ema_generator.weights)):
        np.testing.assert_array_equal(a, b)
    assert int(again.ema_steps) == int(gan.ema_steps) == 2


@needs_mnist
def test_cli_fast_run_samples_from_the_weight_average(tmp_path):
    def cli(*args):
        done = run_cli(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    cli("train", "--model", "fast", "--out", tmp_path / "run", "--images", 256, "--epochs", 1)
    out = cli("sample", tmp_path / "run", "--n", 20, "--out", tmp_path / "s.npz")
    assert "average of G's weights" in out
    settings = __import__("json").loads((tmp_path / "run" / "run.json").read_text())["settings"]
    assert settings["ema_decay"] == 0.9999 and settings["precision"] == "float32"  # CLI's own
    assert settings["ema_late_warmup"] == 5.0 and settings["half_batch_epochs"] == 4
    assert settings["clusters"] == 50 and (tmp_path / "run" / "clusters.npy").exists()
    defaults = dl.MODELS["fast"].defaults
    assert settings["g_learning_rate"] == defaults.get("g_learning_rate", defaults["learning_rate"])
    with np.load(tmp_path / "s.npz") as f:
        assert f["images"].shape == (20, 28, 28, 1)


@needs_mnist
def test_benchmark_script_smoke(tmp_path):
    env = dict(__import__("os").environ, TF_CPP_MIN_LOG_LEVEL="3")
    out, plot, grid = tmp_path / "B.md", tmp_path / "q.png", tmp_path / "g.png"
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/run_benchmarks.py",
            "--smoke",
            "--out",
            out,
            "--plot",
            plot,
            "--grid",
            grid,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = out.read_text()
    assert "Smoke run" in text and "Ratio kit / plain:" in text
    for heading in ("## Machine", "## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6."):
        assert heading in text
    assert "oneDNN dispatches to" in text and "intra-op" in text
    # four speed options, one thread setting under load, two budgets (fast only when smoke)
    assert text.count("| fast |") == 4 + 1 + 2
    assert text.count("| tutorial |") == 0
    assert plot.stat().st_size > 1000 and grid.stat().st_size > 1000


def test_benchmark_epoch_timing_runs_on_any_device():
    """The GPU-only part of the benchmark (whole timed epochs), run here on a tiny 'epoch'."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "run_benchmarks", ROOT / "benchmarks" / "run_benchmarks.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    images = random_digits(512)
    rows = bench.measure_epochs(images, ["fast"], log=lambda text: None)
    assert [r["option"] for r in rows] == list(bench.OPTIONS)
    assert all(r["epoch_s"] > 0 and r["tflop_s"] > 0 for r in rows)


@needs_mnist
def test_budget_quality_script_writes_section_8_and_keeps_other_models(tmp_path):
    """benchmarks/budget_quality.py --smoke: one CLI run (1 s) scored into section 8, after the
    sections before it; earlier runs (here another model's) stay in its JSON and its table."""
    env = dict(__import__("os").environ, TF_CPP_MIN_LOG_LEVEL="3")
    out, data = tmp_path / "B.md", tmp_path / "b.json"
    out.write_text("# Benchmarks\n\n## 7. Chapter 6\n\nkept\n")
    kept = dict(model="other", minutes=3.0, seed=0, fid=9.0, steps=10, classes=10)
    data.write_text(json.dumps({"runs": [kept]}))
    command = [sys.executable, "benchmarks/budget_quality.py", "--smoke", "--seeds", "0"]
    command += ["--budgets", "3", "--out", str(out), "--json", str(data)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = out.read_text()
    assert text.startswith("# Benchmarks\n\n## 7. Chapter 6\n\nkept\n")
    assert "## 8. Quality at a time budget" in text
    assert "| other | 3 min | 10 | 9.00 [9.00–9.00] |" in text
    runs = json.loads(data.read_text())["runs"]
    assert [r["model"] for r in runs] == ["other", "conditional"]
    # the run names its machine, and the target follows the code oneDNN runs: 5 x on AVX2 code
    machine = runs[1]["machine"]
    assert " cores, oneDNN " in machine
    goal = 5 if "oneDNN Intel AVX2" in machine else 3
    assert re.search(rf"\| conditional \| 3 min \|.*\| ≤ {goal} x \|", text)
    assert f"- {runs[1]['batch']}: {machine}" in text
    assert "- earlier: not recorded" in text  # the kept run had no machine


@needs_mnist
def test_budget_quality_resume_carries_one_run_on_and_names_the_rate(tmp_path):
    """--resume: one run per seed and variant, trained on from the first budget to the second (its
    steps go on, the row is marked *); --g-learning-rates, --batch-sizes and --half-batch-epochs
    name the variant and reach `train`; --rejection on,off scores both ways of sampling the same
    run; a model that schedules its rates over --seconds is refused with --resume."""
    env = dict(__import__("os").environ, TF_CPP_MIN_LOG_LEVEL="3")
    out, data = tmp_path / "B.md", tmp_path / "b.json"
    command = [sys.executable, "benchmarks/budget_quality.py", "--smoke", "--seeds", "0"]
    command += ["--out", str(out), "--json", str(data), "--budgets", "1,2"]
    run = lambda *more: subprocess.run(  # noqa: E731
        command + list(more), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    refused = run("--models", "conditional", "--resume")
    assert refused.returncode == 2 and "schedules its rates over --seconds" in refused.stderr
    refused = run("--models", "fast", "--rejection", "on")  # fast's clusters: D judges pairs
    assert refused.returncode == 2 and "judges images with them" in refused.stderr
    assert not data.exists()
    done = run(
        "--models", "fast", "--resume", "--g-learning-rates", "1.8e-3", "--batch-sizes", "32",
        "--half-batch-epochs", "4", "--clusters", "0", "--rejection", "on,off",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    runs = json.loads(data.read_text())["runs"]
    label = "fast (G at 1.8e-3, batch 32, half batch for 4 epochs, no clusters)"
    on, off = f"{label}, D's rejection sampling", f"{label}, every image G draws"
    assert [(r["model"], r["minutes"], r["resumed"]) for r in runs] == [
        (on, 1.0, False), (off, 1.0, False), (on, 2.0, True), (off, 2.0, True),
    ]  # fmt: skip
    assert "D's rejection sampling kept 1,000 of" in runs[0]["said"]
    assert "rejection" not in runs[1]["said"]
    assert runs[0]["commands"][1].endswith("--rejection on")
    assert runs[0]["commands"][3].endswith("--rejection off")
    assert runs[0]["fid"] != runs[1]["fid"] and runs[0]["steps"] == runs[1]["steps"]
    runs = runs[::2]
    assert runs[1]["steps"] > runs[0]["steps"] and runs[0]["batch"] == runs[1]["batch"]
    assert (
        "--g-learning-rate 1.8e-3 --batch-size 32 --half-batch-epochs 4 --clusters 0"
        in runs[0]["commands"][0]
    )
    text = out.read_text()
    assert f"| {on} | 2 min * | {runs[1]['steps']} |" in text
    assert "\\* The run of the budget before, carried on" in text
