"""Unshared (locally connected) and tiled convolution as loops over every term of the sum (the loop
versions of :mod:`cnnbook.functional.unshared`; the same arguments, checked by the same record).

Output ``Y[n, o, i, j]`` sums ``X[n, c, i s + u d - p, j s + v d - p] W[o, i mod t_h, j mod t_w, c, u, v]``
over ``c, u, v`` (terms on the zero padding are skipped) and adds ``b[o, i mod t_h, j mod t_w]``.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import IntOrTuple, Padding, UnsharedArgs, unshared_args

__all__ = ["conv2d_unshared", "conv2d_unshared_backward", "conv2d_tiled", "conv2d_tiled_backward"]


def _terms(a: UnsharedArgs) -> Iterator[tuple]:
    """``(n, o, i, j, weight index, c, row, col)`` of every term ``W[weight index] X[n, c, row, col]`` of
    ``Y[n, o, i, j]``."""
    n_batch, channels, height, width = a.input.shape
    (kh, kw), (th, tw) = a.kernel_size, a.tiles
    (sh, sw), (dh, dw), (top, _, left, _) = a.stride, a.dilation, a.padding
    for n in range(n_batch):
        for o in range(a.out_channels):
            for i in range(a.out_size[0]):
                for j in range(a.out_size[1]):
                    for c in range(channels):
                        for u in range(kh):
                            for v in range(kw):
                                row, col = i * sh + u * dh - top, j * sw + v * dw - left
                                if 0 <= row < height and 0 <= col < width:
                                    yield n, o, i, j, (o, i % th, j % tw, c, u, v), c, row, col


def _forward(a: UnsharedArgs) -> np.ndarray:
    x, w, (th, tw) = a.input, a.weight, a.tiles
    y = np.zeros((x.shape[0], a.out_channels, *a.out_size), a.dtype)
    for n, o, i, j, tap, c, row, col in _terms(a):
        y[n, o, i, j] += x[n, c, row, col] * w[tap]
    if a.bias is not None:
        for n, o, i, j in np.ndindex(*y.shape):
            y[n, o, i, j] += a.bias[o, i % th, j % tw]
    return a.finish(y)


def _backward(a: UnsharedArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, w, g, (th, tw) = a.input, a.weight, a.grad_output, a.tiles
    grad_input = np.zeros(x.shape, a.dtype)
    grad_weight = np.zeros(w.shape, a.dtype)
    for n, o, i, j, tap, c, row, col in _terms(a):
        grad_input[n, c, row, col] += g[n, o, i, j] * w[tap]
        grad_weight[tap] += g[n, o, i, j] * x[n, c, row, col]
    grad_bias = np.zeros((a.out_channels, th, tw), a.dtype)
    for n, o, i, j in np.ndindex(*g.shape):
        grad_bias[o, i % th, j % tw] += g[n, o, i, j]
    return a.finish(grad_input), grad_weight, grad_bias


def conv2d_unshared(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.conv2d_unshared` (one kernel per output position)."""
    return _forward(unshared_args(input, weight, bias, stride, padding, dilation))


def conv2d_unshared_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                             padding: Padding = 0,
                             dilation: IntOrTuple = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of :func:`cnnbook.functional.conv2d_unshared_backward`: each output gradient sends
    ``G * W`` back to the cells its window read and ``G * X`` to its own kernel."""
    return _backward(unshared_args(input, weight, None, stride, padding, dilation, grad_output=grad_output))


def conv2d_tiled(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                 padding: Padding = 0, dilation: IntOrTuple = 1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.conv2d_tiled` (kernel ``(i mod t_h, j mod t_w)`` at ``(i, j)``)."""
    return _forward(unshared_args(input, weight, bias, stride, padding, dilation, tiled=True))


def conv2d_tiled_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                          padding: Padding = 0,
                          dilation: IntOrTuple = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of :func:`cnnbook.functional.conv2d_tiled_backward`: a kernel used at several positions
    collects the gradient of each."""
    return _backward(unshared_args(input, weight, None, stride, padding, dilation, tiled=True,
                                   grad_output=grad_output))
