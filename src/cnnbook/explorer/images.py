"""The reader's own image in an explorer: decoding, checking and fitting it, with messages for the reader.

An explorer that can work on the reader's image declares an :class:`OwnImage` (``Explorer(...,
own_image=OwnImage(...))``): the largest size it works at, the smallest it accepts, and the function
that hands it the image (``None``: back to the book's image). The live face then shows an upload
control (:class:`cnnbook.explorer.live.LiveExplorer`); on the website, ``browser`` (JSON) tells
``explorer.js`` how to recompute the view in the page (the kernel gallery: the nine 3×3 kernels).

:func:`read_image_bytes` decodes a file with OpenCV, makes it grey with
:data:`cnnbook.data.GREY_WEIGHTS` (``0.299 R + 0.587 G + 0.114 B`` of values scaled to [0, 1], the
formula ``explorer.js`` uses too), and scales it down (area averaging) when it is larger than the
explorer's size. Every problem is an :class:`ImageError` whose message speaks to the reader.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["ImageError", "OwnImage", "grey_from_bytes", "read_image_bytes"]


class ImageError(ValueError):
    """A file the explorer cannot use; the message says why, for the reader."""


@dataclass
class OwnImage:
    """The explorer takes the reader's image: at most ``max_shape`` ``(height, width)`` (larger images are
    scaled down), at least ``min_side`` pixels a side; ``use(image)`` hands it over (``None``: the book's
    image again). ``browser``: what the website's script needs to recompute the view (JSON)."""

    max_shape: tuple[int, int]
    min_side: int
    use: Callable[[np.ndarray | None], None]
    browser: dict[str, Any] | None = field(default=None)


def grey_from_bytes(data: bytes, name: str = "the file") -> np.ndarray:
    """Decode an image file's bytes with OpenCV and make it grey: float64 ``(H, W)`` in [0, 1].

    Raises :class:`ImageError` for an empty file or one OpenCV cannot decode.
    """
    import cv2

    from ..data import GREY_WEIGHTS

    raw = bytes(data)
    if not raw:
        raise ImageError(f"{name} is empty: choose an image file (PNG or JPEG, for example).")
    bgr = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageError(f"{name} is not an image OpenCV can read: choose a PNG or JPEG file.")
    rgb = bgr[..., ::-1].astype(np.float64) / 255.0
    return rgb @ GREY_WEIGHTS


def read_image_bytes(data: bytes, max_shape: tuple[int, int], min_side: int,
                     name: str = "the file") -> tuple[np.ndarray, str]:
    """The grey image of a file, fitted to an explorer, and a message for the reader.

    Larger than ``max_shape`` ``(height, width)``: scaled down (aspect kept, ``cv2.INTER_AREA``) to fit,
    and the message says so. Smaller than ``min_side`` on a side: :class:`ImageError`.
    """
    import cv2

    grey = grey_from_bytes(data, name)
    h, w = grey.shape
    if min(h, w) < min_side:
        raise ImageError(f"{name} is {w}×{h} pixels: this explorer needs at least {min_side}×{min_side} "
                         f"(its largest kernel).")
    mh, mw = max_shape
    if h <= mh and w <= mw:
        return grey, f"Showing your image ({w}×{h} pixels, in grey)."
    f = min(mh / h, mw / w)
    nh, nw = max(min_side, int(h * f)), max(min_side, int(w * f))
    small = cv2.resize(grey, (nw, nh), interpolation=cv2.INTER_AREA)
    return small, (f"Your image ({w}×{h} pixels) was scaled down to {nw}×{nh} to fit this explorer "
                   f"(at most {mw}×{mh}), and made grey.")
