"""benchmarks/sampling_levers.py (issue 16's tenth round): each lever runs on a GAN and scores
what it names (the runs themselves, 10,000 images each, are in sampling_levers.jsonl)."""

import sys
from pathlib import Path

import numpy as np

import dcgan_lib as dl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import sampling_levers as levers  # noqa: E402


def test_each_lever_scores_what_it_names(monkeypatch, tmp_path):
    monkeypatch.setattr(levers, "LOG", tmp_path / "rows.jsonl")
    scored = []
    gan = dl.make_gan("fast")  # untrained: D's verdicts are nearly alike, so it keeps most

    def score(how, images):
        assert images.shape == (50, 28, 28, 1) and np.isfinite(images).all(), how
        scored.append(how)

    levers.levers(gan, score, n=50)
    assert scored[:7] == ["ema", "raw", "ema_psi0.9", "ema_psi0.8", "ema_psi0.7", "ema_thr2.0",
                          "ema_thr1.5"]  # fmt: skip
    assert any(how.startswith("raw_drs_q99_T1.0 acc") for how in scored)
    scored.clear()
    levers.temperatures(gan, score, [(99, 1.0)], top=True, n=50)
    assert scored[0] == "ema_pool_first10k" and scored[-1] == "ema_top10k_of_120k"
    assert scored[1].startswith("ema_drs_q99_T1.0 acc")
    scored.clear()
    levers.calibrate(gan, score, [2], 3e-4, use_max=False, n=50)
    assert scored[0] == "ema_plain" and scored[-1].startswith("drs_calib2_lr0.0003 acc")
    row = levers.scorer("t", 7)
    row("x", np.zeros((20, 28, 28, 1), np.float32) - 1)
    assert '"tag": "t", "step": 7, "how": "x"' in (tmp_path / "rows.jsonl").read_text()
