"""Convolutions as explicit loops that follow the formulas index by index (for reading, not speed).

Argument checking and normalisation are shared with the fast versions in :mod:`cnnbook.conv`, so both
accept exactly the same inputs; the arithmetic below is independent of them.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_float_array, common_dtype
from ..conv import _check_grad_output, _finish, _parse

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "conv2d_backward", "conv1d_backward",
           "conv_transpose2d_backward"]


def _loop_conv2d(x, w, b, stride, pad, dilation, groups, out_size, dtype):
    """``Y[n, o, i, j] = b[o] + sum_c sum_u sum_v X[n, c, i s + u d - p, j s + v d - p] W[o, c, u, v]``."""
    n_batch, _, h, width = x.shape
    c_out, c_per_group, kh, kw = w.shape
    (sh, sw), (dh, dw), (top, _, left, _) = stride, dilation, pad
    ho, wo = out_size
    o_per_group = c_out // groups
    y = np.zeros((n_batch, c_out, ho, wo), dtype)
    for n in range(n_batch):
        for o in range(c_out):
            group = o // o_per_group
            for i in range(ho):
                for j in range(wo):
                    total = 0.0 if b is None else b[o]
                    for c in range(c_per_group):
                        channel = group * c_per_group + c        # input channel seen by output o
                        for u in range(kh):
                            for v in range(kw):
                                row = i * sh + u * dh - top
                                col = j * sw + v * dw - left
                                if 0 <= row < h and 0 <= col < width:   # outside: zero padding
                                    total += x[n, channel, row, col] * w[o, c, u, v]
                    y[n, o, i, j] = total
    return y


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Loop version of :func:`cnnbook.functional.conv2d` (same arguments, same result)."""
    a = _parse(2, input, weight, bias, stride, padding, dilation, groups)
    dtype = common_dtype(a.x, a.w, a.bias)
    y = _loop_conv2d(a.x, a.w, a.bias, a.stride, a.pad, a.dilation, a.groups, a.out, dtype)
    return _finish(y, a)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Loop version of :func:`cnnbook.functional.conv1d`:
    ``Y[n, o, i] = b[o] + sum_c sum_u X[n, c, i s + u d - p] W[o, c, u]``."""
    a = _parse(1, input, weight, bias, stride, padding, dilation, groups)
    dtype = common_dtype(a.x, a.w, a.bias)
    x, w = a.x[:, :, 0, :], a.w[:, :, 0, :]
    s, d, p = a.stride[1], a.dilation[1], a.pad[2]
    n_batch, _, length = x.shape
    c_out, c_per_group, k = w.shape
    o_per_group = c_out // a.groups
    y = np.zeros((n_batch, c_out, a.out[1]), dtype)
    for n in range(n_batch):
        for o in range(c_out):
            group = o // o_per_group
            for i in range(a.out[1]):
                total = 0.0 if a.bias is None else a.bias[o]
                for c in range(c_per_group):
                    for u in range(k):
                        t = i * s + u * d - p
                        if 0 <= t < length:
                            total += x[n, group * c_per_group + c, t] * w[o, c, u]
                y[n, o, i] = total
    return y[0] if a.unbatched else y


def _transposed_taps(a):
    """Every term of a transposed convolution's scatter, in loop order: ``(n, c, i, j, o, o', u, v, row,
    col)`` with input pixel ``X[n, c, i, j]``, kernel tap ``W[c, o, u, v]`` (``o'`` the output channel of
    group member ``o``) and its target ``Y[n, o', row, col]``, ``row = i s + u d - p`` (likewise ``col``),
    for the targets that the padding does not crop away."""
    n_batch, c_in, h, width = a.x.shape
    _, o_per_group, kh, kw = a.w.shape
    (sh, sw), (dh, dw), (top, _, left, _) = a.stride, a.dilation, a.pad
    ho, wo = a.out
    c_per_group = c_in // a.groups
    for n in range(n_batch):
        for c in range(c_in):
            group = c // c_per_group
            for i in range(h):
                for j in range(width):
                    for o in range(o_per_group):
                        out_channel = group * o_per_group + o
                        for u in range(kh):
                            for v in range(kw):
                                row = i * sh + u * dh - top
                                col = j * sw + v * dw - left
                                if 0 <= row < ho and 0 <= col < wo:     # cropped by the padding
                                    yield n, c, i, j, o, out_channel, u, v, row, col


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Loop version of :func:`cnnbook.functional.conv_transpose2d`, as a scatter: every input pixel
    adds ``X[n, c, i, j] * W[c, o, u, v]`` to ``Y[n, o, i s + u d - p, j s + v d - p]``."""
    a = _parse(2, input, weight, bias, stride, padding, dilation, groups, True, output_padding)
    dtype = common_dtype(a.x, a.w, a.bias)
    x, w = a.x, a.w
    y = np.zeros((x.shape[0], a.c_out, *a.out), dtype)
    for n, c, i, j, o, out_channel, u, v, row, col in _transposed_taps(a):
        y[n, out_channel, row, col] += x[n, c, i, j] * w[c, o, u, v]
    if a.bias is not None:
        y += a.bias[:, None, None]
    return _finish(y, a)


def _conv_backward(nd, grad_output, input, weight, stride, padding, dilation, groups):
    """The loops of :func:`conv2d_backward` (a 1-D convolution is a 2-D one of height 1)."""
    a = _parse(nd, input, weight, None, stride, padding, dilation, groups)
    g0 = as_float_array(grad_output, "grad_output")
    dtype = common_dtype(a.x, a.w, g0)
    g = _check_grad_output(g0, a, dtype)
    x, w = a.x, a.w
    n_batch, _, h, width = x.shape
    c_out, c_per_group, kh, kw = w.shape
    (sh, sw), (dh, dw), (top, _, left, _) = a.stride, a.dilation, a.pad
    ho, wo = a.out
    o_per_group = c_out // a.groups
    grad_input = np.zeros(x.shape, dtype)
    grad_weight = np.zeros(w.shape, dtype)
    grad_bias = np.zeros(c_out, dtype)
    for n in range(n_batch):
        for o in range(c_out):
            group = o // o_per_group
            for i in range(ho):
                for j in range(wo):
                    grad = g[n, o, i, j]
                    grad_bias[o] += grad
                    for c in range(c_per_group):
                        channel = group * c_per_group + c
                        for u in range(kh):
                            for v in range(kw):
                                row = i * sh + u * dh - top
                                col = j * sw + v * dw - left
                                if 0 <= row < h and 0 <= col < width:
                                    grad_input[n, channel, row, col] += grad * w[o, c, u, v]
                                    grad_weight[o, c, u, v] += grad * x[n, channel, row, col]
    if nd == 1:
        grad_weight = grad_weight[:, :, 0, :]
    return _finish(grad_input, a), grad_weight, grad_bias


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
    """Loop version of :func:`cnnbook.functional.conv2d_backward`.

    Every output-gradient entry ``G[n, o, i, j]`` was produced by the window it saw, so it sends
    ``G * W[o, c, u, v]`` back to ``dX[n, c, i s + u d - p, j s + v d - p]`` and
    ``G * X[n, c, i s + u d - p, j s + v d - p]`` to ``dW[o, c, u, v]``; ``db[o]`` sums ``G[n, o, :, :]``.
    """
    return _conv_backward(2, grad_output, input, weight, stride, padding, dilation, groups)


def conv1d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
    """Loop version of :func:`cnnbook.functional.conv1d_backward`: as :func:`conv2d_backward` with
    height 1 (``G[n, o, i]`` sends ``G * W[o, c, u]`` to ``dX[n, c, i s + u d - p]``)."""
    return _conv_backward(1, grad_output, input, weight, stride, padding, dilation, groups)


def conv_transpose2d_backward(grad_output, input, weight, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1):
    """Loop version of :func:`cnnbook.functional.conv_transpose2d_backward`.

    The forward scatter added ``X[n, c, i, j] * W[c, o, u, v]`` to ``Y[n, o', i s + u d - p, j s + v d - p]``
    (``o'`` the output channel of group member ``o``), so with ``G`` that entry of ``dL/dY``:
    ``dX[n, c, i, j] += G * W[c, o, u, v]``, ``dW[c, o, u, v] += G * X[n, c, i, j]``, ``db[o']`` sums ``G``.
    """
    a = _parse(2, input, weight, None, stride, padding, dilation, groups, True, output_padding)
    g0 = as_float_array(grad_output, "grad_output")
    dtype = common_dtype(a.x, a.w, g0)
    g = _check_grad_output(g0, a, dtype)
    x, w = a.x, a.w
    grad_input = np.zeros(x.shape, dtype)
    grad_weight = np.zeros(w.shape, dtype)
    for n, c, i, j, o, out_channel, u, v, row, col in _transposed_taps(a):
        grad = g[n, out_channel, row, col]
        grad_input[n, c, i, j] += grad * w[c, o, u, v]
        grad_weight[c, o, u, v] += grad * x[n, c, i, j]
    grad_bias = np.zeros(a.c_out, dtype)
    for n in range(x.shape[0]):
        for o in range(a.c_out):
            for row in range(a.out[0]):
                for col in range(a.out[1]):
                    grad_bias[o] += g[n, o, row, col]
    return _finish(grad_input, a), grad_weight, grad_bias
