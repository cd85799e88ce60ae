import gzip
import hashlib

import numpy as np
import pytest

import dcgan_lib as dl
from dcgan_lib import data


def test_load_mnist_from_env_equals_shared_file(shared_mnist_path, monkeypatch):
    monkeypatch.setenv("DCGAN_MNIST", str(shared_mnist_path))
    (xtr, ytr), (xte, yte) = dl.load_mnist(verbose=False)
    with np.load(shared_mnist_path) as ref:
        for got, key in ((xtr, "x_train"), (ytr, "y_train"), (xte, "x_test"), (yte, "y_test")):
            assert got.dtype == np.uint8
            np.testing.assert_array_equal(got, ref[key])
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    assert list(ytr[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert abs(xtr.mean() / 255 - 0.1306604762738429) < 1e-9


def test_explicit_path_wins_over_env(shared_mnist_path, monkeypatch):
    monkeypatch.setenv("DCGAN_MNIST", str(shared_mnist_path))
    (xtr, _), _ = dl.load_mnist(data.BUNDLED_SUBSET, verbose=False)
    assert len(xtr) == 5000


def test_offline_fallback_is_the_bundled_subset(monkeypatch, capsys):
    monkeypatch.delenv("DCGAN_MNIST", raising=False)
    monkeypatch.setattr(data, "_keras_mnist", lambda: None)  # what an offline machine gets
    (xtr, ytr), (xte, yte) = dl.load_mnist()
    out = capsys.readouterr()
    assert out.out.count("\n") == 1 and "bundled subset" in out.out
    assert "Traceback" not in out.out + out.err
    assert np.bincount(ytr, minlength=10).tolist() == [500] * 10
    assert np.bincount(yte, minlength=10).tolist() == [100] * 10
    assert data.BUNDLED_SUBSET.stat().st_size <= 2_000_000


def test_bundled_subset_is_first_per_class_of_full(shared_mnist_path):
    (xtr, ytr), (xte, yte) = dl.load_npz_mnist(data.BUNDLED_SUBSET)
    (ftr, fytr), (fte, fyte) = dl.load_npz_mnist(shared_mnist_path)
    for digit in (0, 7):
        idx = np.flatnonzero(fytr == digit)[:500]
        np.testing.assert_array_equal(xtr[ytr == digit], ftr[idx])
        idx = np.flatnonzero(fyte == digit)[:100]
        np.testing.assert_array_equal(xte[yte == digit], fte[idx])


def test_real_offline_keras_path_falls_back_without_traceback(monkeypatch, tmp_path, capsys):
    """No network here: Keras' own download must fail quietly into the subset."""
    monkeypatch.delenv("DCGAN_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty cache
    result = data._keras_mnist()
    out = capsys.readouterr()
    if result is not None:  # a machine with internet: the real download worked
        assert len(result[0][0]) == 60000
    else:
        assert "Traceback" not in out.out + out.err and "Downloading" not in out.out


def test_env_pointing_nowhere_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DCGAN_MNIST", str(tmp_path / "nope.npz"))
    with pytest.raises(FileNotFoundError, match="DCGAN_MNIST"):
        dl.load_mnist()


def test_npz_with_wrong_layout_is_rejected(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="lacks"):
        dl.load_npz_mnist(bad)
    np.savez(bad, x_train=np.zeros((3, 28, 27), np.uint8), y_train=np.zeros(3, np.uint8),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match=r"x_train should be uint8 of shape \(N, 28, 28\)"):
        dl.load_npz_mnist(bad)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="could not be read"):
        dl.load_npz_mnist(tmp_path / "junk.npz")


# --- IDX files written by the tests from the shared data ---------------------

@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory, shared_mnist_path):
    d = tmp_path_factory.mktemp("idx")
    (xtr, ytr), (xte, yte) = dl.load_npz_mnist(shared_mnist_path)
    dl.write_idx(d / "train-images-idx3-ubyte.gz", xtr)
    dl.write_idx(d / "train-labels-idx1-ubyte.gz", ytr)
    dl.write_idx(d / "t10k-images-idx3-ubyte", xte)          # one of them not gzipped
    dl.write_idx(d / "t10k-labels-idx1-ubyte.gz", yte)
    return d


def test_idx_roundtrip_equals_shared(idx_dir, shared_mnist_path):
    (xtr, ytr), (xte, yte) = dl.load_idx_mnist(idx_dir)
    (rtr, rytr), (rte, ryte) = dl.load_npz_mnist(shared_mnist_path)
    np.testing.assert_array_equal(xtr, rtr)
    np.testing.assert_array_equal(ytr, rytr)
    np.testing.assert_array_equal(xte, rte)
    np.testing.assert_array_equal(yte, ryte)


def test_idx_header_is_the_standard_one(idx_dir):
    with gzip.open(idx_dir / "train-images-idx3-ubyte.gz", "rb") as f:
        head = f.read(16)
    assert head == bytes.fromhex("00000803") + (60000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2


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


def test_bad_magic_and_corrupt_gzip(idx_dir, tmp_path):
    raw = _raw(idx_dir / "train-labels-idx1-ubyte.gz")
    bad = tmp_path / "labels"
    bad.write_bytes(b"\x12\x34" + raw[2:])
    with pytest.raises(ValueError, match="bad magic number 0x1234"):
        dl.read_idx(bad)
    gz = tmp_path / "labels.gz"
    gz.write_bytes((idx_dir / "train-labels-idx1-ubyte.gz").read_bytes()[:100])
    with pytest.raises(ValueError, match="labels.gz: cannot be decompressed"):
        dl.read_idx(gz)


def test_mismatched_idx_files(idx_dir, tmp_path):
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes((idx_dir / name).read_bytes())
    labels = dl.read_idx(idx_dir / "train-labels-idx1-ubyte.gz")
    dl.write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels[:59999])
    with pytest.raises(ValueError, match="60000 images but train-labels-idx1-ubyte.gz holds 59999"):
        dl.load_idx_mnist(tmp_path)
    # labels where images belong: wrong number of dimensions
    dl.write_idx(tmp_path / "train-images-idx3-ubyte.gz", labels)
    with pytest.raises(ValueError, match="has 1 dimensions, expected 3"):
        dl.load_idx_mnist(tmp_path)


# --- into the model -----------------------------------------------------------

def test_to_model_range():
    x = np.array([[[0, 255], [128, 1]]], np.uint8)
    y = dl.to_model_range(x)
    assert y.shape == (1, 2, 2, 1) and y.dtype == np.float32
    assert y.min() == -1.0 and y.max() == 1.0
    with pytest.raises(ValueError, match="uint8"):
        dl.to_model_range(x.astype(np.float32))


def test_make_dataset_shapes_ranges_and_shuffling():
    (xtr, _), _ = dl.load_npz_mnist(data.BUNDLED_SUBSET)
    ds = dl.make_dataset(xtr[:1000], 64, seed=1)
    batches = list(ds)
    assert len(batches) == 1000 // 64
    assert all(b.shape == (64, 28, 28, 1) and b.dtype.name == "float32" for b in batches)
    allx = np.concatenate([b.numpy() for b in batches])
    assert allx.min() == -1.0 and allx.max() == 1.0
    first_epoch = next(iter(ds)).numpy()
    second_epoch = next(iter(ds)).numpy()
    assert not np.array_equal(first_epoch, second_epoch), "reshuffles each epoch"
    ordered = next(iter(dl.make_dataset(xtr[:1000], 64, shuffle=False))).numpy()
    np.testing.assert_array_equal(ordered, dl.to_model_range(xtr[:64]))
    with pytest.raises(ValueError, match="batch_size"):
        dl.make_dataset(xtr[:10], 64)


# --- files that cannot be read: one line naming the file, never a traceback (issue 14) ---

def _tiny_mnist():
    rng = np.random.default_rng(0)
    return {"x_train": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
            "y_train": np.array([3, 9], np.uint8),
            "x_test": rng.integers(0, 256, (1, 28, 28), dtype=np.uint8),
            "y_test": np.array([0], np.uint8)}


def _one_line_naming(err, path):
    msg = str(err)
    assert "\n" not in msg and msg.count(str(path)) == 1, msg
    assert "allow_pickle" not in msg.replace("allow_pickle=False", ""), msg
    return msg


@pytest.mark.parametrize("case, words", [
    ("empty", "is empty"), ("truncated", "truncated"), ("crc", "damaged"),
    ("huge", "damaged"), ("text", "not an .npz"), ("npy", "single .npy array")])
def test_unreadable_mnist_files_give_one_line_naming_them(damaged_npz, monkeypatch, case, words):
    import tracemalloc

    path = damaged_npz(_tiny_mnist())[case]
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as err:
            dl.load_npz_mnist(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert words in _one_line_naming(err.value, path) and "Keras' MNIST layout" in str(err.value)
    assert peak < 10 * max(path.stat().st_size, 1) + 2**20       # the 949 GiB claim costs nothing
    monkeypatch.setenv("DCGAN_MNIST", str(path))                  # the same through the environment
    with pytest.raises(ValueError) as err:
        dl.load_mnist(verbose=False)
    assert "DCGAN_MNIST" in _one_line_naming(err.value, path)


def test_loader_checks_headers_before_reading(tmp_path):
    arrays = _tiny_mnist()
    arrays["x_train"] = np.zeros((3, 28, 28), np.float32)
    np.savez(tmp_path / "f.npz", **arrays)
    with pytest.raises(ValueError, match=r"x_train should be uint8 of shape \(N, 28, 28\), got f"):
        dl.load_npz_mnist(tmp_path / "f.npz")
    arrays = _tiny_mnist()
    arrays["y_train"] = np.array([1, 12], np.uint8)
    np.savez(tmp_path / "g.npz", **arrays)
    with pytest.raises(ValueError, match="y_train holds labels above 9"):
        dl.load_npz_mnist(tmp_path / "g.npz")
    np.savez(tmp_path / "objects.npz", x_train=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not numbers") as err:
        dl.load_npz_mnist(tmp_path / "objects.npz")
    _one_line_naming(err.value, tmp_path / "objects.npz")
    with pytest.raises(ValueError, match="is a directory"):
        dl.load_npz_mnist(tmp_path)


def test_idx_labels_above_9_are_refused(tmp_path):
    dl.write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    dl.write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([1, 10], np.uint8))
    dl.write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((1, 28, 28), np.uint8))
    dl.write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([0], np.uint8))
    with pytest.raises(ValueError, match=r"labels-idx1-ubyte: holds labels above 9 \(up to 10\)"):
        dl.load_idx_mnist(tmp_path)


def test_idx_dimensions_that_overflow_int64_are_not_a_match(tmp_path):
    # 65536**4 == 2**64, which np.prod wraps to 0: an empty body used to pass the size check
    bad = tmp_path / "overflow"
    bad.write_bytes(bytes([0, 0, 8, 4]) + (65536).to_bytes(4, "big") * 4)
    with pytest.raises(ValueError, match=r"overflow: truncated: .*\(18446744073709551616 bytes"):
        dl.read_idx(bad)


def test_idx_gzip_is_streamed_never_inflated_whole(tmp_path):
    import tracemalloc

    lying = tmp_path / "lying.gz"             # a header for 10 labels, then 64 MiB of zeros
    with gzip.open(lying, "wb", compresslevel=1) as f:
        f.write(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(64 * 2**20))
    huge = tmp_path / "huge.gz"               # a header promising 4 GiB, then 100 bytes
    with gzip.open(huge, "wb") as f:
        f.write(bytes([0, 0, 8, 2]) + (65536).to_bytes(4, "big") * 2 + bytes(100))
    for path, words in ((lying, "trailing bytes"), (huge, "truncated")):
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match=words):
                dl.read_idx(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 2**20, (path.name, peak)       # not 64 MiB, not 4 GiB
