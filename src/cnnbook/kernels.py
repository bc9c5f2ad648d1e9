"""The nine classic 3x3 image kernels of the book, as float64 arrays.

Each kernel ``K`` is used as a cross-correlation (what ``conv2d`` and ``cv2.filter2D`` compute):
``Y[i, j] = sum_{u, v} X[i + u, j + v] K[u, v]``, so a 3x3 kernel on an ``H x W`` image gives an
``(H - 2) x (W - 2)`` output without padding and an ``H x W`` output with padding 1.

``KERNELS`` maps a name to its kernel (a fresh copy via :func:`get_kernel`):

identity
    1 at the centre, 0 elsewhere: the output equals the input.
blur
    The 3x3 mean: every entry 1/9 (the source notes round it to 0.11), so a constant region is unchanged
    and each pixel becomes the average of its neighbourhood.
sharpen
    ``5`` at the centre, ``-1`` at the four direct neighbours: a pixel brighter than its neighbours becomes
    brighter still (the entries sum to 1, so flat regions are unchanged).
vertical edge
    ``[-1, 2, -1]`` across the middle row: a horizontal second difference, large where brightness changes
    along a row, i.e. on vertical lines; zero on flat regions.
horizontal edge
    ``[-1, 2, -1]`` down the middle column: the vertical second difference, large on horizontal lines.
sobel x
    ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]``: brightness difference right minus left, smoothed over three
    rows; responds to vertical edges, positive where the image gets brighter to the right.
sobel y
    The transpose of Sobel x: bottom minus top; responds to horizontal edges.
surround
    ``1`` at the eight neighbours and ``-9`` at the centre: the neighbourhood sum minus nine times the
    centre (entries sum to -1), which outlines regions and flattens their interior to ``-value``.
emboss
    ``2`` top-left, ``-1`` at the centre and bottom-right: a diagonal difference (entries sum to 0)
    that makes the picture look like a relief lit from the top left.

:func:`gaussian_kernel` gives the sampled Gaussian filter of any length, 1-D (its outer product with
itself is the 2-D Gaussian blur).
"""
from __future__ import annotations

import numpy as np

__all__ = ["KERNELS", "KERNEL_NAMES", "get_kernel", "gaussian_kernel"]


def _kernel3x3(rows) -> np.ndarray:
    """A 3x3 kernel from nested lists, as float64."""
    return np.array(rows, dtype=np.float64)


#: name -> 3x3 float64 kernel (do not modify in place; :func:`get_kernel` returns a copy).
KERNELS: dict[str, np.ndarray] = {
    "identity": _kernel3x3([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "blur": _kernel3x3(np.full((3, 3), 1.0 / 9.0)),
    "sharpen": _kernel3x3([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "vertical edge": _kernel3x3([[0, 0, 0], [-1, 2, -1], [0, 0, 0]]),
    "horizontal edge": _kernel3x3([[0, -1, 0], [0, 2, 0], [0, -1, 0]]),
    "sobel x": _kernel3x3([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel y": _kernel3x3([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "surround": _kernel3x3([[1, 1, 1], [1, -9, 1], [1, 1, 1]]),
    "emboss": _kernel3x3([[2, 0, 0], [0, -1, 0], [0, 0, -1]]),
}

#: The kernel names in the book's order.
KERNEL_NAMES: list[str] = list(KERNELS)


def get_kernel(name: str) -> np.ndarray:
    """A writable float64 copy of the classic 3x3 kernel called ``name`` (see the module docstring).

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`KERNEL_NAMES`.
    """
    if name not in KERNELS:
        raise ValueError(f"kernel name must be one of {KERNEL_NAMES}, got {name!r}")
    return KERNELS[name].copy()


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """The 1-D Gaussian filter of ``size`` taps: ``w[u] = exp(-(u - c)^2 / (2 sigma^2)) / Z``.

    ``c = (size - 1) / 2`` is the centre tap and ``Z`` makes the taps sum to 1, so a constant signal is
    unchanged. The 2-D Gaussian kernel is ``np.outer(w, w)``.

    Raises
    ------
    ValueError
        If ``size`` is not a positive integer or ``sigma`` is not a positive number.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)) or not sigma > 0:
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    u = np.arange(size, dtype=np.float64) - (size - 1) / 2
    w = np.exp(-u ** 2 / (2.0 * float(sigma) ** 2))
    return w / w.sum()
