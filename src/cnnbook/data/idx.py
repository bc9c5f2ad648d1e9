"""The IDX file format MNIST is distributed in (plain or gzip-compressed)."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "IDX_DTYPES"]

#: IDX type codes (third byte of the magic number) and the big-endian NumPy dtype each one stores.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),  # unsigned byte
    0x09: np.dtype(">i1"),  # signed byte
    0x0B: np.dtype(">i2"),  # short (2 bytes)
    0x0C: np.dtype(">i4"),  # int (4 bytes)
    0x0D: np.dtype(">f4"),  # float (4 bytes)
    0x0E: np.dtype(">f8"),  # double (8 bytes)
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the format of the MNIST files), plain or gzip-compressed.

    Layout: a 4-byte magic number ``0x00 0x00 <type code> <ndim>``, then ``ndim`` big-endian
    uint32 sizes, then the values in C order, big-endian. Type codes: 0x08 uint8, 0x09 int8,
    0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64. A gzip file is recognised by its first
    two bytes (``1f 8b``), whatever its name.

    Parameters
    ----------
    path : str or os.PathLike
        E.g. ``train-images-idx3-ubyte.gz`` (-> uint8 ``(60000, 28, 28)``) or
        ``train-labels-idx1-ubyte.gz`` (-> uint8 ``(60000,)``).

    Returns
    -------
    ndarray
        The values in native byte order, with the shape given by the header.

    Raises
    ------
    ValueError
        Bad magic number, unknown type code, a file shorter than its header says (truncated), or
        extra bytes after the data.
    """
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError) as exc:
            raise ValueError(f"{path}: damaged or truncated gzip data ({exc})") from None
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated IDX file: {len(raw)} bytes, the magic number needs 4")
    zero0, zero1, code, ndim = raw[:4]
    if zero0 != 0 or zero1 != 0:
        raise ValueError(
            f"{path}: bad IDX magic number 0x{raw[:4].hex()}: the first two bytes must be zero"
        )
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"{path}: bad IDX magic number 0x{raw[:4].hex()}: type code 0x{code:02X} "
                         f"is not one of {known}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX file: {len(raw)} bytes, the header of a "
                         f"{ndim}-D array needs {header}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) < expected:
        raise ValueError(f"{path}: truncated IDX file: shape {shape} of {dtype.name} needs "
                         f"{expected} bytes, got {len(raw)}")
    if len(raw) > expected:
        raise ValueError(f"{path}: {len(raw) - expected} unexpected bytes after the data of "
                         f"shape {shape}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))                 # native order, own writable copy
