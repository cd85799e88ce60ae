"""MNIST: load it anywhere, read data files safely, scale and batch digits (TensorFlow lazily)."""

import contextlib
import gzip
import io
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from ._startup import import_tensorflow

__all__ = ["load_mnist", "to_model_range", "read_idx", "write_idx", "resumable_dataset"]

_BUNDLED_SUBSET = Path(__file__).with_name("_data") / "mnist_subset.npz"
_KEYS = ("x_train", "y_train", "x_test", "y_test")
_MNIST_HINT = "Expected an .npz in Keras' MNIST layout (keys x_train, y_train, x_test, y_test)."
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class _BadFile(ValueError):
    """A file that cannot be used: one line, naming the file once."""


def file_error(path, problem) -> ValueError:
    """The one-line ValueError for an unusable file, starting with its path."""
    return _BadFile(f"{path}: {' '.join(str(problem).split())}")


@contextlib.contextmanager
def _reading(path, damaged: str, hint: str = ""):
    """``path`` opened (gunzipped if named .gz); anything wrong: one line naming it, then hint."""
    full = Path(path).expanduser()
    if full.is_dir():
        raise file_error(path, f"is a directory, not a data file. {hint}")
    if not full.is_file():
        raise FileNotFoundError(f"{path} does not exist. {hint}")
    try:
        with (gzip.open if full.suffix == ".gz" else open)(full, "rb") as f:
            yield f
    except _BadFile as err:
        raise file_error(path, f"{err} {hint}") from None
    except Exception as err:  # whatever the damage: one line
        raise file_error(path, f"{damaged} ({type(err).__name__}: {err}). {hint}") from None


def _read_array(f, shape, dtype, damaged=""):
    """The array a header promises, read in chunks: never allocated before its bytes arrive."""
    data, nbytes = bytearray(), math.prod(shape) * dtype.itemsize  # exact: no overflow
    while len(data) < nbytes and (chunk := f.read(min(1 << 16, nbytes - len(data)))):
        data += chunk
    if len(data) < nbytes or f.read(1):  # in a zip, reading to the end checks the CRC
        held = f"truncated: file holds {len(data)}" if len(data) < nbytes else "has trailing bytes"
        raise _BadFile(f"{damaged}{held}, header says {dtype} {shape} ({nbytes} bytes).")
    return np.frombuffer(data, dtype).reshape(shape)  # (0, 2**32 - 1, 2**32 - 1): ValueError


def _read_member(archive, info, check):
    name = info.filename[:-4]
    with archive.open(info) as f:
        if (version := np.lib.format.read_magic(f)) not in ((1, 0), (2, 0)):
            raise _BadFile(f"'{name}' uses .npy format {version}, which is not read here.")
        shape, fortran, dtype = getattr(np.lib.format, f"read_array_header_{version[0]}_0")(f)
        if dtype.kind not in "biufc" or dtype.itemsize == 0 or min(shape, default=0) < 0:
            raise _BadFile(f"'{name}' is {dtype} {shape}: not numbers, or a negative size.")
        if check and (problem := check(name, shape, dtype)):
            raise _BadFile(problem)
        array = _read_array(f, shape[::-1] if fortran else shape, dtype, f"'{name}' is damaged: ")
    return array.T if fortran else array


def read_npz(path, check=None, hint: str = "") -> dict:
    """{name: array} of an .npz, without pickle or trusting headers; ``check(name, shape, dtype)``
    may refuse a member first. Missing: FileNotFoundError; else a one-line ValueError, then hint."""
    damaged = "could not be read as an .npz archive: truncated, damaged or not an .npz at all"
    with _reading(path, damaged, hint) as raw:
        start = raw.read(6)
        if not start:
            raise _BadFile("is empty (0 bytes).")
        if start == b"\x93NUMPY":
            raise _BadFile("holds a single .npy array, not an .npz archive of named arrays.")
        with zipfile.ZipFile(raw) as archive:
            members = [i for i in archive.infolist() if i.filename.endswith(".npy")]
            return {i.filename[:-4]: _read_member(archive, i, check) for i in members}


def _load_npz_mnist(path):
    def problem(name, shape, dtype):  # checked before a member is read
        rest, want = ((28, 28), "(N, 28, 28)") if name.startswith("x_") else ((), "(N,)")
        if name in _KEYS and (dtype != np.uint8 or not shape or shape[1:] != rest):
            return f"{name} should be uint8 of shape {want}, got {dtype} {shape}."

    arrays = read_npz(path, problem, _MNIST_HINT)
    if missing := [k for k in _KEYS if k not in arrays]:
        raise file_error(path, f"lacks {missing} (it has {sorted(arrays)}). {_MNIST_HINT}")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(y) != len(x):
            raise file_error(path, f"y_{split} holds {len(y)} labels for {len(x)} images.")
        if y.size and y.max() > 9:
            raise file_error(path, f"y_{split} holds labels above 9 (up to {y.max()}).")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_mnist(path=None, *, verbose: bool = True):
    """MNIST as ``keras.datasets.mnist.load_data()`` returns it. Defined in Chapter 1.
    uint8 images (N, 28, 28) in 0..255, labels (N,) in 0..9, from ``path``, else ``DCGAN_MNIST``,
    else Keras, else a bundled 5,000 + 1,000 subset; a bad file: FileNotFoundError or ValueError."""
    env = os.environ.get("DCGAN_MNIST", "").strip()
    fix = "point it at an .npz in Keras' MNIST layout, or unset it to use Keras' download"
    if path is not None:
        data, source = _load_npz_mnist(path), path
    elif env:
        if not Path(env).expanduser().is_file():
            raise FileNotFoundError(f"DCGAN_MNIST={env!r} names no file: {fix}.")
        try:
            data = _load_npz_mnist(env)
        except ValueError as err:
            raise _BadFile(f"{err} (DCGAN_MNIST names it: {fix}.)") from None
        source = f"DCGAN_MNIST ({Path(env).name})"  # its name: not one machine's folders
    else:
        try:
            with contextlib.redirect_stdout(said := io.StringIO()):
                data, source = import_tensorflow().keras.datasets.mnist.load_data(), "Keras"
            print(said.getvalue(), end="")  # "Downloading data from ...": only if it worked
        except Exception:  # no network, a proxy, a bad cache: the bundled subset, no traceback
            data, source = _load_npz_mnist(_BUNDLED_SUBSET), None
    counts = f"{len(data[0][0])} training, {len(data[1][0])} test images"
    if source is None:
        why = "full MNIST not available (no DCGAN_MNIST, no Keras download)"
        print(f"NOTE: {why}; using the bundled subset: {counts}.")
    elif verbose:
        print(f"MNIST from {source}: {counts}")
    return data


def read_idx(path, *, expect_ndim: int | None = None) -> np.ndarray:
    """An IDX file (MNIST's original format; gzipped if named .gz). Defined in Chapter 3.
    Missing: FileNotFoundError; damaged or not expect_ndim-D: ValueError. Memory <= file size."""
    gz = Path(path).suffix == ".gz"
    with _reading(path, f"cannot be {'decompressed' if gz else 'read'}") as f:
        head = f.read(4)
        if len(head) < 4:
            raise _BadFile(f"too short for an IDX header ({len(head)} bytes).")
        if head[:2] != b"\0\0" or head[2] not in _IDX_DTYPES or head[3] == 0:
            raise _BadFile(f"bad magic number 0x{head.hex()}, not 0x0000TTNN (e.g. 0x00000803).")
        if expect_ndim is not None and head[3] != expect_ndim:
            raise _BadFile(f"has {head[3]} dimensions, expected {expect_ndim}.")
        if len(dims := f.read(4 * head[3])) < 4 * head[3]:
            raise _BadFile(f"truncated header (needs {4 + 4 * head[3]} bytes).")
        shape = tuple(np.frombuffer(dims, ">u4").tolist())
        array = _read_array(f, shape, np.dtype(_IDX_DTYPES[head[2]]))
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def write_idx(path, array: np.ndarray) -> Path:
    """Write uint8 ``array`` to ``path``, as IDX (gzipped if named .gz). Defined in Chapter 3."""
    path, array = Path(path), np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"write_idx writes uint8 arrays only, got {array.dtype}.")
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    with (gzip.open if path.suffix == ".gz" else open)(path, "wb") as f:
        f.write(header + array.tobytes())
    return path


def to_model_range(images) -> np.ndarray:
    """Digits -> float32 (N, 28, 28, 1) in [-1, 1], the models' input. Defined in Chapter 1.
    ``images`` (N, 28, 28[, 1]): uint8 0..255 (x / 127.5 - 1) or floats in [-1, 1] (clipped,
    1e-3 slack). Anything else, [0, 1] floats too: a ValueError saying what to do."""
    x = np.asarray(images)
    if x.shape[1:] not in ((28, 28), (28, 28, 1)):
        hint = ""
        if x.shape in ((28, 28), (28, 28, 1)):
            hint = " This is one image: add a batch axis (images[None])."
        elif x.shape[1:] == (1, 28, 28):
            hint = " This looks channels-first: use np.moveaxis(images, 1, -1)."
        elif x.shape[1:] == (784,):
            hint = " These look flattened: use images.reshape(-1, 28, 28)."
        raise ValueError(f"images must have shape (N, 28, 28[, 1]), got {x.shape}.{hint}")
    x = x.reshape(-1, 28, 28, 1)
    if len(x) == 0:
        raise ValueError("images is empty: there is nothing to evaluate.")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 127.5 - 1.0
    if x.dtype.kind != "f":
        raise ValueError(f"images of dtype {x.dtype}: use uint8 (.astype(np.uint8)) or floats.")
    x = x.astype(np.float32, copy=False)  # clip below makes the one copy
    if not np.all(np.isfinite(x)):
        raise ValueError("images hold NaN or infinite values (did the generator diverge?).")
    lo, hi = float(x.min()), float(x.max())
    span = f"float images span [{lo:.4g}, {hi:.4g}]"
    if lo < -1.001 or hi > 1.001:
        pixels = hi > 2 and lo >= 0
        hint = " They look like 0..255 pixels: pass uint8, or use x / 127.5 - 1." if pixels else ""
        raise ValueError(f"{span}: they must lie in [-1, 1].{hint}")
    if lo >= 0:
        raise ValueError(f"{span}: they look like [0, 1] images; use 2 * x - 1, or pass uint8.")
    return np.clip(x, -1.0, 1.0)


def resumable_dataset(images, batch_size: int, *, seed=0, first_epoch=0, skip=0):
    """Endless batches whose order in epoch k depends only on ``(seed, k)``. Defined in Chapter 3.
    float32 (batch_size, 28, 28, 1) in [-1, 1] (``images``: see to_model_range), N // batch_size
    per epoch from ``first_epoch``, less the first ``skip``. Too few images: ValueError."""
    tf = import_tensorflow()
    scaled = tf.constant(to_model_range(images))
    n = int(scaled.shape[0])
    if n < batch_size:
        raise ValueError(f"only {n} images for batch_size={batch_size}: use fewer or more images.")
    seed = tf.constant(int(seed), tf.int64)

    def one_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(n), seed=tf.stack([seed, epoch]))
        batches = tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)
        return batches.map(lambda idx: tf.gather(scaled, idx))

    epochs = tf.data.Dataset.range(int(first_epoch), 2**62)
    return epochs.flat_map(one_epoch).skip(int(skip)).prefetch(tf.data.AUTOTUNE)
