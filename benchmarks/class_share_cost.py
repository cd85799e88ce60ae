"""How much of a sampler's Fréchet distance its digits' shares alone explain (issue 16).

The unconditional fast model draws some digits more often than MNIST has them (nines) and some
less (fives). This script draws *real* training digits in the shares that the scout's samples had
(``benchmarks/scout_gpu.jsonl``: the course classifier's count of each digit in 10,000 samples)
and scores them against the test set as the kit scores samples: what remains above that
score is the drawing itself.
Results: ``benchmarks/fast_config_search.md``, fifth round.

    DCGAN_MNIST=../shared/data/mnist.npz python benchmarks/class_share_cost.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SCOUT = Path(__file__).resolve().parent / "scout_gpu.jsonl"
ROWS = [("base", 11400), ("u_g18", 3500), ("u_g18", 11400), ("cond", 11400)]


def main():
    import dcgan_lib as dl

    (x_train, y_train), _ = dl.load_mnist(verbose=False)
    rng = np.random.default_rng(0)
    by_label = [np.flatnonzero(y_train == k) for k in range(10)]

    def score(counts):  # counts[k] training digits k, against the test set, as samples are
        picked = [rng.choice(by_label[k], c, replace=False) for k, c in enumerate(counts)]
        return dl.evaluate_images(x_train[np.concatenate(picked)])["fid"]

    print(f"real-data floor (the first 10,000 training digits): {dl.real_data_floor():.2f}")
    print(f"10,000 training digits, 1,000 of each: {score([1000] * 10):.2f}")
    rows = [json.loads(line) for line in SCOUT.read_text().splitlines() if line.strip()]
    print("| setting | steps | seed | its samples' Fréchet distance | real digits in its shares |")
    print("|---|---:|---:|---:|---:|")
    for name, step in ROWS:
        for r in (r for r in rows if r["name"] == name and r["step"] == step):
            share = np.asarray(r["counts"]) / sum(r["counts"])
            # MNIST's training set has 5,421 or more of each digit: enough for any share here
            counts = np.round(share * 10_000).astype(int)
            print(f"| {name} | {step:,} | {r['seed']} | {r['fid']:.2f} | {score(counts):.2f} |")


if __name__ == "__main__":
    main()
