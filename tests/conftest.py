"""Shared fixtures; importing helpers also points DCGAN_MNIST at the complete MNIST beside
the checkout and quiets TensorFlow."""

import struct

import pytest
from helpers import SHARED_MNIST


@pytest.fixture(scope="session")
def shared_mnist_path():
    if not SHARED_MNIST.is_file():
        pytest.skip(f"the complete MNIST is not at {SHARED_MNIST} (CI always has it)")
    return SHARED_MNIST


@pytest.fixture
def damaged_npz(tmp_path):
    """make(arrays) -> {case: path}: the review's unreadable data files, built from ``arrays``.

    Cases: an empty file, a truncated and a CRC-corrupt archive, a lone .npy, an
    archive whose first member's header claims 949 GiB, and a text file named .npz.
    """
    import io
    import zipfile

    import numpy as np

    def make(arrays):
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        good = buf.getvalue()
        files = {"empty": b"", "truncated": good[: len(good) // 2], "text": b"just some notes\n"}
        with zipfile.ZipFile(io.BytesIO(good)) as archive:  # flip the first member's last byte
            info = archive.infolist()[0]
        at = info.header_offset  # its local header: 30 bytes, then names
        name_len, extra_len = struct.unpack("<HH", good[at + 26 : at + 30])
        last = at + 30 + name_len + extra_len + info.compress_size - 1
        files["crc"] = good[:last] + bytes([good[last] ^ 0xFF]) + good[last + 1 :]
        name, first = next(iter(arrays.items()))
        huge = io.BytesIO()  # header: 949 GiB; data: the real bytes
        np.lib.format.write_array_header_1_0(
            huge,
            {
                "descr": np.lib.format.dtype_to_descr(first.dtype),
                "fortran_order": False,
                "shape": (949 * 2**30 // (first[0].nbytes or 1),) + first.shape[1:],
            },
        )
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr(f"{name}.npy", huge.getvalue() + first.tobytes())
            for other, value in list(arrays.items())[1:]:
                member = io.BytesIO()
                np.save(member, value)
                archive.writestr(f"{other}.npy", member.getvalue())
        files["huge"] = out.getvalue()
        paths = {case: tmp_path / f"{case}.npz" for case in files}
        for case, content in files.items():
            paths[case].write_bytes(content)
        paths["npy"] = tmp_path / "lone.npy"
        np.save(paths["npy"], first)
        return paths

    return make
