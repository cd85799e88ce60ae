"""Make the small MNIST subset bundled in dcgan_lib (dcgan_lib/_data/mnist_subset.npz).

It is what load_mnist() falls back to when neither DCGAN_MNIST nor Keras'
download gives the full set. Reproducible: the first PER_CLASS_TRAIN training
images and the first PER_CLASS_TEST test images of each digit, in MNIST's own
order, from the complete MNIST file.

    python scripts/make_mnist_subset.py ../shared/data/mnist.npz
"""

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dcgan_lib.data import _BUNDLED_SUBSET, load_mnist  # noqa: E402

PER_CLASS_TRAIN, PER_CLASS_TEST = 500, 100


def first_per_class(y, per_class):
    keep = np.zeros(len(y), bool)
    for digit in range(10):
        keep[np.flatnonzero(y == digit)[:per_class]] = True
    return np.flatnonzero(keep)  # sorted: MNIST's own order is kept


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("full_npz", help="the complete MNIST in Keras' layout")
    parser.add_argument("--out", default=str(_BUNDLED_SUBSET))
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = load_mnist(args.full_npz, verbose=False)
    if len(x_train) != 60_000 or len(x_test) != 10_000:
        sys.exit(f"{args.full_npz} is not the complete MNIST ({len(x_train)}+{len(x_test)} images)")
    tr, te = first_per_class(y_train, PER_CLASS_TRAIN), first_per_class(y_test, PER_CLASS_TEST)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out, x_train=x_train[tr], y_train=y_train[tr], x_test=x_test[te], y_test=y_test[te]
    )
    digest = hashlib.sha256(np.concatenate([x_train[tr].ravel(), x_test[te].ravel()])).hexdigest()
    print(
        f"wrote {out}: {len(tr)} training + {len(te)} test images, "
        f"{out.stat().st_size / 1e6:.2f} MB, pixel sha256 {digest[:16]}"
    )


if __name__ == "__main__":
    main()
