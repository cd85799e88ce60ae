"""MNIST: loading it anywhere, reading raw IDX files, and a tf.data pipeline.

Defined in Chapter 1 ("Your first GAN"); every later chapter uses it.

Where :func:`load_mnist` looks, in order:

1. an explicit ``path`` argument (an ``.npz`` in Keras' layout);
2. the environment variable ``DCGAN_MNIST`` naming such a file;
3. Keras' own cache and download (``keras.datasets.mnist.load_data``), which is
   what happens on Colab or a laptop with internet;
4. a small class-balanced subset bundled inside this package (made by
   ``scripts/make_mnist_subset.py``), announced by one line.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import math
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "load_mnist",
    "load_npz_mnist",
    "read_idx",
    "write_idx",
    "load_idx_mnist",
    "to_model_range",
    "make_dataset",
    "BUNDLED_SUBSET",
]

BUNDLED_SUBSET = Path(__file__).with_name("_data") / "mnist_subset.npz"
_KEYS = ("x_train", "y_train", "x_test", "y_test")


_MNIST_HINT = "Expected an .npz in Keras' MNIST layout (keys x_train, y_train, x_test, y_test)."
_CHUNK = 1 << 16                    # bytes read at a time: memory grows with what a file holds


class _BadFile(ValueError):
    """A file that cannot be used: one line, naming the file once (see :func:`_file_error`)."""


def _file_error(path, problem) -> ValueError:
    """The library's error for an unusable file: a one-line ValueError that starts with its path."""
    return _BadFile(f"{path}: {' '.join(str(problem).split())}")


def _read_up_to(f, nbytes: int) -> bytearray:
    """At most ``nbytes`` from ``f``, in chunks: a header's promise is never allocated up front."""
    data = bytearray()
    while len(data) < nbytes and (chunk := f.read(min(_CHUNK, nbytes - len(data)))):
        data += chunk
    return data


def _read_member(archive, info, check):
    """One ``.npy`` member of an open zip; its header is vetted before its data is read."""
    name = info.filename[:-4]
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise _BadFile(f"'{name}' uses .npy format {version}, which is not read here.")
        read_header = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
        shape, fortran, dtype = read_header(f)
        if dtype.kind not in "biufc" or dtype.itemsize == 0:
            raise _BadFile(f"'{name}' holds {dtype} values, not numbers (Python objects are "
                           "never unpickled: allow_pickle=False).")
        if any(n < 0 for n in shape):
            raise _BadFile(f"'{name}' has a negative size in its shape {shape}.")
        problem = check(name, shape, dtype) if check else None
        if problem:
            raise _BadFile(problem)
        nbytes = math.prod(shape) * dtype.itemsize          # exact: Python integers never overflow
        data = _read_up_to(f, nbytes)
        if len(data) != nbytes or f.read(1):                 # reading to the end checks the CRC
            raise _BadFile(f"'{name}' is damaged: its header promises {dtype} {shape} "
                           f"({nbytes} bytes), which is not what it holds.")
    array = np.frombuffer(data, dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def _read_npz(path, check=None, hint: str = "") -> dict:
    """The arrays of an ``.npz`` file, read without pickle and without trusting its headers.

    ``check(name, shape, dtype)`` may return a problem (a string) for a member
    before its data is read. Every failure, whatever the damage, is a one-line
    ValueError naming the file, followed by ``hint``.
    """
    try:
        with open(path, "rb") as raw:
            start = raw.read(6)
            if not start:
                raise _BadFile("is empty (0 bytes).")
            if start == b"\x93NUMPY":
                raise _BadFile("holds a single .npy array, not an .npz archive of named arrays.")
            with zipfile.ZipFile(raw) as archive:
                return {info.filename[:-4]: _read_member(archive, info, check)
                        for info in archive.infolist() if info.filename.endswith(".npy")}
    except _BadFile as err:
        raise _file_error(path, f"{err} {hint}") from None
    except (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, OverflowError,
            zipfile.BadZipFile, zlib.error, struct.error) as err:
        raise _file_error(path, "could not be read as an .npz archive: it is truncated, damaged "
                          f"or not an .npz at all ({type(err).__name__}: {err}). {hint}") from None


def _mnist_problem(name, shape, dtype):
    """Why array ``name`` cannot be one of MNIST's (None if it can), from its header alone."""
    if name not in _KEYS:
        return None
    rest, want = ((28, 28), "(N, 28, 28)") if name.startswith("x_") else ((), "(N,)")
    if dtype != np.uint8 or len(shape) != 1 + len(rest) or shape[1:] != rest:
        return f"{name} should be uint8 of shape {want}, got {dtype} {shape}."
    return None


def _check_layout(arrays: dict, source) -> None:
    """Raise ValueError unless arrays read with :func:`_mnist_problem` make up Keras' MNIST."""
    missing = [k for k in _KEYS if k not in arrays]
    if missing:
        raise _file_error(source, f"is not an MNIST file in Keras' layout: it lacks {missing} "
                                  f"(it has {sorted(arrays)}). Expected keys {list(_KEYS)}.")
    for split in ("train", "test"):                 # dtypes and shapes: checked as they were read
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(y) != len(x):
            raise _file_error(source, f"y_{split} holds {len(y)} labels for {len(x)} images.")
        if y.size and y.max() > 9:
            raise _file_error(source, f"y_{split} holds labels above 9 (up to {y.max()}).")


def load_npz_mnist(path):
    """Load an ``.npz`` in Keras' MNIST layout and check it.

    Returns ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
    (N, 28, 28) in 0..255 and uint8 labels of shape (N,) in 0..9. A file that
    cannot be read or is not MNIST raises a one-line ``ValueError`` naming it;
    array headers are checked before any data is read, and no more memory is
    taken than the file really holds.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise _file_error(path, f"is a directory, not an .npz file. {_MNIST_HINT}")
    if not path.is_file():
        raise FileNotFoundError(
            f"MNIST file {path} does not exist. Give the path of an .npz in Keras' "
            "layout (keys x_train, y_train, x_test, y_test)."
        )
    arrays = _read_npz(path, _mnist_problem, _MNIST_HINT)
    _check_layout(arrays, path)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _keras_mnist():
    """Keras' cache or download; None (and no traceback) when it fails."""
    from ._startup import import_tensorflow

    import_tensorflow()
    import keras

    # Keras prints "Downloading data from ..." before it fails offline; keep
    # that line back and show it only if the download worked.
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):
            data = keras.datasets.mnist.load_data()
    except Exception:  # noqa: BLE001 - no network, proxy, bad cache: all mean "not here"
        return None
    print(said.getvalue(), end="")
    return data


def load_mnist(path=None, *, verbose: bool = True):
    """Return MNIST exactly as ``keras.datasets.mnist.load_data()`` does.

    ``(x_train, y_train), (x_test, y_test)``: uint8 images (N, 28, 28) in
    0..255 and uint8 labels (N,) in 0..9; 60,000 and 10,000 of them for the
    full set. See the module docstring for where it looks. With
    ``verbose`` it prints one line saying where the data came from.
    """
    def say(msg):
        if verbose:
            print(msg)

    if path is not None:
        data = load_npz_mnist(path)
        say(f"MNIST from {path}: {len(data[0][0])} training, {len(data[1][0])} test images")
        return data
    env = os.environ.get("DCGAN_MNIST", "").strip()
    if env:
        if not Path(env).expanduser().is_file():
            raise FileNotFoundError(
                f"DCGAN_MNIST={env!r} names no file. Point it at an .npz in Keras' "
                "MNIST layout, or unset it to use Keras' download."
            )
        try:
            data = load_npz_mnist(env)
        except ValueError as err:
            raise _BadFile(f"{err} (DCGAN_MNIST names it: point DCGAN_MNIST at another file, or "
                           "unset it to use Keras' download.)") from None
        # the file's name, not its path: saved notebook outputs should not show one machine's folders
        say(f"MNIST from DCGAN_MNIST ({Path(env).name}): {len(data[0][0])} training, "
            f"{len(data[1][0])} test images")
        return data
    data = _keras_mnist()
    if data is not None:
        say(f"MNIST from Keras: {len(data[0][0])} training, {len(data[1][0])} test images")
        return data
    data = load_npz_mnist(BUNDLED_SUBSET)
    print(
        f"NOTE: full MNIST not available (no DCGAN_MNIST, no Keras download); using the "
        f"bundled subset: {len(data[0][0])} training, {len(data[1][0])} test images."
    )
    return data


# --- raw IDX files (the format of yann.lecun.com's MNIST files) --------------

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, *, expect_ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (optionally gzipped) into a numpy array, validating it.

    The header is two zero bytes, a type code (0x08 = unsigned byte), the number
    of dimensions, then one big-endian 32-bit size per dimension. MNIST's
    images are 3-D (count, 28, 28), its labels 1-D (count,). A file that is
    truncated, has trailing bytes, a bad magic number, or (with
    ``expect_ndim``) the wrong number of dimensions raises a one-line
    ``ValueError`` naming the file and the problem. The header is read first
    and the data streamed after it, so a file never costs more memory than it
    really holds, whatever its header claims.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {path} does not exist.")
    gz = path.suffix == ".gz"
    try:
        with (gzip.open if gz else open)(path, "rb") as f:
            return _read_idx(f, path, expect_ndim)
    except (OSError, EOFError, zlib.error) as err:  # bad or truncated gzip stream, bad CRC
        raise _file_error(path, f"cannot be {'decompressed' if gz else 'read'} ({err}).") from None


def _read_idx(f, path, expect_ndim):
    """The header first, then exactly the bytes it promises, streamed: never all of it at once."""
    head = f.read(4)
    if len(head) < 4:
        raise _file_error(path, f"too short for an IDX header ({len(head)} bytes).")
    zero1, zero2, type_code, ndim = head
    if zero1 or zero2 or type_code not in _IDX_DTYPES or ndim == 0:
        raise _file_error(path, f"bad magic number 0x{head.hex()} (expected 0x0000TTNN with a "
                          "known type TT, e.g. 0x00000803 for images, 0x00000801 for labels).")
    if expect_ndim is not None and ndim != expect_ndim:
        raise _file_error(path, f"has {ndim} dimensions, expected {expect_ndim}.")
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise _file_error(path, f"truncated header (needs {4 + 4 * ndim} bytes).")
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = math.prod(shape) * dtype.itemsize        # exact: Python integers never overflow
    data = _read_up_to(f, expected)
    if len(data) < expected or f.read(1):
        what = "truncated" if len(data) < expected else "has trailing bytes"
        held = f"holds {len(data)}" if len(data) < expected else "holds more"
        raise _file_error(path, f"{what}: header says shape {shape} ({expected} bytes of data), "
                                f"file {held}.")
    try:
        array = np.frombuffer(data, dtype=dtype).reshape(shape)
    except ValueError as err:                           # e.g. (0, 2**32 - 1, 2**32 - 1): too big
        raise _file_error(path, f"header shape {shape} is not a possible array ({err}).") from None
    return array.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path, array: np.ndarray) -> Path:
    """Write a uint8 array as an IDX file (gzipped if ``path`` ends in .gz)."""
    path = Path(path)
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"write_idx writes uint8 arrays only, got {array.dtype}.")
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())
    return path


def load_idx_mnist(directory):
    """Read the four MNIST IDX files in ``directory`` (gzipped or not).

    Expects ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
    ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``. Returns
    the same arrays as :func:`load_mnist`, after checking that images are
    (N, 28, 28) uint8 and that images and labels agree in count.
    """
    directory = Path(directory)

    def find(stem):
        for name in (stem + ".gz", stem):
            if (directory / name).is_file():
                return directory / name
        raise FileNotFoundError(f"{directory} holds neither {stem} nor {stem}.gz.")

    out = []
    for prefix in ("train", "t10k"):
        img_path, lbl_path = find(f"{prefix}-images-idx3-ubyte"), find(f"{prefix}-labels-idx1-ubyte")
        images, labels = read_idx(img_path, expect_ndim=3), read_idx(lbl_path, expect_ndim=1)
        if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
            raise _file_error(img_path, f"expected uint8 images of 28x28, got {images.dtype} "
                                        f"{images.shape[1:]}.")
        if labels.dtype != np.uint8:
            raise _file_error(lbl_path, f"expected uint8 labels, got {labels.dtype}.")
        if labels.size and labels.max() > 9:
            raise _file_error(lbl_path, f"holds labels above 9 (up to {labels.max()}): "
                              "MNIST's digits are 0..9.")
        if len(images) != len(labels):
            raise ValueError(
                f"{img_path.name} holds {len(images)} images but {lbl_path.name} "
                f"holds {len(labels)} labels: the files do not belong together."
            )
        out.append((images, labels))
    return tuple(out)


# --- into the model -----------------------------------------------------------

def to_model_range(images) -> np.ndarray:
    """uint8 digits (N, 28, 28[, 1]) in 0..255 -> float32 (N, 28, 28, 1) in [-1, 1].

    [-1, 1] matches the generator's tanh output.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"to_model_range expects uint8 pixels 0..255, got {images.dtype}.")
    if images.ndim == 3:
        images = images[..., None]
    return images.astype(np.float32) / 127.5 - 1.0


def make_dataset(images, batch_size: int, *, shuffle: bool = True, seed: int | None = None,
                 drop_remainder: bool = True, cache: bool = True, repeat: bool = False):
    """A ``tf.data.Dataset`` of training batches for a GAN.

    ``images``: uint8 (N, 28, 28[, 1]). Yields float32 (batch_size, 28, 28, 1)
    in [-1, 1]: scaled once, cached, shuffled every epoch (with ``seed``, the
    same order each run), batched (dropping the last partial batch by default,
    so every step sees the same shape and ``tf.function`` traces once), and
    prefetched so the CPU prepares the next batch while the model trains.
    """
    from ._startup import import_tensorflow

    tf = import_tensorflow()
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    scaled = to_model_range(images)
    if drop_remainder and len(scaled) < batch_size:
        raise ValueError(
            f"only {len(scaled)} images for batch_size={batch_size}: use fewer per "
            "batch or more images."
        )
    ds = tf.data.Dataset.from_tensor_slices(scaled)
    if cache:
        ds = ds.cache()
    if repeat:
        ds = ds.repeat()
    if shuffle:
        ds = ds.shuffle(min(len(scaled), 60_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)
