"""Vectorised 3-D convolution (forward and backward): the windows of a volume as columns + one matrix
product per group, the 2-D fast path with one more axis.

Notation (NCDHW): input ``X`` (N, C, D, H, W), weight ``W`` (C_out, C/groups, k_d, k_h, k_w), bias ``b``,
per-axis stride ``s``, zero padding ``p``, dilation ``d``; with multi-indices ``i = (i_1, i_2, i_3)``
(output position) and ``u = (u_1, u_2, u_3)`` (kernel tap)

    Y[n, o, i] = b[o] + sum_{c, u} X_pad[n, c, i s + u d] W[o, c, u]

(``c`` over the input channels of ``o``'s group; ``i s + u d`` per axis), the formula of ``conv1d`` and
``conv2d`` with three indices instead of one or two. ``D_out = floor((D + 2p - d(k - 1) - 1) / s) + 1`` per
axis.

* forward: ``cols[n, (c, u), i] = X_pad[n, c, i s + u d]`` (:func:`cnnbook.windows.sliding_windows_nd`),
  then ``Y_g = W_g (C_out/g, C_g k_d k_h k_w) @ cols_g``;
* ``grad_weight``: ``dW_g = sum_n G_g[n] @ cols_g[n]^T``;
* ``grad_input``: the columns' gradient ``W_g^T @ G_g`` added back to the cells they were read from (col2im
  in 3-D: one strided addition per kernel tap), then the padding cropped;
* ``grad_bias``: ``G`` summed over the batch and the positions.
"""
from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import Conv3dArgs, IntOrTuple, Padding, conv3d_args
from ..windows import sliding_windows_nd

__all__ = ["conv3d", "conv3d_backward"]


def _padded(a: Conv3dArgs) -> np.ndarray:
    x = a.input
    return np.pad(x, ((0, 0), (0, 0), *a.padding)) if any(q for pair in a.padding for q in pair) else x


def _columns(xp: np.ndarray, a: Conv3dArgs, group: int) -> np.ndarray:
    """``cols[n, (c, u_1, u_2, u_3), (i_1, i_2, i_3)]`` of group ``group``: (N, C_g k_d k_h k_w, P)."""
    cg = a.weight.shape[1]
    view = sliding_windows_nd(xp[:, group * cg:(group + 1) * cg], a.weight.shape[2:], a.stride, a.dilation,
                              a.out_size)
    return view.reshape(xp.shape[0], cg * int(np.prod(a.weight.shape[2:])), int(np.prod(a.out_size)))


def _groups(a: Conv3dArgs):
    """``(g, output channels of g, weight of g as a (C_out/g, C_g k_d k_h k_w) matrix)`` for each group."""
    og = a.out_channels // a.groups
    for g in range(a.groups):
        wg = a.weight[g * og:(g + 1) * og]
        yield g, slice(g * og, (g + 1) * og), wg.reshape(og, -1)


def conv3d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1) -> np.ndarray:
    """3-D cross-correlation layer, as ``torch.nn.functional.conv3d``.

    ``Y[n, o, i, j, l] = b[o] + sum_{c, u, v, w} X[n, c, i s_d + u d_d - p_d, j s_h + v d_h - p_h,
    l s_w + w d_w - p_w] W[o, c, u, v, w]``.

    Parameters
    ----------
    input : array (N, C, D, H, W) or (C, D, H, W)
    weight : array (C_out, C / groups, k_d, k_h, k_w)
    bias : array (C_out,), optional
    stride, dilation : int or triple, >= 1
    padding : int, triple, 'valid' or 'same' ('same' only with stride 1; the odd cell after, as torch)
    groups : int dividing C and C_out

    Returns
    -------
    array (N, C_out, D_out, H_out, W_out) (or without N for an unbatched input).
    """
    a = conv3d_args(input, weight, bias, stride, padding, dilation, groups)
    xp = _padded(a)
    n = xp.shape[0]
    y = np.empty((n, a.out_channels, int(np.prod(a.out_size))), a.dtype)
    for g, channels, wm in _groups(a):
        y[:, channels] = wm @ _columns(xp, a, g)
    y = y.reshape(n, a.out_channels, *a.out_size)
    if a.bias is not None:
        y += a.bias[:, None, None, None]
    return a.finish(y)


def _add_columns(grad_padded: np.ndarray, dcols: np.ndarray, a: Conv3dArgs, channels: slice) -> None:
    """col2im in 3-D: add ``dcols`` (N, C_g, k_d, k_h, k_w, D_out, H_out, W_out) to the cells each column
    entry was read from, one strided slice per kernel tap."""
    for taps in itertools.product(*(range(k) for k in a.weight.shape[2:])):
        where = tuple(slice(u * d, u * d + s * (o - 1) + 1, s)
                      for u, d, s, o in zip(taps, a.dilation, a.stride, a.out_size))
        grad_padded[(slice(None), channels, *where)] += dcols[(slice(None), slice(None), *taps)]


def conv3d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1,
                    groups: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv3d` with respect to input, weight and bias.

    With ``G = dL/dY`` (N, C_out, D_out, H_out, W_out) and multi-indices as in the module notes:

    * ``dX[n, c, i s + u d - p] += sum_o G[n, o, i] W[o, c, u]`` (every window sends its gradient back
      to the cells it read; cells no window reached get zero);
    * ``dW[o, c, u] = sum_{n, i} G[n, o, i] X_pad[n, c, i s + u d]``;
    * ``db[o] = sum_{n, i} G[n, o, i]``.

    Returns
    -------
    (grad_input, grad_weight, grad_bias) with the shapes of input, weight and (C_out,).
    """
    a = conv3d_args(input, weight, None, stride, padding, dilation, groups, grad_output=grad_output)
    xp = _padded(a)
    n, cg, kernel = xp.shape[0], a.weight.shape[1], a.weight.shape[2:]
    g_out = a.grad_output.reshape(n, a.out_channels, -1)                  # (N, C_out, P)
    grad_padded = np.zeros(xp.shape, a.dtype)
    grad_weight = np.empty(a.weight.shape, a.dtype)
    for g, channels, wm in _groups(a):
        cols, gg = _columns(xp, a, g), g_out[:, channels]                 # (N, C_g K, P), (N, og, P)
        grad_weight[channels] = np.tensordot(gg, cols, axes=([0, 2], [0, 2])).reshape(-1, cg, *kernel)
        dcols = (wm.T @ gg).reshape(n, cg, *kernel, *a.out_size)
        _add_columns(grad_padded, dcols, a, slice(g * cg, (g + 1) * cg))
    inside = tuple(slice(before, before + size) for (before, _), size in zip(a.padding, a.input.shape[2:]))
    grad_input = np.ascontiguousarray(grad_padded[(slice(None), slice(None), *inside)])
    grad_bias = a.grad_output.sum(axis=(0, 2, 3, 4))
    return a.finish(grad_input), grad_weight, grad_bias
