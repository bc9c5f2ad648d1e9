"""Unshared (locally connected) and tiled convolution, vectorised (forward and backward).

A convolution uses one kernel at every output position. The *unshared* convolution (a locally connected
layer) keeps the local windows but gives every output position ``(i, j)`` its own kernel; the *tiled*
convolution sits in between, cycling ``t_h x t_w`` kernels over the positions:

    Y[n, o, i, j] = b[o, i', j'] + sum_{c, u, v} X_pad[n, c, i s_h + u d_h, j s_w + v d_w] W[o, i', j', c, u, v]

with ``(i', j') = (i mod t_h, j mod t_w)``. Weight ``(C_out, t_h, t_w, C_in, k_h, k_w)``, bias
``(C_out, t_h, t_w)``. Unshared: ``(t_h, t_w) = (H_out, W_out)``, so ``(i', j') = (i, j)``; tiled with
``t = 1``: the ordinary convolution (bias ``(C_out, 1, 1)``).

* forward: the windows as rows (:func:`cnnbook.im2col`'s entries), grouped by the kernel they meet: the
  windows of tile ``t`` (every position ``(i, j)`` with ``(i mod t_h, j mod t_w) = t``, of every example)
  form a matrix ``cols_t``, and ``Y_t = cols_t @ W_t``, all ``t_h t_w`` products in one batched ``matmul``;
* ``grad_weight``: ``dW_t = cols_t^T G_t`` (a kernel used at several positions collects the gradient of
  each in the product's sum);
* ``grad_input``: the windows' gradient ``G_t W_t^T`` summed back into the image (:func:`cnnbook.col2im`);
* ``grad_bias``: ``G_t`` summed over its rows.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import IntOrTuple, Padding, UnsharedArgs, unshared_args
from ..primitives import col2im, pad2d
from ..windows import sliding_windows

__all__ = ["conv2d_unshared", "conv2d_unshared_backward", "conv2d_tiled", "conv2d_tiled_backward"]


def _tile(a: UnsharedArgs, by_position: np.ndarray) -> np.ndarray:
    """(H_out, W_out, M, ...) -> (t_h t_w, B M, ...): the positions of each tile stacked, tile by tile.

    The output grid is padded with zeros to whole tiles (``B`` positions per tile); position ``(i, j)``
    goes to tile ``(i mod t_h, j mod t_w)``.
    """
    (th, tw), (ho, wo) = a.tiles, a.out_size
    bh, bw = -(-ho // th), -(-wo // tw)
    rest = by_position.shape[2:]
    if (bh * th, bw * tw) != (ho, wo):
        padded = np.zeros((bh * th, bw * tw, *rest), by_position.dtype)
        padded[:ho, :wo] = by_position
        by_position = padded
    blocks = by_position.reshape(bh, th, bw, tw, *rest)
    axes = (1, 3, 0, 2, *range(4, 4 + len(rest)))
    return np.ascontiguousarray(blocks.transpose(axes)).reshape(th * tw, bh * bw * rest[0], *rest[1:])


def _untile(a: UnsharedArgs, by_tile: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_tile`: (t_h t_w, B M, ...) -> (H_out, W_out, M, ...), padding dropped."""
    (th, tw), (ho, wo) = a.tiles, a.out_size
    bh, bw = -(-ho // th), -(-wo // tw)
    rest = by_tile.shape[2:]
    blocks = by_tile.reshape(th, tw, bh, bw, -1, *rest)
    axes = (2, 0, 3, 1, *range(4, 5 + len(rest)))
    return blocks.transpose(axes).reshape(bh * th, bw * tw, -1, *rest)[:ho, :wo]


def _columns(a: UnsharedArgs) -> np.ndarray:
    """The windows grouped by tile: (t_h t_w, B N, C_in k_h k_w), one matrix of windows per kernel."""
    xp = pad2d(a.input, a.padding) if any(a.padding) else a.input
    view = sliding_windows(xp, a.kernel_size, a.stride, a.dilation, a.out_size)   # (N, C, kh, kw, Ho, Wo)
    n, c = xp.shape[:2]
    return _tile(a, view.transpose(4, 5, 0, 1, 2, 3).reshape(*a.out_size, n, c * int(np.prod(a.kernel_size))))


def _weights(a: UnsharedArgs) -> np.ndarray:
    """The kernels as matrices: (t_h t_w, C_in k_h k_w, C_out)."""
    tiles = a.tiles[0] * a.tiles[1]
    return np.ascontiguousarray(a.weight.reshape(a.out_channels, tiles, -1).transpose(1, 2, 0))


def _forward(a: UnsharedArgs) -> np.ndarray:
    y = np.matmul(_columns(a), _weights(a))                                # (T, B N, C_out)
    if a.bias is not None:
        y += a.bias.reshape(a.out_channels, -1).T[:, None, :]
    y = _untile(a, y)                                                      # (H_out, W_out, N, C_out)
    return a.finish(np.ascontiguousarray(y.transpose(2, 3, 0, 1)))


def _backward(a: UnsharedArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, c_out = a.input.shape[0], a.out_channels
    g = _tile(a, a.grad_output.transpose(2, 3, 0, 1))                      # (T, B N, C_out)
    # a kernel used at several positions: the product sums their gradients
    grad_weight = np.matmul(_columns(a).transpose(0, 2, 1), g)             # (T, C_in k k, C_out)
    grad_weight = grad_weight.transpose(2, 0, 1).reshape(a.weight.shape)
    grad_bias = g.sum(axis=1).T.reshape(c_out, *a.tiles)
    dcols = _untile(a, np.matmul(g, _weights(a).transpose(0, 2, 1)))       # (H_out, W_out, N, C_in k k)
    dcols = np.ascontiguousarray(dcols.transpose(2, 3, 0, 1)).reshape(n, dcols.shape[-1], -1)
    grad_input = col2im(dcols, a.input.shape, a.kernel_size, stride=a.stride, padding=a.padding,
                        dilation=a.dilation)
    return a.finish(np.ascontiguousarray(grad_input)), grad_weight, grad_bias


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
