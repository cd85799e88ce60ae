"""dcgan_lib.data: MNIST from anywhere, safe file readers, IDX files, the one image converter."""

import gzip
import tracemalloc

import numpy as np
import pytest
from helpers import random_digits

import dcgan_lib as dl
from dcgan_lib import data


def test_public_names_are_exported():
    assert data.__all__ == [
        "load_mnist",
        "to_model_range",
        "read_idx",
        "write_idx",
        "resumable_dataset",
    ]
    for name in data.__all__:
        assert getattr(dl, name) is getattr(data, name), name


def test_load_mnist_from_env_equals_shared_file(shared_mnist_path, monkeypatch, capsys):
    monkeypatch.setenv("DCGAN_MNIST", str(shared_mnist_path))
    (xtr, ytr), (xte, yte) = dl.load_mnist()
    assert capsys.readouterr().out == (
        "MNIST from DCGAN_MNIST (mnist.npz): 60000 training, 10000 test images\n"
    )
    with np.load(shared_mnist_path) as ref:
        for got, key in ((xtr, "x_train"), (ytr, "y_train"), (xte, "x_test"), (yte, "y_test")):
            assert got.dtype == np.uint8
            np.testing.assert_array_equal(got, ref[key])
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    assert list(ytr[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert abs(xtr.mean() / 255 - 0.1306604762738429) < 1e-9


def test_explicit_path_wins_over_env(shared_mnist_path, monkeypatch):
    monkeypatch.setenv("DCGAN_MNIST", str(shared_mnist_path))
    (xtr, _), _ = dl.load_mnist(data._BUNDLED_SUBSET, verbose=False)
    assert len(xtr) == 5000


def _offline():
    raise OSError("no network")  # what Keras' download gives an offline machine


def test_offline_fallback_is_the_bundled_subset(monkeypatch, capsys):
    monkeypatch.delenv("DCGAN_MNIST", raising=False)
    monkeypatch.setattr(data, "import_tensorflow", _offline)
    (xtr, ytr), (xte, yte) = dl.load_mnist(verbose=False)  # the NOTE shows even so
    out = capsys.readouterr()
    assert out.out.count("\n") == 1 and "bundled subset" in out.out
    assert "Traceback" not in out.out + out.err
    assert np.bincount(ytr, minlength=10).tolist() == [500] * 10
    assert np.bincount(yte, minlength=10).tolist() == [100] * 10
    assert data._BUNDLED_SUBSET.stat().st_size <= 2_000_000


def test_bundled_subset_is_first_per_class_of_full(shared_mnist_path):
    (xtr, ytr), (xte, yte) = dl.load_mnist(data._BUNDLED_SUBSET, verbose=False)
    (ftr, fytr), (fte, fyte) = dl.load_mnist(shared_mnist_path, verbose=False)
    for digit in (0, 7):
        idx = np.flatnonzero(fytr == digit)[:500]
        np.testing.assert_array_equal(xtr[ytr == digit], ftr[idx])
        idx = np.flatnonzero(fyte == digit)[:100]
        np.testing.assert_array_equal(xte[yte == digit], fte[idx])


def test_real_offline_keras_path_falls_back_without_traceback(monkeypatch, tmp_path, capsys):
    """No network here: Keras' own download must fail quietly into the subset."""
    monkeypatch.delenv("DCGAN_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty cache
    (xtr, _), _ = dl.load_mnist(verbose=False)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    if len(xtr) != 60000:  # no internet: the subset, and no "Downloading" line
        assert "bundled subset" in out.out and "Downloading" not in out.out


def test_env_pointing_nowhere_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DCGAN_MNIST", str(tmp_path / "nope.npz"))
    with pytest.raises(FileNotFoundError, match="DCGAN_MNIST"):
        dl.load_mnist()
    with pytest.raises(FileNotFoundError, match="nope.npz does not exist"):
        dl.load_mnist(tmp_path / "nope.npz")


def test_npz_with_wrong_layout_is_rejected(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="lacks"):
        dl.load_mnist(bad)
    np.savez(
        bad,
        x_train=np.zeros((3, 28, 27), np.uint8),
        y_train=np.zeros(3, np.uint8),
        x_test=np.zeros((1, 28, 28), np.uint8),
        y_test=np.zeros(1, np.uint8),
    )
    with pytest.raises(ValueError, match=r"x_train should be uint8 of shape \(N, 28, 28\)"):
        dl.load_mnist(bad)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="could not be read"):
        dl.load_mnist(tmp_path / "junk.npz")


# --- IDX files written by the tests from the shared data ---------------------

IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory, shared_mnist_path):
    d = tmp_path_factory.mktemp("idx")
    (xtr, ytr), (xte, yte) = dl.load_mnist(shared_mnist_path, verbose=False)
    for name, array in zip(IDX_NAMES, (xtr, ytr, xte, yte)):  # one of them not gzipped
        assert dl.write_idx(d / name, array) == d / name
    return d


def test_idx_roundtrip_equals_shared(idx_dir, shared_mnist_path):
    arrays = [
        dl.read_idx(idx_dir / name, expect_ndim=3 - 2 * ("labels" in name)) for name in IDX_NAMES
    ]
    (xtr, ytr), (xte, yte) = dl.load_mnist(shared_mnist_path, verbose=False)
    for got, want in zip(arrays, (xtr, ytr, xte, yte)):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


def test_idx_header_is_the_standard_one(idx_dir):
    with gzip.open(idx_dir / "train-images-idx3-ubyte.gz", "rb") as f:
        head = f.read(16)
    assert (
        head == bytes.fromhex("00000803") + (60000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    )
    with pytest.raises(ValueError, match="uint8 arrays only"):
        dl.write_idx(idx_dir / "floats", np.zeros(3))


def _raw(path):
    with gzip.open(path, "rb") as f:
        return f.read()


def test_truncated_idx_names_file_and_problem(idx_dir, tmp_path):
    raw = _raw(idx_dir / "train-labels-idx1-ubyte.gz")
    bad = tmp_path / "train-labels-idx1-ubyte"
    bad.write_bytes(raw[:-10])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte: truncated"):
        dl.read_idx(bad)
    bad.write_bytes(raw + b"\0")
    with pytest.raises(ValueError, match="trailing bytes"):
        dl.read_idx(bad)
    bad.write_bytes(raw[:6])
    with pytest.raises(ValueError, match="truncated header"):
        dl.read_idx(bad)
    bad.write_bytes(raw[:3])
    with pytest.raises(ValueError, match="too short"):
        dl.read_idx(bad)
    with pytest.raises(FileNotFoundError):
        dl.read_idx(tmp_path / "absent")


def test_bad_magic_corrupt_gzip_and_wrong_dimensions(idx_dir, tmp_path):
    raw = _raw(idx_dir / "train-labels-idx1-ubyte.gz")
    bad = tmp_path / "labels"
    bad.write_bytes(b"\x12\x34" + raw[2:])
    with pytest.raises(ValueError, match="bad magic number 0x1234"):
        dl.read_idx(bad)
    gz = tmp_path / "labels.gz"
    gz.write_bytes((idx_dir / "train-labels-idx1-ubyte.gz").read_bytes()[:100])
    with pytest.raises(ValueError, match="labels.gz: cannot be decompressed"):
        dl.read_idx(gz)
    with pytest.raises(ValueError, match="has 1 dimensions, expected 3"):
        dl.read_idx(idx_dir / "train-labels-idx1-ubyte.gz", expect_ndim=3)


def test_idx_dimensions_that_overflow_int64_are_not_a_match(tmp_path):
    # 65536**4 == 2**64, which np.prod wraps to 0: an empty body used to pass the size check
    bad = tmp_path / "overflow"
    bad.write_bytes(bytes([0, 0, 8, 4]) + (65536).to_bytes(4, "big") * 4)
    with pytest.raises(ValueError, match=r"overflow: truncated: .*\(18446744073709551616 bytes"):
        dl.read_idx(bad)


def test_idx_other_types_are_read_in_native_byte_order(tmp_path):
    path = tmp_path / "shorts"
    path.write_bytes(bytes([0, 0, 0x0B, 1]) + (2).to_bytes(4, "big") + b"\x01\x02\xff\xfe")
    got = dl.read_idx(path)
    assert got.dtype == np.int16 and got.dtype.isnative and got.tolist() == [258, -2]


def _refused(fn):
    """(the ValueError that ``fn()`` raises, the peak memory traced meanwhile)."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as caught:
            fn()
        return caught.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_idx_gzip_is_streamed_never_inflated_whole(tmp_path):
    lying = tmp_path / "lying.gz"  # a header for 10 labels, then 64 MiB of zeros
    with gzip.open(lying, "wb", compresslevel=1) as f:
        f.write(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(64 * 2**20))
    huge = tmp_path / "huge.gz"  # a header promising 4 GiB, then 100 bytes
    with gzip.open(huge, "wb") as f:
        f.write(bytes([0, 0, 8, 2]) + (65536).to_bytes(4, "big") * 2 + bytes(100))
    for path, words in ((lying, "trailing bytes"), (huge, "truncated")):
        err, peak = _refused(lambda p=path: dl.read_idx(p))
        assert words in str(err) and peak < 2**20, (path.name, peak)  # not 64 MiB, not 4 GiB


# --- files that cannot be read: one line naming the file, never a traceback (issue 14) ---


def _tiny_mnist():
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_train": np.array([3, 9], np.uint8),
        "x_test": rng.integers(0, 256, (1, 28, 28), dtype=np.uint8),
        "y_test": np.array([0], np.uint8),
    }


def _one_line_naming(err, path):
    msg = str(err)
    assert "\n" not in msg and msg.count(str(path)) == 1, msg
    assert "allow_pickle" not in msg, msg
    return msg


@pytest.mark.parametrize(
    "case, words",
    [
        ("empty", "is empty"),
        ("truncated", "truncated"),
        ("crc", "damaged"),
        ("huge", "damaged"),
        ("text", "not an .npz"),
        ("npy", "single .npy array"),
    ],
)
def test_unreadable_mnist_files_give_one_line_naming_them(damaged_npz, monkeypatch, case, words):
    path = damaged_npz(_tiny_mnist())[case]
    err, peak = _refused(lambda: dl.load_mnist(path, verbose=False))
    assert words in _one_line_naming(err, path) and "Keras' MNIST layout" in str(err)
    assert peak < 10 * max(path.stat().st_size, 1) + 2**20  # the 949 GiB claim costs nothing
    monkeypatch.setenv("DCGAN_MNIST", str(path))  # the same through the environment
    with pytest.raises(ValueError) as caught:
        dl.load_mnist(verbose=False)
    assert "DCGAN_MNIST" in _one_line_naming(caught.value, path)


def test_loader_checks_headers_before_reading(tmp_path):
    arrays = _tiny_mnist()
    arrays["x_train"] = np.zeros((3, 28, 28), np.float32)
    np.savez(tmp_path / "f.npz", **arrays)
    with pytest.raises(ValueError, match=r"x_train should be uint8 of shape \(N, 28, 28\), got f"):
        dl.load_mnist(tmp_path / "f.npz")
    arrays = _tiny_mnist()
    arrays["y_train"] = np.array([1, 12], np.uint8)
    np.savez(tmp_path / "g.npz", **arrays)
    with pytest.raises(ValueError, match="y_train holds labels above 9"):
        dl.load_mnist(tmp_path / "g.npz")
    arrays["y_train"] = np.array([1], np.uint8)
    np.savez(tmp_path / "h.npz", **arrays)
    with pytest.raises(ValueError, match="y_train holds 1 labels for 2 images"):
        dl.load_mnist(tmp_path / "h.npz")
    np.savez(tmp_path / "objects.npz", x_train=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not numbers") as err:
        dl.load_mnist(tmp_path / "objects.npz")
    _one_line_naming(err.value, tmp_path / "objects.npz")
    with pytest.raises(ValueError, match="is a directory"):
        dl.load_mnist(tmp_path)


def test_read_npz_reads_fortran_order_and_refuses_what_check_refuses(tmp_path):
    a = np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3))
    np.savez(tmp_path / "f.npz", a=a, b=np.float32(1.5))
    got = data.read_npz(tmp_path / "f.npz")
    np.testing.assert_array_equal(got["a"], a)
    assert got["b"] == 1.5
    with pytest.raises(ValueError, match=r"f.npz: no b here. A hint\.$"):
        data.read_npz(
            tmp_path / "f.npz", lambda name, *_: f"no {name} here." * (name == "b"), hint="A hint."
        )


# --- into the model -----------------------------------------------------------


def test_to_model_range_maps_uint8_and_passes_model_range_floats():
    x = np.array([[[0, 255], [128, 1]]], np.uint8).repeat(14, 1).repeat(14, 2)
    y = dl.to_model_range(x)
    assert y.shape == (1, 28, 28, 1) and y.dtype == np.float32
    assert y.min() == -1.0 and y.max() == 1.0
    digits = random_digits(5)
    expected = digits[..., None].astype(np.float32) / 127.5 - 1
    for variant in (digits, digits[..., None], expected, expected[..., 0].astype(np.float64)):
        got = dl.to_model_range(variant)
        assert got.dtype == np.float32 and got.shape == (5, 28, 28, 1)
        np.testing.assert_allclose(got, expected, atol=1e-6)
    rounded = np.where(digits > 127, 1.0005, -1.0005)  # a hair outside, as rounding gives
    assert dl.to_model_range(rounded).min() == -1.0 and dl.to_model_range(rounded).max() == 1.0


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((28, 28), np.uint8), "one image"),
        (np.zeros((4, 1, 28, 28), np.uint8), "channels-first"),
        (np.zeros((4, 784), np.uint8), "flattened"),
        (np.zeros((4, 32, 32), np.uint8), "shape"),
        (np.zeros((0, 28, 28), np.uint8), "empty"),
        (np.zeros((4, 28, 28), np.int64), "dtype.*astype"),
        (np.zeros((4, 28, 28), bool), "dtype"),
        (np.full((4, 28, 28), 255.0), "0..255"),
        (np.full((4, 28, 28), -1.5), r"\[-1, 1\]"),
        (np.full((4, 28, 28), np.nan), "NaN"),
        (np.full((4, 28, 28), 0.5), r"look like \[0, 1\] images.*2 \* x - 1"),
    ],
)
def test_bad_images_raise_value_error(bad, match):
    with pytest.raises(ValueError, match=match):
        dl.to_model_range(bad)


def test_resumable_dataset_order_depends_on_seed_and_epoch_only():
    x = random_digits(40)
    first = [b.numpy() for b in dl.resumable_dataset(x, 16, seed=1).take(4)]  # epochs 0 and 1
    assert all(b.shape == (16, 28, 28, 1) and b.dtype == np.float32 for b in first)
    assert not np.array_equal(first[0], first[2])  # reshuffled each epoch
    resumed = [b.numpy() for b in dl.resumable_dataset(x, 16, seed=1, first_epoch=1).take(2)]
    np.testing.assert_array_equal(np.stack(resumed), np.stack(first[2:]))
    skipped = next(iter(dl.resumable_dataset(x, 16, seed=1, first_epoch=1, skip=1))).numpy()
    np.testing.assert_array_equal(skipped, first[3])
    with pytest.raises(ValueError, match="only 40 images for batch_size=64"):
        dl.resumable_dataset(x, 64)
