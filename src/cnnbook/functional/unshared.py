"""Unshared (locally connected) and tiled convolution, vectorised (forward and backward).

A convolution uses one kernel at every output position. The *unshared* convolution (a locally connected
layer) keeps the local windows but gives every output position ``(i, j)`` its own kernel; the *tiled*
convolution sits in between, cycling ``t_h x t_w`` kernels over the positions:

    Y[n, o, i, j] = b[o, i', j'] + sum_{c, u, v} X_pad[n, c, i s_h + u d_h, j s_w + v d_w] W[o, i', j', c, u, v]

with ``(i', j') = (i mod t_h, j mod t_w)``. Weight ``(C_out, t_h, t_w, C_in, k_h, k_w)``, bias
``(C_out, t_h, t_w)``. Unshared: ``(t_h, t_w) = (H_out, W_out)``, so ``(i', j') = (i, j)``; tiled with
``t = 1``: the ordinary convolution (bias ``(C_out, 1, 1)``).

* forward: the windows as columns (:func:`cnnbook.im2col`'s layout), then one small matrix product per
  output position, all of them in one batched ``matmul``: ``Y[:, :, p] = cols[:, :, p] @ W_p``;
* ``grad_weight``: per position ``dW_p = cols[:, :, p]^T G[:, :, p]``, then the positions of each tile
  summed (a kernel used at several positions collects the gradient of each);
* ``grad_input``: the columns' gradient ``G[:, :, p] W_p^T`` summed back into the image
  (:func:`cnnbook.col2im`);
* ``grad_bias``: ``G`` summed over the batch, and over the positions of each tile.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import IntOrTuple, Padding, UnsharedArgs, unshared_args
from ..primitives import col2im, pad2d
from ..windows import sliding_windows

__all__ = ["conv2d_unshared", "conv2d_unshared_backward", "conv2d_tiled", "conv2d_tiled_backward"]


def _per_position(a: UnsharedArgs, values: np.ndarray) -> np.ndarray:
    """(C_out, t_h, t_w, ...) -> (C_out, H_out, W_out, ...): the tile of every output position."""
    (th, tw), (ho, wo) = a.tiles, a.out_size
    if (th, tw) == (ho, wo):
        return values
    return values[:, np.arange(ho) % th][:, :, np.arange(wo) % tw]


def _per_tile(a: UnsharedArgs, values: np.ndarray) -> np.ndarray:
    """(C_out, H_out, W_out, ...) -> (C_out, t_h, t_w, ...): the sum over the positions of each tile."""
    (th, tw), (ho, wo) = a.tiles, a.out_size
    if (th, tw) == (ho, wo):
        return values
    rows, cols = -(-ho // th) * th, -(-wo // tw) * tw                     # padded to whole tiles
    full = np.zeros((values.shape[0], rows, cols, *values.shape[3:]), values.dtype)
    full[:, :ho, :wo] = values
    blocks = full.reshape(values.shape[0], rows // th, th, cols // tw, tw, *values.shape[3:])
    return blocks.sum(axis=(1, 3))


def _columns(a: UnsharedArgs) -> np.ndarray:
    """The windows by position: (P, N, C_in k_h k_w), ``P = H_out W_out``."""
    xp = pad2d(a.input, a.padding) if any(a.padding) else a.input
    view = sliding_windows(xp, a.kernel_size, a.stride, a.dilation, a.out_size)   # (N, C, kh, kw, Ho, Wo)
    n, c = xp.shape[:2]
    return view.reshape(n, c * int(np.prod(a.kernel_size)), -1).transpose(2, 0, 1)


def _weights(a: UnsharedArgs) -> np.ndarray:
    """The kernel of every position as a matrix: (P, C_in k_h k_w, C_out)."""
    w = _per_position(a, a.weight)
    return w.reshape(a.out_channels, int(np.prod(a.out_size)), -1).transpose(1, 2, 0)


def _forward(a: UnsharedArgs) -> np.ndarray:
    y = np.matmul(_columns(a), _weights(a))                                # (P, N, C_out)
    y = np.ascontiguousarray(y.transpose(1, 2, 0)).reshape(a.input.shape[0], a.out_channels, *a.out_size)
    if a.bias is not None:
        y += _per_position(a, a.bias)
    return a.finish(y)


def _backward(a: UnsharedArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, c_out = a.input.shape[0], a.out_channels
    g = a.grad_output.reshape(n, c_out, -1).transpose(2, 0, 1)             # (P, N, C_out)
    grad_w = np.matmul(_columns(a).transpose(0, 2, 1), g)                  # (P, C_in k k, C_out)
    grad_w = grad_w.transpose(2, 0, 1).reshape(c_out, *a.out_size, *a.weight.shape[3:])
    dcols = np.matmul(g, _weights(a).transpose(0, 2, 1))                   # (P, N, C_in k k)
    grad_input = col2im(np.ascontiguousarray(dcols.transpose(1, 2, 0)), a.input.shape, a.kernel_size,
                        stride=a.stride, padding=a.padding, dilation=a.dilation)
    grad_bias = _per_tile(a, a.grad_output.sum(axis=0))
    return a.finish(np.ascontiguousarray(grad_input)), _per_tile(a, grad_w), grad_bias


def conv2d_unshared(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1) -> np.ndarray:
    """Locally connected layer: a convolution whose kernel differs at every output position.

    ``Y[n, o, i, j] = b[o, i, j] + sum_{c, u, v} X[n, c, i s_h + u d_h - p_h, j s_w + v d_w - p_w] W[o, i, j, c, u, v]``.

    Parameters
    ----------
    input : array (N, C_in, H, W) or (C_in, H, W)
    weight : array (C_out, H_out, W_out, C_in, k_h, k_w)
        One kernel per output position: ``(H_out, W_out)`` must be the output size of a convolution with
        this kernel size, stride, padding and dilation.
    bias : array (C_out, H_out, W_out), optional
    stride, dilation : int or pair, >= 1
    padding : int, pair, 'valid' or 'same' (stride 1)

    Returns
    -------
    array (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) for an unbatched input).
    """
    return _forward(unshared_args(input, weight, bias, stride, padding, dilation))


def conv2d_unshared_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                             padding: Padding = 0,
                             dilation: IntOrTuple = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d_unshared`: ``(grad_input, grad_weight, grad_bias)``.

    With ``G = dL/dY``: ``dW[o, i, j, c, u, v] = sum_n G[n, o, i, j] X_pad[n, c, i s + u d, j s + v d]``,
    ``db[o, i, j] = sum_n G[n, o, i, j]``, and ``dX`` receives ``G[n, o, i, j] W[o, i, j, c, u, v]`` at
    every cell the window of ``(i, j)`` read. Shapes: those of input, weight and (C_out, H_out, W_out).
    """
    return _backward(unshared_args(input, weight, None, stride, padding, dilation, grad_output=grad_output))


def conv2d_tiled(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                 padding: Padding = 0, dilation: IntOrTuple = 1) -> np.ndarray:
    """Tiled convolution: ``t_h x t_w`` kernels cycled over the output positions.

    ``Y[n, o, i, j] = b[o, i', j'] + sum_{c, u, v} X[n, c, i s_h + u d_h - p_h, j s_w + v d_w - p_w]
    W[o, i', j', c, u, v]`` with ``i' = i mod t_h``, ``j' = j mod t_w``: neighbouring positions use
    different kernels, positions ``t`` apart the same one. ``t = 1`` is :func:`cnnbook.functional.conv2d`,
    ``t = (H_out, W_out)`` is :func:`conv2d_unshared`.

    Parameters
    ----------
    input : array (N, C_in, H, W) or (C_in, H, W)
    weight : array (C_out, t_h, t_w, C_in, k_h, k_w), ``1 <= t <= `` the output size on each axis
    bias : array (C_out, t_h, t_w), optional
    stride, dilation, padding : as :func:`conv2d_unshared`

    Returns
    -------
    array (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) for an unbatched input).
    """
    return _forward(unshared_args(input, weight, bias, stride, padding, dilation, tiled=True))


def conv2d_tiled_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                          padding: Padding = 0,
                          dilation: IntOrTuple = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d_tiled`: ``(grad_input, grad_weight, grad_bias)``.

    As :func:`conv2d_unshared_backward`, with the gradient of kernel ``(i', j')`` summed over every
    position ``(i, j)`` that uses it. Shapes: those of input, weight and (C_out, t_h, t_w).
    """
    return _backward(unshared_args(input, weight, None, stride, padding, dilation, tiled=True,
                                   grad_output=grad_output))
