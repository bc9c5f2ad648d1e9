"""Handwritten digits: scikit-learn's scans made MNIST-like, the 18x18 digit of the study notes, and
one scan on a black canvas."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .resources import read_bytes

__all__ = ["load_digits28", "load_digit18", "sample_digit", "shift_digits", "split_and_standardise"]


@lru_cache(maxsize=4)
def _digits28(test_size: float, seed: int):
    import cv2
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0            # (1797, 8, 8), ink in [0, 1]
    # 8x8 -> 20x20 by bilinear interpolation (cv2 sizes are (width, height)), then a 4-pixel border:
    # MNIST's digits also fit a 20x20 box centred in a 28x28 frame.
    big = np.stack([cv2.resize(im, (20, 20), interpolation=cv2.INTER_LINEAR) for im in images])
    big = np.clip(big, 0.0, 1.0)
    x = np.pad(big, ((0, 0), (4, 4), (4, 4)))[:, None]          # (N, 1, 28, 28)
    y = digits.target.astype(np.int64)
    return split_and_standardise(x, y, test_size, seed)


def split_and_standardise(x: np.ndarray, y: np.ndarray, test_size: float, seed: int) -> tuple:
    """A stratified split of images ``x`` (ink in [0, 1]) and labels ``y``, standardised with the mean and
    standard deviation of the training pixels (as is done for MNIST). Read-only arrays, for caching:
    ``(x_train, y_train, x_test, y_test)``, images float32."""
    from sklearn.model_selection import train_test_split

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
    return tuple(out)


def load_digits28(test_size: float = 0.2, seed: int = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    return tuple(a.copy() for a in _digits28(float(test_size), int(seed)))


def load_digit18() -> np.ndarray:
    """The 18x18 grey-scale handwritten digit of the study notes, uint8 (0 black .. 255 white).

    Read from ``digit18.csv`` (one image row per line), shipped with the package.
    """
    text = read_bytes("digit18.csv").decode("ascii")
    return np.loadtxt(text.splitlines(), delimiter=",", dtype=np.uint8)


def sample_digit(index: int = 0, canvas: int = 16) -> np.ndarray:
    """Digit ``index`` of scikit-learn's ``load_digits`` (8x8, values 0..16) scaled to [0, 1] and placed in
    the middle of a ``canvas x canvas`` black image (so it can be shifted without leaving the frame).

    Returns float64 ``(canvas, canvas)``.
    """
    from sklearn.datasets import load_digits

    if canvas < 8:
        raise ValueError(f"canvas must be at least 8, got {canvas}")
    digit = load_digits().images[int(index)] / 16.0
    out = np.zeros((canvas, canvas))
    top = (canvas - 8) // 2
    out[top: top + 8, top: top + 8] = digit
    return out


def shift_digits(images: np.ndarray, max_shift: int, seed: int = 0) -> np.ndarray:
    """Each image of a batch moved by its own random whole-pixel shift, with zeros moving in.

    ``images`` is ``(N, C, H, W)``; image ``i`` is moved ``dy_i`` rows down and ``dx_i`` columns right,
    with ``dy_i, dx_i`` drawn uniformly from ``-max_shift .. max_shift`` by
    ``np.random.default_rng(seed)``; what leaves the frame is lost and the cells it uncovers are filled
    with the image's background, taken as its smallest value (0 for raw digits, the standardised
    background otherwise). Nothing wraps around. Returns a new array of the same shape and dtype.
    """
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"images must be 4-D (N, C, H, W), got shape {x.shape}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be an int >= 0, got {max_shift!r}")
    n, _, h, w = x.shape
    if max_shift >= min(h, w):
        raise ValueError(f"max_shift must be smaller than the image ({h}x{w}), got {max_shift}")
    shifts = np.random.default_rng(seed).integers(-max_shift, max_shift + 1, size=(n, 2))
    out = np.empty_like(x)
    for i, (dy, dx) in enumerate(shifts):
        out[i] = x[i].min()
        rows, cols = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
        src_rows, src_cols = slice(max(-dy, 0), h + min(-dy, 0)), slice(max(-dx, 0), w + min(-dx, 0))
        out[i, :, rows, cols] = x[i, :, src_rows, src_cols]
    return out
