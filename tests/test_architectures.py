"""Chapter 6 (issue 13): overlap maps, the artefact score, the contenders and what they cost."""

import functools
import json

import keras
import numpy as np
import pytest
from helpers import needs_mnist, run_cli

import dcgan_lib as dl

arch, art = dl.architectures, dl.artefacts
FAST_G = 558_849  # dl.build_fast_generator().count_params()


def interior(kernel, stride=2, upsampling="transposed"):
    full = art.overlap_map(kernel, stride, size=12, upsampling=upsampling)
    return full[6:-6, 6:-6]


def test_overlap_maps_show_uneven_overlap_where_kernel_and_stride_do_not_divide():
    assert set(np.unique(interior(5))) == {4.0, 6.0, 9.0}  # the tutorial's kernel 5, stride 2
    assert set(np.unique(interior(3))) == {1.0, 2.0, 4.0}
    assert set(np.unique(interior(4))) == {4.0}  # the fast G's kernel 4: even
    assert set(np.unique(interior(3, upsampling="resize"))) == {9.0}
    assert art.overlap_map(5).shape == (12, 12)
    with pytest.raises(ValueError, match="upsampling must be"):
        art.overlap_map(3, upsampling="bilinear")


def test_overlap_exercise_check_accepts_any_period_and_explains_otherwise():
    assert art.check_overlap_answer(3, 2, [[4, 2], [2, 1]])
    assert art.check_overlap_answer(3, 2, np.array([[1, 2], [2, 4]]))
    wrong = art.check_overlap_answer(3, 2, [[2, 2], [2, 2]])
    assert not wrong and "add up to 3^2 = 9" in str(wrong)
    assert "2 x 2 array" in str(art.check_overlap_answer(3, 2, [1, 2, 3]))
    assert "replace ..." in str(art.check_overlap_answer(3, 2, ...))


def test_artefact_score_is_the_share_of_energy_at_period_two():
    rows, cols = np.indices((28, 28))
    checkerboard = ((rows + cols) % 2 * 2 - 1.0).astype("float32")
    stripes = (cols % 2 * 2 - 1.0).astype("float32")
    blob = np.exp(-((rows - 13.5) ** 2 + (cols - 13.5) ** 2) / 40.0) * 2 - 1
    flat = np.full((28, 28), -1.0, "float32")
    images = np.stack([checkerboard, stripes, blob.astype("float32"), flat])
    score = art.artefact_score(images)
    assert score.shape == (4,) and score.dtype == np.float64
    np.testing.assert_allclose(score[:2], 1.0)
    assert score[2] < 1e-3 and score[3] == 0.0
    faint = np.clip(blob + 0.05 * checkerboard, -1, 1).astype("float32")[None]
    assert art.artefact_score(faint)[0] > 100 * score[2]
    np.testing.assert_allclose(art.artefact_score(images, batch_size=3), score)  # in pieces
    assert art.artefact_score(np.zeros((2, 28, 28), np.uint8)).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="shape"):
        art.artefact_score(np.zeros((2, 32, 32), np.float32))


def test_mean_spectrum_puts_period_two_at_the_edges():
    rows, cols = np.indices((28, 28))
    checkerboard = ((rows + cols) % 2 * 2 - 1.0).astype("float32")[None]
    spectrum = art.mean_spectrum(np.concatenate([checkerboard, checkerboard * 0.5]))
    assert spectrum.shape == (28, 28) and np.isfinite(spectrum).all()
    assert np.unravel_index(spectrum.argmax(), spectrum.shape) == (0, 0)


def test_variant_generators_change_one_thing_each():
    plain = arch.build_variant_generator()
    assert plain.count_params() == FAST_G == dl.build_fast_generator().count_params()
    for options in (dict(kernel=5), dict(upsampling="resize", kernel=3), dict(extra="stride1")):
        G = arch.build_variant_generator(width=8, **options)
        assert G.output_shape == (None, 28, 28, 1), options
    deep = arch.build_variant_generator(width=8, extra="residual")
    assert sum(isinstance(layer, keras.layers.Add) for layer in deep.layers) == 2
    with pytest.raises(ValueError, match="upsampling must be one of"):
        arch.build_variant_generator(upsampling="pixel")
    with pytest.raises(ValueError, match="extra one of"):
        arch.build_variant_generator(extra="deeper")


def test_deep_contenders_are_narrowed_to_the_fast_generators_parameters():
    for extra in ("stride1", "residual"):
        build = functools.partial(arch.build_variant_generator, extra=extra)
        width = arch.width_for_parameters(build, FAST_G)
        assert arch.CONTENDERS[extra][0].keywords["width"] == width
        assert abs(build(width=width).count_params() / FAST_G - 1) < 0.02


def test_residual_blocks_resample_and_project_the_skip():
    x = keras.Input((7, 7, 8))
    assert residual_shape(x, 8) == (None, 7, 7, 8)
    assert residual_shape(x, 4, "up") == (None, 14, 14, 4)
    assert residual_shape(keras.Input((14, 14, 8)), 16, "down") == (None, 7, 7, 16)
    with pytest.raises(ValueError, match="resample must be None.*resample='sideways'"):
        residual_shape(x, 8, "sideways")  # not silently a block that keeps the size
    with pytest.raises(ValueError, match="activation='gelu'"):
        arch.residual_block(x, 8, activation="gelu")  # not silently a LeakyReLU


def residual_shape(x, filters, resample=None):
    return tuple(arch.residual_block(x, filters, resample).shape)


def test_resnet_pair_is_registered_with_the_fast_pairs_size_and_6_7_times_its_arithmetic():
    spec = dl.MODELS["resnet"]
    G, D = spec.generator(), spec.discriminator()
    # the fast settings as the contenders were raced with them: G at 6e-4, not fast's 1.8e-3
    assert spec.logits and spec.defaults == dl.MODELS["fast"].defaults | {"g_learning_rate": 6e-4}
    assert dl.MODELS["fast"].defaults["g_learning_rate"] == 1.8e-3
    assert (G.count_params(), D.count_params()) == (558_017, 35_921)
    fast = dl.build_fast_generator()
    ratio = sum(dl.layer_macs(G)) / sum(dl.layer_macs(fast))
    assert ratio == pytest.approx(6.72, abs=0.01)
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in D.layers) == 4


def test_make_variant_gan_trains_both_players_and_leaves_models_as_it_was():
    before = set(dl.MODELS)
    gan = arch.make_variant_gan(
        functools.partial(arch.build_variant_generator, width=8, kernel=5), seed=0
    )
    assert set(dl.MODELS) == before
    images = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    changed = dl.weights_changed(lambda: gan.fit(images, batch_size=16, verbose=0), G=gan.generator,
                                 D=gan.discriminator)  # fmt: skip
    assert changed["G"] and changed["D"]


@needs_mnist
def test_race_trains_for_its_budget_scores_and_keeps_earlier_models_usable():
    (x, _), _ = dl.load_mnist(verbose=False)
    data = dl.resumable_dataset(x[:2_000], 64, seed=0)
    first = arch.race("fast", data, steps=3, samples=40, every=2, jit_compile=False)
    assert first["steps"] == 3 and first["parameters"] == (FAST_G, 42_353)
    assert [row[0] for row in first["trace"]] == [0, 2, 3]
    assert first["samples"].shape == (40, 28, 28, 1) and 0 <= first["artefact"] <= 1
    assert first["fid"] > 0 and first["images_per_s"] > 0
    arch.race("k5", data, seconds=0.1, samples=10, every=50, jit_compile=False)
    assert dl.generate_images(first["gan"].generator, 2).shape == (2, 28, 28, 1)
    with pytest.raises(TypeError, match="seconds or steps"):
        arch.race("fast", data, samples=10)
    with pytest.raises(TypeError, match="jit"):
        arch.race("fast", data, steps=1, jit=True)


def test_measure_training_step_reports_speed_and_memory_from_a_fresh_process():
    cost = arch.measure_training_step("fast", steps=2, xla=False)
    assert cost["device"] == "CPU" and cost["batch_size"] == 64
    assert cost["images_per_s"] > 0 and cost["parameters"] == FAST_G + 42_353
    assert cost["peak_mb"] >= cost["before_mb"] > 100 and cost["step_mb"] >= 0
    with pytest.raises(ValueError, match="need a model of"):
        arch.measure_training_step("resnet50")


@needs_mnist
def test_cli_trains_samples_and_evaluates_the_resnet(tmp_path):
    out, samples = tmp_path / "resnet", tmp_path / "samples.npz"
    train = run_cli("train", "--model", "resnet", "--out", out, "--seconds", 1, "--xla", "off")
    assert train.returncode == 0, train.stderr
    assert json.loads((out / "run.json").read_text())["model"] == "resnet"
    sample = run_cli("sample", out, "--n", 20, "--out", samples)
    assert sample.returncode == 0, sample.stderr
    evaluate = run_cli("evaluate", samples)
    assert evaluate.returncode == 0 and "fid=" in evaluate.stdout, evaluate.stderr


def test_benchmark_section_reports_medians_and_spread_and_replaces_only_itself(tmp_path):
    import importlib.util

    from helpers import ROOT

    spec = importlib.util.spec_from_file_location(
        "conclusions", ROOT / "benchmarks" / "conclusions.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    races = []
    for seed, fid in enumerate((10.0, 12.0, 20.0)):
        for name in arch.CONTENDERS:
            trace = [(0, 0.3, 0.3), (100, 0.01, 0.01)]
            races.append(dict(name=name, seed=seed, seconds=90, steps=1000, images_per_s=700.0,
                              parameters=(1, 2), fid=fid, classes=10, artefact=0.005, trace=trace))  # fmt: skip
        races.append(dict(name="fast@resnet_steps", seed=seed, steps=200, fid=30.0, seconds=9))
    cost = dict(images_per_s=1000.0, before_mb=800.0, peak_mb=850.0, step_mb=50.0)
    result = dict(date="2026-11-30", seeds=[0, 1, 2], seconds=90, samples=10_000, floor=1.25,
                  real_artefact=0.0028, races=races, rounds=1, cost_steps=30,
                  machine=dict(cpu="test CPU", cores=2, onednn_isa="AVX2"),
                  costs=[dict(name=n, round=0, **cost) for n in ("fast", "resnet")])  # fmt: skip
    text = bench.section(result)
    assert text.startswith(bench.MARK) and "12.00 [10.00–20.00]" in text
    assert text.count("| ResNet G and D |") == 2 and "test CPU" in text
    report = tmp_path / "B.md"
    report.write_text("# Benchmarks\n\n## 6. The command line\n\nkept\n")
    bench.write_section(report, text)
    bench.write_section(report, text.replace("12.00", "13.00"))  # a re-run replaces section 7
    written = report.read_text()
    assert written.startswith("# Benchmarks") and "kept" in written
    assert written.count(bench.MARK) == 1 and "13.00 [10.00–20.00]" in written
