"""``unfold`` and ``fold``, as ``torch.nn.functional``: the sliding windows of an image batch as columns,
and columns summed back into an image.

Notation: input ``X`` (N, C, H, W), a ``k_h x k_w`` window with stride ``s``, zero padding ``p`` and
dilation ``d``, ``L = H_out W_out`` window positions (:func:`cnnbook.shapes.conv_output_size`):

    unfold(X)[n, c k_h k_w + u k_w + v, i W_out + j] = X_pad[n, c, i s_h + u d_h, j s_w + v d_w]

``fold`` is its adjoint: every column entry is *added* to the image cell it was read from (overlapping
windows sum, entries on the padding are dropped). So ``fold(unfold(X))`` is ``X`` times the number of
windows covering each cell, not ``X``, and each is the other's backward pass:

* ``unfold_backward(G, X, ...) = fold(G, (H, W), ...)``;
* ``fold_backward(G, cols, output_size, ...) = unfold(G, ...)``.

They are the teaching primitives :func:`cnnbook.im2col` and :func:`cnnbook.col2im` (the same column
layout) with torch's argument names and order, its checks, and unbatched inputs.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import FoldArgs, IntOrTuple, fold_args, unfold_array_args
from ..primitives import col2im, im2col

__all__ = ["unfold", "fold", "unfold_backward", "fold_backward"]


def _columns(a: FoldArgs, images: np.ndarray) -> np.ndarray:
    w = a.window
    cols = im2col(images, w.kernel_size, stride=w.stride, padding=w.padding, dilation=w.dilation)
    return np.ascontiguousarray(cols)


def _image(a: FoldArgs, cols: np.ndarray) -> np.ndarray:
    w = a.window
    x = col2im(cols, a.image_shape, w.kernel_size, stride=w.stride, padding=w.padding, dilation=w.dilation)
    return np.ascontiguousarray(x)


def unfold(input: ArrayLike, kernel_size: IntOrTuple, dilation: IntOrTuple = 1, padding: IntOrTuple = 0,
           stride: IntOrTuple = 1) -> np.ndarray:
    """The sliding windows of ``input`` as columns, as ``torch.nn.functional.unfold`` (im2col).

    ``cols[n, c k_h k_w + u k_w + v, i W_out + j] = X_pad[n, c, i s_h + u d_h, j s_w + v d_w]``.

    Parameters
    ----------
    input : array (N, C, H, W) or (C, H, W)
    kernel_size, dilation, stride : int or pair, >= 1
    padding : int or pair, >= 0 (the same on both sides of an axis)

    Returns
    -------
    array (N, C k_h k_w, L) (or (C k_h k_w, L) for an unbatched input), ``L = H_out W_out`` with
    ``H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1``.
    """
    a = unfold_array_args(input, kernel_size, dilation, padding, stride)
    return a.finish(_columns(a, a.input))


def fold(input: ArrayLike, output_size: IntOrTuple, kernel_size: IntOrTuple, dilation: IntOrTuple = 1,
         padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> np.ndarray:
    """Columns summed back into an image, as ``torch.nn.functional.fold`` (col2im, the adjoint of unfold).

    ``Y[n, c, i s_h + u d_h - p_h, j s_w + v d_w - p_w] += cols[n, c k_h k_w + u k_w + v, i W_out + j]``.

    Parameters
    ----------
    input : array (N, C k_h k_w, L) or (C k_h k_w, L)
    output_size : int or pair (H, W); ``L`` must be the number of window positions on it

    Returns
    -------
    array (N, C, H, W) (or (C, H, W) for unbatched columns).
    """
    a = fold_args(input, output_size, kernel_size, dilation, padding, stride)
    return a.finish(_image(a, a.input))


def unfold_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple, dilation: IntOrTuple = 1,
                    padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> np.ndarray:
    """Gradient of :func:`unfold` with respect to its input: ``fold(G, (H, W), ...)``.

    Each cell receives the sum of the gradient entries of every column entry that copied it.
    ``grad_output`` has the shape of ``unfold(input, ...)``; the result has the shape of ``input``.
    """
    a = unfold_array_args(input, kernel_size, dilation, padding, stride, grad_output=grad_output)
    return a.finish(_image(a, a.grad_output))


def fold_backward(grad_output: ArrayLike, input: ArrayLike, output_size: IntOrTuple, kernel_size: IntOrTuple,
                  dilation: IntOrTuple = 1, padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> np.ndarray:
    """Gradient of :func:`fold` with respect to its input columns: ``unfold(G, ...)``.

    ``grad_output`` has the shape of ``fold(input, output_size, ...)``; the result has the shape of ``input``.
    """
    a = fold_args(input, output_size, kernel_size, dilation, padding, stride, grad_output=grad_output)
    return a.finish(_columns(a, a.grad_output))
