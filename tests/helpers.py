"""Helpers the tests import (``from helpers import ...``): the complete MNIST beside the
checkout, the command line in a subprocess, random digits, weight snapshots. (Not in
conftest.py: tests/slides has a conftest of its own, and two modules named conftest clash.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"

# Like the Makefile: use the complete, exact MNIST when it is beside the checkout.
if SHARED_MNIST.is_file():
    os.environ.setdefault("DCGAN_MNIST", str(SHARED_MNIST))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
needs_mnist = pytest.mark.skipif(
    not SHARED_MNIST.is_file(), reason=f"no MNIST at {SHARED_MNIST} (CI always has it)"
)


def run_cli(*args, timeout=180, env=None, **popen):
    """``python -m dcgan_lib ARGS`` in a subprocess on the shared MNIST; the CompletedProcess."""
    env = dict(os.environ, DCGAN_MNIST=str(SHARED_MNIST), TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "dcgan_lib", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **popen,
    )


def random_digits(n=64, seed=0):
    """uint8 (n, 28, 28) noise in 0..255: stand-in training images."""
    import numpy as np

    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def weights_of(model_or_variables):
    """numpy copies of a model's weights (or of a list of variables)."""
    variables = getattr(model_or_variables, "weights", model_or_variables)
    return [v.numpy().copy() for v in variables]


def opt_in(folder: Path, variable: str):
    """``pytest_ignore_collect`` for a folder of slow tests: collected only when ``$variable`` is
    1 or the folder (or a file in it) is named on pytest's command line."""

    def asked_for(config) -> bool:
        if os.environ.get(variable) == "1":
            return True
        for arg in config.args:
            path = Path(str(arg).split("::")[0])
            path = path if path.is_absolute() else Path(config.invocation_params.dir) / path
            if path.resolve() == folder or folder in path.resolve().parents:
                return True
        return False

    def ignore(collection_path, config):
        if collection_path.name.startswith("test_") and collection_path.parent == folder:
            return None if asked_for(config) else True
        return None

    return ignore
