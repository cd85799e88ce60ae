"""DCGAN_THREADS: TensorFlow's thread pools sized at import (issue 16), and the CPU described."""

import os
import subprocess
import sys

import pytest

import dcgan_lib as dl
from dcgan_lib._startup import thread_counts, usable_cores


def test_usable_cores_respects_the_affinity():
    assert 1 <= usable_cores() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    "value, want", [("tf", (0, 0)), ("3", (3, 1)), (" 2,4 ", (2, 4)), ("1,1", (1, 1))]
)
def test_thread_settings_are_read(value, want):
    assert thread_counts(value) == want


def test_auto_is_the_usable_cores_within_an_op_and_two_ops_at_once(monkeypatch):
    for cores, want in ((1, (1, 1)), (2, (2, 2)), (8, (8, 2))):
        monkeypatch.setattr("dcgan_lib._startup.usable_cores", lambda cores=cores: cores)
        assert thread_counts("auto") == thread_counts("") == want


@pytest.mark.parametrize("value", ["0", "two", "1,2,3", "-1", "2,"])
def test_a_wrong_setting_says_what_to_write(value):
    with pytest.raises(ValueError, match="DCGAN_THREADS=.*auto.*N or N,M"):
        thread_counts(value)


@pytest.mark.parametrize("value, want", [("2,1", "2 1"), ("tf", None)])
def test_the_setting_reaches_tensorflow_at_import(value, want):
    code = (
        "import dcgan_lib, tensorflow as tf\n"
        "t = tf.config.threading\n"
        "print(t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads())"
    )
    env = dict(os.environ, DCGAN_THREADS=value)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (want or "0 0")  # 0: TensorFlow's own sizes
    assert done.stderr == ""


def test_describe_cpu_names_the_cpu_its_extensions_and_onednn_isa():
    info = dl.speed.describe_cpu()
    assert info["cores"] == usable_cores() and info["cpu"]
    assert set(info["extensions"]) <= {"AVX2", "AVX-512", "AVX512-BF16", "AMX"}
    assert info["onednn_isa"]  # "Intel AVX2" here; "unknown ..." if oneDNN says nothing
    threading = __import__("tensorflow").config.threading  # what TensorFlow runs with
    assert info["threads"] == (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
