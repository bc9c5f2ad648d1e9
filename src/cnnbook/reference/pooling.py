"""Pooling with explicit loops, one line per symbol of the formulas (for reading, and for checking).

Same arguments, checks and results as :mod:`cnnbook.pooling`, which is the fast version. Here every
output cell ``Y[n, c, i, j]`` is computed by visiting the taps ``(u, v)`` of its window:

    input row    h = i * s_h + u * d_h - p_h        (0 <= u < k_h)
    input column w = j * s_w + v * d_w - p_w        (0 <= v < k_w)

Taps that fall outside ``0 <= h < H``, ``0 <= w < W`` are padding: -inf for max pooling (so they are
simply skipped), 0 for average pooling (skipped in the sum, but possibly counted in the divisor).
"""
from __future__ import annotations

import math

import numpy as np

from ..pooling import _check_bool, _check_grad, _parse

__all__ = ["max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward"]


def _window_argmax(X, n, c, i, j, k, s, p, d):
    """Value and position (h, w) of the maximum of window (i, j); the first one on ties.

    Returns (-inf, None) for a window made only of padding.
    """
    H, W = X.shape[-2:]
    best, where = -math.inf, None
    for u in range(k[0]):
        for v in range(k[1]):
            h = i * s[0] + u * d[0] - p[0]
            w = j * s[1] + v * d[1] - p[1]
            if 0 <= h < H and 0 <= w < W:
                val = X[n, c, h, w]
                # strict '>' keeps the first maximum in scan order; NaN always wins (as in torch)
                if where is None or val > best or math.isnan(val):
                    best, where = val, (h, w)
    return best, where


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Loop version of :func:`cnnbook.pooling.max_pool2d`.

    ``Y[n,c,i,j] = max_{u,v} X[n, c, i*s_h + u*d_h - p_h, j*s_w + v*d_w - p_w]``; the index is
    ``h*W + w`` of the maximum (first one on ties).
    """
    X, unbatched, k, s, p, d, (H_out, W_out) = _parse(input, kernel_size, stride, padding, dilation,
                                                      ceil_mode)
    N, C, H, W = X.shape
    Y = np.empty((N, C, H_out, W_out), dtype=X.dtype)
    I = np.empty((N, C, H_out, W_out), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    best, where = _window_argmax(X, n, c, i, j, k, s, p, d)
                    if where is None:  # only padding: torch reports the first tap with h, w >= 0
                        h, w = i * s[0] - p[0], j * s[1] - p[1]
                        while h < 0:
                            h += d[0]
                        while w < 0:
                            w += d[1]
                        where = (h, w)
                    Y[n, c, i, j] = best
                    I[n, c, i, j] = where[0] * W + where[1]
    if unbatched:
        Y, I = Y[0], I[0]
    return (Y, I) if return_indices else Y


def max_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False):
    """Loop version of :func:`cnnbook.pooling.max_pool2d_backward`.

    ``dX[n,c,h,w] += G[n,c,i,j]`` for the arg-max ``(h, w)`` of every window ``(i, j)``.
    """
    X, unbatched, k, s, p, d, (H_out, W_out) = _parse(input, kernel_size, stride, padding, dilation,
                                                      ceil_mode)
    G, dtype = _check_grad(grad_output, X, unbatched, (H_out, W_out))
    N, C, H, W = X.shape
    dX = np.zeros((N, C, H, W), dtype=dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    _, where = _window_argmax(X, n, c, i, j, k, s, p, d)
                    if where is not None:
                        h, w = where
                        dX[n, c, h, w] += G[n, c, i, j]
    return dX[0] if unbatched else dX


def _window_bounds(i, size, k, s, p):
    """torch's window along one axis: ``[start, end)`` clipped to the padded border ``size + p``."""
    start = i * s - p
    end = min(start + k, size + p)
    return start, end


def _divisor(i, j, H, W, k, s, p, count_include_pad):
    """Number the window sum is divided by (window size with or without the padding cells)."""
    h0, h1 = _window_bounds(i, H, k[0], s[0], p[0])
    w0, w1 = _window_bounds(j, W, k[1], s[1], p[1])
    if count_include_pad:
        return (h1 - h0) * (w1 - w0)
    return (min(h1, H) - max(h0, 0)) * (min(w1, W) - max(w0, 0))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Loop version of :func:`cnnbook.pooling.avg_pool2d`.

    ``Y[n,c,i,j] = (1/D[i,j]) * sum_{u,v} X[n, c, i*s_h + u - p_h, j*s_w + v - p_w]`` with zero padding.
    """
    X, unbatched, k, s, p, _, (H_out, W_out) = _parse(input, kernel_size, stride, padding, 1, ceil_mode)
    _check_bool(count_include_pad, "count_include_pad")
    N, C, H, W = X.shape
    Y = np.zeros((N, C, H_out, W_out), dtype=X.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    total = 0.0
                    for u in range(k[0]):
                        for v in range(k[1]):
                            h = i * s[0] + u - p[0]
                            w = j * s[1] + v - p[1]
                            if 0 <= h < H and 0 <= w < W:  # padding cells add 0
                                total += X[n, c, h, w]
                    D = _divisor(i, j, H, W, k, s, p, count_include_pad)
                    Y[n, c, i, j] = total / max(D, 1)
    return Y[0] if unbatched else Y


def avg_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    """Loop version of :func:`cnnbook.pooling.avg_pool2d_backward`.

    ``dX[n,c,h,w] += G[n,c,i,j] / D[i,j]`` for every cell ``(h, w)`` of every window ``(i, j)``.
    """
    X, unbatched, k, s, p, _, (H_out, W_out) = _parse(input, kernel_size, stride, padding, 1, ceil_mode)
    _check_bool(count_include_pad, "count_include_pad")
    G, dtype = _check_grad(grad_output, X, unbatched, (H_out, W_out))
    N, C, H, W = X.shape
    dX = np.zeros((N, C, H, W), dtype=dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    share = G[n, c, i, j] / max(_divisor(i, j, H, W, k, s, p, count_include_pad), 1)
                    for u in range(k[0]):
                        for v in range(k[1]):
                            h = i * s[0] + u - p[0]
                            w = j * s[1] + v - p[1]
                            if 0 <= h < H and 0 <= w < W:
                                dX[n, c, h, w] += share
    return dX[0] if unbatched else dX
