"""A screen for issue 16: the conditional model told which *pixel cluster* to draw, not which digit.

    python benchmarks/cluster_labels.py --seconds 180 --seeds 0,1,2

A GAN that uses no labels can still be conditioned, on clusters of its own training images
(self-conditioned GANs: Liu et al., 2020, who cluster a discriminator's features; here the pixels,
once, before training). The training images' pixels are split into 10 clusters by k-means
(``dl.clusters.kmeans``, seed 0; the command line's ``--clusters`` uses it too), written as an
MNIST .npz whose ``y_train`` are cluster numbers. For each seed: ``DCGAN_MNIST=that train
--model conditional --seconds S --seed K``; then 10,000 samples that ask for each cluster in its
share of the training images (not in turn, as ``sample`` would: the clusters differ in size),
scored by ``dl.evaluate_images`` against the real test images. Prints the clusters' purity (the
share of images whose cluster's commonest digit is theirs) and a JSON line per seed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args(argv)
    import dcgan_lib as dl

    (x, y), (x_test, y_test) = dl.load_mnist(verbose=False)
    cluster = dl.clusters.kmeans(x.reshape(len(x), -1).astype(np.float32) / 255, 10)
    counts = np.zeros((10, 10), np.int64)
    np.add.at(counts, (cluster, y), 1)
    sizes = np.bincount(cluster, minlength=10)
    print(f"clusters: purity {counts.max(1).sum() / len(y):.3f}, sizes {sizes.tolist()}")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "mnist_clusters.npz"
        np.savez(data, x_train=x, y_train=cluster.astype(y.dtype), x_test=x_test, y_test=y_test)
        env = dict(os.environ, DCGAN_MNIST=str(data), PYTHONPATH=str(ROOT))
        for seed in (int(s) for s in args.seeds.split(",")):
            out = Path(tmp) / f"run{seed}"
            train = [sys.executable, "-m", "dcgan_lib", "train", "--model", "conditional"]
            train += ["--seconds", f"{args.seconds:g}", "--seed", str(seed), "--out", str(out)]
            subprocess.run(train, env=env, check=True, capture_output=True, text=True)
            run = dl.runs.read_run(out)
            generator = dl.runs.load_gan(run, out, None)[0].sampling_generator
            asked = np.random.default_rng(seed).choice(10, args.samples, p=sizes / sizes.sum())
            noise = run["settings"]["noise"]
            images = dl.conditional.generate_digits(generator, asked, noise=noise, seed=seed)
            report = dl.evaluate_images(images)
            steps = run["sessions"][-1]["end_step"]
            got = dict(seed=seed, seconds=args.seconds, steps=steps, fid=round(report["fid"], 3))
            print(json.dumps(got | dict(classes=report["classes_covered"])), flush=True)


if __name__ == "__main__":
    main()
