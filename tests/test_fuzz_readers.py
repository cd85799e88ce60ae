"""Property-based fuzzing of the IDX and npz readers (issue 14).

Whatever is done to a file (truncated, a bit flipped, a header field set to a
limit), reading it has two allowed outcomes: the right arrays, or a one-line
ValueError naming the file. No other exception, and no more memory than the
file honestly holds (tracemalloc's peak, numpy's buffers included, within a
small multiple of that size plus a constant). Derandomized: CI sees the same
examples every run.
"""

import gzip
import io
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcgan_lib as dl


def load_mnist(path):
    return dl.load_mnist(path, verbose=False)


FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None)
DEFLATE_MAX_RATIO = 1032  # the most a deflate stream can expand: its honest bound
LIMITS_32 = [0, 1, 28, 2**16, 2**31 - 1, 2**31, 2**32 - 1]
SLACK = 256 * 1024  # read chunks, zip and gzip bookkeeping


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def outcome(read, path, honest: int):
    """read(path), or the ValueError it raised: one line naming ``path``; memory within honest."""
    tracemalloc.start()
    try:
        result = read(path)
    except ValueError as err:
        result = err
        assert "\n" not in str(err) and str(err).count(str(path)) == 1, str(err)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak <= 3 * honest + SLACK, (peak, honest)
    return result


# mutations of a file's bytes: (kind, position as a fraction of the length, value)
MUTATION = st.tuples(
    st.sampled_from(["none", "truncate", "flip", "append", "u32", "byte"]),
    st.floats(0, 1),
    st.integers(0, 2**32 - 1),
)


def mutate(data: bytes, mutation, fields=()) -> bytes:
    """Apply one mutation; 'u32' sets a big-endian header field (from ``fields``) to a limit."""
    kind, where, value = mutation
    pos = min(int(where * len(data)), max(len(data) - 1, 0))
    if kind == "truncate":
        return data[:pos]
    if kind == "flip" and data:
        return data[:pos] + bytes([data[pos] ^ (1 << value % 8)]) + data[pos + 1 :]
    if kind == "append":
        return data + bytes(value % 300)
    if kind == "u32" and fields:
        at = fields[value % len(fields)]
        return data[:at] + LIMITS_32[value % len(LIMITS_32)].to_bytes(4, "big") + data[at + 4 :]
    if kind == "byte" and len(data) >= 4:  # the magic's type code or number of dims
        at = 2 + value % 2
        return data[:at] + bytes([[0, 1, 3, 8, 0x0E, 0xFF][value % 6]]) + data[at + 1 :]
    return data


IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@st.composite
def idx_files(draw):
    code = draw(st.sampled_from(sorted(IDX_TYPES)))
    shape = draw(st.lists(st.integers(0, 4), min_size=1, max_size=3))
    dtype = np.dtype(IDX_TYPES[code])
    body = draw(
        st.binary(
            min_size=int(np.prod(shape)) * dtype.itemsize,
            max_size=int(np.prod(shape)) * dtype.itemsize,
        )
    )
    header = bytes([0, 0, code, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)
    expected = np.frombuffer(body, dtype).reshape(shape)
    return header + body, expected, [4 + 4 * i for i in range(len(shape))]


@FUZZ
@given(idx_files(), MUTATION, st.booleans())
def test_read_idx_loads_or_refuses_in_one_line(work, idx, mutation, gzipped):
    content, expected, fields = idx
    content2 = mutate(content, mutation, fields)
    path = work / ("f.gz" if gzipped else "f")
    path.write_bytes(gzip.compress(content2, mtime=0) if gzipped else content2)
    result = outcome(dl.read_idx, path, len(content2))
    if content2 == content:
        np.testing.assert_array_equal(result, expected)
    elif not isinstance(result, ValueError):
        assert result.nbytes <= len(content2)


@FUZZ
@given(idx_files(), MUTATION)
def test_read_idx_survives_damage_to_the_gzip_stream(work, idx, mutation):
    content, expected, _ = idx
    packed = gzip.compress(content, mtime=0)
    damaged = mutate(packed, mutation)
    path = work / "g.gz"
    path.write_bytes(damaged)
    result = outcome(dl.read_idx, path, DEFLATE_MAX_RATIO * len(damaged))
    if damaged == packed:
        np.testing.assert_array_equal(result, expected)


@st.composite
def mnist_arrays(draw):
    def images(n):
        pixels = draw(st.binary(min_size=n * 784, max_size=n * 784))
        return np.frombuffer(pixels, np.uint8).reshape(n, 28, 28)

    def labels(n):
        return np.array(draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), np.uint8)

    n_train, n_test = draw(st.integers(0, 2)), draw(st.integers(0, 1))
    return {
        "x_train": images(n_train),
        "y_train": labels(n_train),
        "x_test": images(n_test),
        "y_test": labels(n_test),
    }


def npz_bytes(arrays, compressed) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def zip_fields(data: bytes):
    """Offsets of the 4-byte size fields of every zip record (local and central headers)."""
    fields = []
    for signature, offsets in ((b"PK\x03\x04", (18, 22)), (b"PK\x01\x02", (20, 24, 42))):
        at = data.find(signature)
        while at >= 0:
            fields += [at + o for o in offsets]
            at = data.find(signature, at + 4)
    return fields


@FUZZ
@given(mnist_arrays(), MUTATION, st.booleans())
def test_load_mnist_loads_or_refuses_in_one_line(work, arrays, mutation, compressed):
    good = npz_bytes(arrays, compressed)
    damaged = mutate(good, mutation, zip_fields(good))
    path = work / "m.npz"
    path.write_bytes(damaged)
    honest = len(damaged) * (DEFLATE_MAX_RATIO if compressed else 1)
    result = outcome(load_mnist, path, honest)
    if damaged == good:
        (xtr, ytr), (xte, yte) = result
        for got, key in ((xtr, "x_train"), (ytr, "y_train"), (xte, "x_test"), (yte, "y_test")):
            np.testing.assert_array_equal(got, arrays[key])


SHAPE_LIMITS = [0, 1, 2, 28, -1, 2**31, 2**32, 2**63 - 1, 2**64, 949 * 2**30 // 784]
DESCRS = ["|u1", "<u2", ">u1", "<f4", "|b1", "|O", "<U2", "|V0", "|S0", "<M8[s]", "<c8"]


@FUZZ
@given(
    mnist_arrays(),
    st.sampled_from(["x_train", "y_train", "x_test", "y_test"]),
    st.lists(st.sampled_from(SHAPE_LIMITS), min_size=0, max_size=4),
    st.sampled_from(DESCRS),
    st.booleans(),
    st.booleans(),
)
def test_npy_headers_at_their_limits(work, arrays, key, shape, descr, fortran, compressed):
    """A well-formed zip whose member's .npy header says anything: checked before reading."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": descr, "fortran_order": fortran, "shape": tuple(shape)}
    )
    path = work / "h.npz"
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, value in arrays.items():
            member = io.BytesIO()
            np.save(member, value)
            data = header.getvalue() + value.tobytes() if name == key else member.getvalue()
            archive.writestr(f"{name}.npy", data)
    size = path.stat().st_size
    outcome(load_mnist, path, size * (DEFLATE_MAX_RATIO if compressed else 1))
