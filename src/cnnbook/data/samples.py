"""Sample images and grids the chapters and explorers compute on. Nothing is downloaded: the photograph
of chapter 3 ships with the package, the others come with scikit-learn or are generated."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .resources import read_image

__all__ = ["GREY_WEIGHTS", "load_photo", "sample_photo", "small_grid"]

#: The weights of R, G and B in a grey level (ITU-R BT.601, as OpenCV's ``COLOR_RGB2GRAY``).
GREY_WEIGHTS = np.array([0.299, 0.587, 0.114])

_SAMPLE_PHOTOS = ("china.jpg", "flower.jpg")


def load_photo() -> np.ndarray:
    """The photograph of chapter 3: scikit-learn's ``china.jpg`` shrunk to 160x240 and stored as a JPEG.

    Returns uint8 ``(160, 240, 3)`` in OpenCV's **BGR** channel order, exactly as ``cv2.imread`` reads
    the file (:func:`cnnbook.data.resources.read_image`).
    """
    return read_image("photo_china.jpg")


@lru_cache(maxsize=8)
def _grey_photo(name: str, height: int, width: int) -> np.ndarray:
    import cv2
    from sklearn.datasets import load_sample_image

    grey = (load_sample_image(name).astype(np.float64) / 255.0) @ GREY_WEIGHTS
    h, w = grey.shape
    crop_h, crop_w = min(h, round(w * height / width)), min(w, round(h * width / height))
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    crop = grey[top:top + crop_h, left:left + crop_w]
    small = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)  # cv2 sizes are (w, h)
    small.setflags(write=False)  # the cache must never change
    return small


def sample_photo(name: str = "china.jpg", height: int = 64, width: int = 96) -> np.ndarray:
    """A grey version of scikit-learn's sample photograph ``name``, shrunk to ``(height, width)``.

    The RGB values are scaled to [0, 1] and weighted by :data:`GREY_WEIGHTS`
    (``0.299 R + 0.587 G + 0.114 B``); the central crop with the aspect ratio ``width / height`` is then
    shrunk with OpenCV's area averaging (``cv2.INTER_AREA``). Returns float64 ``(height, width)`` in
    [0, 1], a fresh copy on every call.
    """
    if name not in _SAMPLE_PHOTOS:
        raise ValueError(f"name must be one of {_SAMPLE_PHOTOS}, got {name!r}")
    if int(height) < 1 or int(width) < 1:
        raise ValueError(f"height and width must be at least 1, got {height} and {width}")
    return _grey_photo(name, int(height), int(width)).copy()


def small_grid(n: int = 7, seed: int = 0) -> np.ndarray:
    """A deterministic ``n x n`` float64 grid of small integers 0..9 (easy to add up by hand)."""
    return np.random.default_rng(seed).integers(0, 10, size=(n, n)).astype(np.float64)
