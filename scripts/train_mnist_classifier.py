"""Train the MNIST classifier that dcgan_lib.quality measures samples with (Chapter 4).

Writes dcgan_lib/_data/mnist_classifier.npz: the weights of
dcgan_lib.quality.build_mnist_classifier() as plain numpy arrays (float16, to keep the
file small; the accuracy below is that of the stored, rounded weights), the
test accuracy (key test_accuracy), and the mean and covariance of the
classifier's features on the 10,000 test digits (ref_mean, ref_cov, ref_n;
the covariance as float32), the reference every FID is measured against. Needs the full MNIST:

    DCGAN_MNIST=../shared/data/mnist.npz python scripts/train_mnist_classifier.py

About a minute on 2 CPU cores (5 epochs, Adam with a cosine-decayed rate); seeded, so reruns
give (nearly) the same weights.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dcgan_lib._startup import import_tensorflow  # noqa: E402

import_tensorflow()
import keras  # noqa: E402

from dcgan_lib import quality  # noqa: E402
from dcgan_lib.data import load_mnist, to_model_range  # noqa: E402


def features_and_probs(model, x, batch_size=1000):
    """The classifier's features (N, 128) and probabilities (N, 10), by direct calls."""
    both = keras.Model(model.input, [model.get_layer("features").output, model.output])
    feats, probs = [], []
    for start in range(0, len(x), batch_size):
        f, p = both(x[start : start + batch_size], training=False)
        feats.append(np.asarray(f))
        probs.append(np.asarray(p))
    return np.concatenate(feats), np.concatenate(probs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(quality.CLASSIFIER_WEIGHTS))
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = load_mnist()
    if len(x_train) != 60_000 or len(x_test) != 10_000:
        sys.exit(
            "the classifier must be trained on the full MNIST (60,000 + 10,000 digits): "
            "set DCGAN_MNIST to an .npz in Keras' layout."
        )
    x_train, x_test = to_model_range(x_train), to_model_range(x_test)  # (N, 28, 28, 1) in [-1, 1]

    keras.utils.set_random_seed(args.seed)
    model = quality.build_mnist_classifier()
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    learning_rate = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=2)
    print(f"trained in {time.perf_counter() - start:.0f} s")

    # Store float16 weights, and measure the model with exactly those weights.
    weights = {
        key: np.asarray(var).astype(np.float16) for key, var in quality._weight_keys(model).items()
    }
    for key, var in quality._weight_keys(model).items():
        var.assign(weights[key].astype(np.float32))
    feats, probs = features_and_probs(model, x_test)
    accuracy = float(np.mean(probs.argmax(1) == y_test))
    mean, cov = quality.feature_statistics(feats)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        **weights,
        test_accuracy=np.float64(accuracy),
        ref_mean=mean,
        ref_cov=cov.astype(np.float32),
        ref_n=np.int64(len(x_test)),
    )

    # Check the file the way the library reads it.
    is_default = out.resolve() == quality.CLASSIFIER_WEIGHTS.resolve()
    reloaded = quality.classify(x_test) if is_default else probs
    assert np.array_equal(reloaded.argmax(1), probs.argmax(1)), "reloaded weights disagree"
    print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB)")
    print(f"test accuracy: {100 * accuracy:.2f}%")
    if accuracy < 0.99:
        sys.exit("test accuracy below 99%: train longer (--epochs).")


if __name__ == "__main__":
    main()
