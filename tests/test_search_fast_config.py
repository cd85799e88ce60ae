"""benchmarks/search_fast_config.py: its choices, its table and its model variants
(the runs themselves take minutes each and are recorded in fast_config_search.jsonl)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dcgan_lib as dl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import search_fast_config as search  # noqa: E402


def test_parse_takes_known_choices_and_refuses_others():
    cfg = search.parse(["lr=3e-4", "glr=6e-4", "ddepth=3", "evals=60,180"])
    assert (cfg["lr"], cfg["glr"], cfg["ddepth"], cfg["evals"]) == (3e-4, 6e-4, 3, "60,180")
    assert cfg["dw"] == search.CHOICES["dw"]
    for bad in (["learning_rate=1e-3"], ["lr"], ["lr="]):
        with pytest.raises(SystemExit, match="key=value"):
            search.parse(bad)


def test_variants_have_the_fast_models_shapes():
    cfg = dict(search.CHOICES, dw=16, ddepth=3, ddrop=0.3, mbstd=1, gk=5)
    d, g = search.discriminator_variant(cfg), search.generator_variant(cfg)
    assert d.output_shape == (None, 1) and g.output_shape == (None, 28, 28, 1)
    plain = dict(search.CHOICES, dw=16, ddepth=3)
    library_d = dl.build_fast_discriminator()  # the chosen D is the library default
    assert search.discriminator_variant(plain).count_params() == library_d.count_params()


def test_table_lists_every_run_and_marks_disturbed_ones(tmp_path):
    log = tmp_path / "runs.jsonl"
    row = {
        "seconds": 180,
        "steps": 10,
        "images_per_s": 100,
        "G": [9.0, 10, 8.0],
        "average": [8.0, 10, 8.1],
    }
    entries = [
        {"name": "base", "choices": dict(search.CHOICES), "results": [row]},
        {
            "name": "deep",
            "choices": dict(search.CHOICES, ddepth=3),
            "results": [row],
            "note": "other work shared the cores",
        },
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in entries))
    out = subprocess.run(
        [sys.executable, "benchmarks/search_fast_config.py", "--table", "--log", str(log)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "| base | baseline | 180 |" in out
    assert "| deep * | ddepth=3 | 180 |" in out and "\\* other work shared the cores" in out


def test_the_gpu_scout_table_in_the_search_log_is_the_scout_data():
    """Issue 16's third round: the table in fast_config_search.md is what scout_gpu.py --table
    makes of the committed scout_gpu.jsonl (NumPy alone: no JAX needed)."""
    import scout_gpu as scout  # beside search_fast_config.py

    table = scout.table(ROOT / "benchmarks" / "scout_gpu.jsonl")
    assert "| cond | mode=cond | 12.46 [12.3, 12.5, 12.7] | 3.75 [3.7, 3.4, 3.7]" in table
    assert table in (ROOT / "benchmarks" / "fast_config_search.md").read_text()


def test_train_growing_doubles_the_batch_after_its_epochs():
    """grow=1 (the eighth round): epoch 1 in batches of 16 (6 steps of 96 images), then 32; the
    images counted are those trained on, and scoring between budgets costs no training time."""
    from helpers import random_digits

    gan = dl.make_gan("dense", seed=0)
    seen = {"images": 0}
    used = list(search.train_growing(gan, random_digits(96), 16, [1], [5.0, 8.0], seen))
    steps = int(gan.g_optimizer.iterations)
    assert len(used) == 2 and 5.0 <= used[0] < used[1] and 8.0 <= used[1] < 12.0
    assert steps > 6 and seen["images"] == 6 * 16 + (steps - 6) * 32


def test_train_growing_doubles_again_at_grow2():
    """grow=1 grow2=2: epoch 1 at 16 (6 steps), epoch 2 at 32 (3 steps), then 64 (1 a epoch)."""
    from helpers import random_digits

    gan = dl.make_gan("dense", seed=0)
    seen = {"images": 0}
    list(search.train_growing(gan, random_digits(96), 16, [1, 2], [4.0], seen))
    steps = int(gan.g_optimizer.iterations)
    assert steps > 9 and seen["images"] == 6 * 16 + 3 * 32 + (steps - 9) * 64


def test_grow2_must_come_after_grow():
    assert search.parse(["grow=4", "grow2=10"])["grow2"] == 10
    with pytest.raises(SystemExit, match="grow2=2 must come after grow=4"):
        search.parse(["grow=4", "grow2=2"])


def test_more_averages_follow_their_own_decays_on_one_run():
    """emas= (the ninth round): each extra average is updated in the step from the same G as the
    main average, with its own decay under the same warm-up, min(decay, (1 + n) / (10 + n)), or
    a warm-up of its own, which may change at a step (the tenth round)."""
    from helpers import random_digits

    gan = dl.make_gan("fast", seed=0)  # its own average: decay 0.999
    late = ["0.9999/10>1.5@20", "0.9999/10>1.5@1000"]  # the tenth round: h 1.5 from step 20
    more = search.with_more_averages(gan, ["0.5", "0.7", "0.9999", "0.9999/1.5", *late])
    assert list(more)[:4] == ["average_0.5", "average_0.7", "average_0.9999", "average_0.9999/1.5"]
    data = dl.resumable_dataset(random_digits(64), 16, seed=0)  # shuffled: no shuffle= of fit
    gan.fit(data, steps_per_epoch=40, verbose=0, shuffle=False)
    assert int(gan.ema_steps) == 40  # the warm-up caps every decay at 41 / 50 = 0.82 so far

    def distance(model):  # mean |average - G| over G's weights
        pairs = zip(model.get_weights(), gan.generator.get_weights())
        return float(np.mean([np.abs(a - b).mean() for a, b in pairs]))

    assert (
        distance(more["average_0.5"]) < distance(more["average_0.7"]) < distance(gan.ema_generator)
    )
    assert distance(more["average_0.9999"]) == pytest.approx(distance(gan.ema_generator), rel=1e-5)
    # a warm-up of its own, h = 1.5: decay 41 / 41.5 = 0.988 by now, a longer average still
    assert distance(more["average_0.9999/1.5"]) > 1.5 * distance(gan.ema_generator)
    # h 10 until step 20, then 1.5: longer than the main average, shorter than h 1.5 throughout
    switched = distance(more["average_0.9999/10>1.5@20"])
    assert distance(gan.ema_generator) < switched < distance(more["average_0.9999/1.5"])
    never = distance(more["average_0.9999/10>1.5@1000"])  # its switch is never reached
    assert never == pytest.approx(distance(gan.ema_generator), rel=1e-5)
