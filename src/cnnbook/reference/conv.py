"""Convolutions as explicit loops that follow the formulas index by index (for reading, not speed).

The loop versions of :mod:`cnnbook.functional.conv`. Arguments are checked by the same
:func:`cnnbook.arguments.conv_args` / :func:`~cnnbook.arguments.conv_transpose_args` (so both accept
exactly the same inputs, and 1-D problems arrive as 2-D ones of height 1); the arithmetic below is
independent of the fast path. All four loops (convolution and transposed
convolution, forward and backward) run over the same terms, ``_taps``.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import ConvArgs, IntOrTuple, Padding, conv_args, conv_transpose_args

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "conv1d_backward", "conv2d_backward",
           "conv_transpose2d_backward"]


def _taps(a: ConvArgs) -> Iterator[tuple[int, ...]]:
    """Every kernel tap of every window, in loop order: ``(n, p, i, j, q, q', u, v, row, col)``.

    ``W[p, q, u, v]`` is the tap, ``(i, j)`` the window position and ``(row, col) = (i s + u d - p_top,
    j s + v d - p_left)`` the cell it meets, kept only inside that array (outside is zero padding, or
    cropped); ``q'`` is the channel of group member ``q`` there.

    * Convolution: ``p`` is the output channel ``o``, ``(i, j)`` runs over the output, ``q`` over the
      input channels of ``o``'s group: the term ``W[o, q, u, v] X[n, q', row, col]`` of ``Y[n, o, i, j]``.
    * Transposed convolution: the same terms with input and output swapped: ``p`` is the input channel
      ``c``, ``(i, j)`` runs over the input, ``q`` over the output channels of ``c``'s group, and
      ``X[n, c, i, j] W[c, q, u, v]`` is added to ``Y[n, q', row, col]`` (the scatter reads the
      convolution's gather backwards).
    """
    positions, cells = (a.input.shape[2:], a.out_size) if a.transposed else (a.out_size, a.input.shape[2:])
    (height, width), (rows, cols) = positions, cells
    n_batch = a.input.shape[0]
    channels, per_group, kh, kw = a.weight.shape
    (sh, sw), (dh, dw), (top, _, left, _) = a.stride, a.dilation, a.padding
    for n in range(n_batch):
        for p in range(channels):
            group = p // (channels // a.groups)
            for i in range(height):
                for j in range(width):
                    for q in range(per_group):
                        channel = group * per_group + q          # the channel on the other side
                        for u in range(kh):
                            for v in range(kw):
                                row = i * sh + u * dh - top
                                col = j * sw + v * dw - left
                                if 0 <= row < rows and 0 <= col < cols:
                                    yield n, p, i, j, q, channel, u, v, row, col


def _bias_grad(a: ConvArgs) -> np.ndarray:
    """``db[o] = sum_{n, i, j} G[n, o, i, j]``."""
    g = a.grad_output
    grad_bias = np.zeros(a.out_channels, a.dtype)
    for n in range(g.shape[0]):
        for o in range(a.out_channels):
            for i in range(a.out_size[0]):
                for j in range(a.out_size[1]):
                    grad_bias[o] += g[n, o, i, j]
    return grad_bias


def _loop_conv2d(a: ConvArgs) -> np.ndarray:
    """``Y[n, o, i, j] = b[o] + sum_c sum_u sum_v X[n, c, i s + u d - p, j s + v d - p] W[o, c, u, v]``."""
    x, w = a.input, a.weight
    y = np.zeros((x.shape[0], a.out_channels, *a.out_size), a.dtype)
    for n, o, i, j, c, channel, u, v, row, col in _taps(a):
        y[n, o, i, j] += x[n, channel, row, col] * w[o, c, u, v]
    if a.bias is not None:
        y += a.bias[:, None, None]
    return y


def conv2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.conv2d` (same arguments, same result)."""
    a = conv_args(2, input, weight, bias, stride, padding, dilation, groups)
    return a.finish(_loop_conv2d(a))


def conv1d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.conv1d`:
    ``Y[n, o, i] = b[o] + sum_c sum_u X[n, c, i s + u d - p] W[o, c, u]``."""
    a = conv_args(1, input, weight, bias, stride, padding, dilation, groups)
    x, w = a.input[:, :, 0, :], a.weight[:, :, 0, :]
    s, d, p = a.stride[1], a.dilation[1], a.padding[2]
    n_batch, _, length = x.shape
    c_out, c_per_group, k = w.shape
    o_per_group = c_out // a.groups
    out_length = a.out_size[1]
    y = np.zeros((n_batch, c_out, out_length), a.dtype)
    for n in range(n_batch):
        for o in range(c_out):
            group = o // o_per_group
            for i in range(out_length):
                total = 0.0 if a.bias is None else a.bias[o]
                for c in range(c_per_group):
                    for u in range(k):
                        t = i * s + u * d - p
                        if 0 <= t < length:
                            total += x[n, group * c_per_group + c, t] * w[o, c, u]
                y[n, o, i] = total
    return y[0] if a.unbatched else y


def conv_transpose2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                     groups: int = 1, dilation: IntOrTuple = 1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.conv_transpose2d`, as a scatter: every input pixel
    adds ``X[n, c, i, j] * W[c, o, u, v]`` to ``Y[n, o, i s + u d - p, j s + v d - p]``."""
    a = conv_transpose_args(input, weight, bias, stride, padding, output_padding, groups, dilation)
    x, w = a.input, a.weight
    # the same loop as _loop_conv2d's on purpose, with the roles of input and output swapped
    y = np.zeros((x.shape[0], a.out_channels, *a.out_size), a.dtype)
    for n, c, i, j, o, out_channel, u, v, row, col in _taps(a):
        y[n, out_channel, row, col] += x[n, c, i, j] * w[c, o, u, v]
    if a.bias is not None:
        y += a.bias[:, None, None]
    return a.finish(y)


def _conv_backward(a: ConvArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loops of :func:`conv2d_backward` (a 1-D convolution is a 2-D one of height 1)."""
    x, w, g = a.input, a.weight, a.grad_output
    grad_input = np.zeros(x.shape, a.dtype)
    grad_weight = np.zeros(w.shape, a.dtype)
    for n, o, i, j, c, channel, u, v, row, col in _taps(a):
        grad_input[n, channel, row, col] += g[n, o, i, j] * w[o, c, u, v]
        grad_weight[o, c, u, v] += g[n, o, i, j] * x[n, channel, row, col]
    return a.finish(grad_input), a.finish_weight(grad_weight), _bias_grad(a)


def conv2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1,
                    groups: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of :func:`cnnbook.functional.conv2d_backward`.

    Every output-gradient entry ``G[n, o, i, j]`` was produced by the window it saw, so it sends
    ``G * W[o, c, u, v]`` back to ``dX[n, c, i s + u d - p, j s + v d - p]`` and
    ``G * X[n, c, i s + u d - p, j s + v d - p]`` to ``dW[o, c, u, v]``; ``db[o]`` sums ``G[n, o, :, :]``.
    """
    return _conv_backward(conv_args(2, input, weight, None, stride, padding, dilation, groups,
                                    grad_output=grad_output))


def conv1d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1,
                    groups: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of :func:`cnnbook.functional.conv1d_backward`: as :func:`conv2d_backward` with
    height 1 (``G[n, o, i]`` sends ``G * W[o, c, u]`` to ``dX[n, c, i s + u d - p]``)."""
    return _conv_backward(conv_args(1, input, weight, None, stride, padding, dilation, groups,
                                    grad_output=grad_output))


def conv_transpose2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                              stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                              groups: int = 1, dilation: IntOrTuple = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of :func:`cnnbook.functional.conv_transpose2d_backward`.

    The forward scatter added ``X[n, c, i, j] * W[c, o, u, v]`` to ``Y[n, o', i s + u d - p, j s + v d - p]``
    (``o'`` the output channel of group member ``o``), so with ``G`` that entry of ``dL/dY``:
    ``dX[n, c, i, j] += G * W[c, o, u, v]``, ``dW[c, o, u, v] += G * X[n, c, i, j]``, ``db[o']`` sums ``G``.
    """
    a = conv_transpose_args(input, weight, None, stride, padding, output_padding, groups, dilation,
                            grad_output=grad_output)
    x, w, g = a.input, a.weight, a.grad_output
    grad_input = np.zeros(x.shape, a.dtype)
    grad_weight = np.zeros(w.shape, a.dtype)
    for n, c, i, j, o, out_channel, u, v, row, col in _taps(a):
        grad = g[n, out_channel, row, col]
        grad_input[n, c, i, j] += grad * w[c, o, u, v]
        grad_weight[c, o, u, v] += grad * x[n, c, i, j]
    return a.finish(grad_input), grad_weight, _bias_grad(a)
