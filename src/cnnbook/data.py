"""Data sets and sample images the book uses. Nothing is downloaded: everything ships with the
repository or with scikit-learn.

- :func:`load_digits28` — scikit-learn's 1,797 real handwritten digits (8x8 scans), enlarged and
  centred in 28x28 like MNIST, normalised, float32 ``(N, 1, 28, 28)``, with a fixed stratified split.
- :func:`read_idx` — the IDX file format MNIST is distributed in (plain or gzip-compressed).
- :func:`load_digit18` — the 18x18 grey-scale digit of the study notes (``data/digit18.csv``).
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["load_digits28", "read_idx", "load_digit18", "DATA_DIR", "IDX_DTYPES"]

#: The repository's ``data/`` folder (the package is installed editable from ``src/``).
DATA_DIR = Path(__file__).resolve().parents[2] / "data"

#: IDX type codes (third byte of the magic number) and the big-endian NumPy dtype each one stores.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),  # unsigned byte
    0x09: np.dtype(">i1"),  # signed byte
    0x0B: np.dtype(">i2"),  # short (2 bytes)
    0x0C: np.dtype(">i4"),  # int (4 bytes)
    0x0D: np.dtype(">f4"),  # float (4 bytes)
    0x0E: np.dtype(">f8"),  # double (8 bytes)
}


# ----------------------------------------------------------------------------------------------
# scikit-learn's digits, MNIST-style
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _digits28(test_size: float, seed: int):
    import cv2
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0            # (1797, 8, 8), ink in [0, 1]
    # 8x8 -> 20x20 by bilinear interpolation (cv2 sizes are (width, height)), then a 4-pixel border:
    # MNIST's digits also fit a 20x20 box centred in a 28x28 frame.
    big = np.stack([cv2.resize(im, (20, 20), interpolation=cv2.INTER_LINEAR) for im in images])
    big = np.clip(big, 0.0, 1.0)
    x = np.pad(big, ((0, 0), (4, 4), (4, 4)))[:, None]          # (N, 1, 28, 28)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=seed
    )
    mean, std = float(x_train.mean()), float(x_train.std())     # training statistics only
    out = []
    for arr in (((x_train - mean) / std).astype(np.float32), y_train,
                ((x_test - mean) / std).astype(np.float32), y_test):
        arr = np.ascontiguousarray(arr)
        arr.flags.writeable = False                             # the cache must never change
        out.append(arr)
    return tuple(out), (mean, std)


def load_digits28(test_size: float = 0.2, seed: int = 0):
    """scikit-learn's handwritten digits, resized and centred like MNIST.

    Each 8x8 scan (ink 0..16) is scaled to [0, 1], enlarged to 20x20 by bilinear interpolation
    (``cv2.INTER_LINEAR``), centred in a 28x28 frame by a 4-pixel zero border, and standardised with
    the mean and standard deviation of the *training* pixels (one scalar each), as is done for MNIST.
    The split is stratified (every class keeps its share) and fixed by ``seed``.

    Parameters
    ----------
    test_size : float
        Fraction held out for testing (default 0.2: 1,437 training and 360 test images).
    seed : int
        ``random_state`` of ``sklearn.model_selection.train_test_split``.

    Returns
    -------
    x_train, y_train, x_test, y_test : ndarray
        Images float32 ``(N, 1, 28, 28)``; labels int64 ``(N,)`` in 0..9. Fresh copies on every call
        (the work is cached, the arrays are not shared).
    """
    arrays, _ = _digits28(float(test_size), int(seed))
    return tuple(a.copy() for a in arrays)


def digits28_stats(test_size: float = 0.2, seed: int = 0) -> tuple[float, float]:
    """The ``(mean, std)`` :func:`load_digits28` standardised with (training pixels in [0, 1])."""
    return _digits28(float(test_size), int(seed))[1]


# ----------------------------------------------------------------------------------------------
# IDX files (MNIST's format)
# ----------------------------------------------------------------------------------------------
def read_idx(path) -> np.ndarray:
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


# ----------------------------------------------------------------------------------------------
# small sample images
# ----------------------------------------------------------------------------------------------
def load_digit18() -> np.ndarray:
    """The 18x18 grey-scale handwritten digit of the study notes, uint8 (0 black .. 255 white)."""
    path = DATA_DIR / "digit18.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: load_digit18 needs the repository's data/ folder")
    return np.loadtxt(path, delimiter=",", dtype=np.uint8)
