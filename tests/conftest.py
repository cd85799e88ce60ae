"""Shared test set-up: the complete MNIST beside the checkout, quiet TensorFlow."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"

# Like the Makefile: use the complete, exact MNIST when it is beside the checkout.
if SHARED_MNIST.is_file():
    os.environ.setdefault("DCGAN_MNIST", str(SHARED_MNIST))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def shared_mnist_path():
    if not SHARED_MNIST.is_file():
        pytest.skip(f"the complete MNIST is not at {SHARED_MNIST} (CI always has it)")
    return SHARED_MNIST
