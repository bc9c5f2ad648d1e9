"""``unfold`` and ``fold`` as loops over every window entry (the loop versions of
:mod:`cnnbook.functional.fold`; the same arguments, checked by the same records).

Every entry ``(n, c, u, v, i, j)`` of the columns reads (unfold) or adds to (fold) one cell of the padded
image, ``(i s_h + u d_h, j s_w + v d_w)``; cells in the padding are zeros (unfold) or dropped (fold).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import FoldArgs, IntOrTuple, fold_args, unfold_array_args

__all__ = ["unfold", "fold", "unfold_backward", "fold_backward"]


def _entries(a: FoldArgs) -> Iterator[tuple[int, int, int, int, int, int]]:
    """``(n, c, row of the columns, column of the columns, image row, image column)`` of every column
    entry that meets the image (not the padding)."""
    (kh, kw), (sh, sw), (top, _, left, _), (dh, dw) = (a.window.kernel_size, a.window.stride,
                                                         a.window.padding, a.window.dilation)
    (height, width), (ho, wo) = a.size, a.blocks
    for n in range(a.input.shape[0]):
        for c in range(a.channels):
            for u in range(kh):
                for v in range(kw):
                    for i in range(ho):
                        for j in range(wo):
                            row, col = i * sh + u * dh - top, j * sw + v * dw - left
                            if 0 <= row < height and 0 <= col < width:
                                yield n, c, (c * kh + u) * kw + v, i * wo + j, row, col


def _unfold(a: FoldArgs, images: np.ndarray) -> np.ndarray:
    cols = np.zeros(a.columns_shape, a.dtype)
    for n, c, r, l, row, col in _entries(a):
        cols[n, r, l] = images[n, c, row, col]
    return cols


def _fold(a: FoldArgs, cols: np.ndarray) -> np.ndarray:
    images = np.zeros(a.image_shape, a.dtype)
    for n, c, r, l, row, col in _entries(a):
        images[n, c, row, col] += cols[n, r, l]
    return images


def unfold(input: ArrayLike, kernel_size: IntOrTuple, dilation: IntOrTuple = 1, padding: IntOrTuple = 0,
           stride: IntOrTuple = 1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.unfold`: ``cols[n, (c, u, v), (i, j)] = X_pad[n, c, i s + u d, j s + v d]``."""
    a = unfold_array_args(input, kernel_size, dilation, padding, stride)
    return a.finish(_unfold(a, a.input))


def fold(input: ArrayLike, output_size: IntOrTuple, kernel_size: IntOrTuple, dilation: IntOrTuple = 1,
         padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.fold`: ``Y[n, c, i s + u d - p, j s + v d - p] += cols[n, (c, u, v), (i, j)]``."""
    a = fold_args(input, output_size, kernel_size, dilation, padding, stride)
    return a.finish(_fold(a, a.input))


def unfold_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple, dilation: IntOrTuple = 1,
                    padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.unfold_backward`: each column entry's gradient goes back
    to the cell it copied."""
    a = unfold_array_args(input, kernel_size, dilation, padding, stride, grad_output=grad_output)
    return a.finish(_fold(a, a.grad_output))


def fold_backward(grad_output: ArrayLike, input: ArrayLike, output_size: IntOrTuple, kernel_size: IntOrTuple,
                  dilation: IntOrTuple = 1, padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.fold_backward`: each column entry receives the gradient
    of the cell it was added to."""
    a = fold_args(input, output_size, kernel_size, dilation, padding, stride, grad_output=grad_output)
    return a.finish(_unfold(a, a.grad_output))
