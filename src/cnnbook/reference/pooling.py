"""Pooling with explicit loops, one line per symbol of the formulas (for reading, and for checking).

Same arguments, checks (:func:`cnnbook.arguments.pool_args`) and results as
:mod:`cnnbook.functional.pooling`, which is the fast version. Here every
output cell ``Y[n, c, i, j]`` is computed by visiting the taps ``(u, v)`` of its window:

    input row    h = i * s_h + u * d_h - p_h        (0 <= u < k_h)
    input column w = j * s_w + v * d_w - p_w        (0 <= v < k_w)

Taps that fall outside ``0 <= h < H``, ``0 <= w < W`` are padding: -inf for max pooling (so they are
simply skipped), 0 for average pooling (skipped in the sum, but possibly counted in the divisor).
The forward and backward loops visit the same windows in the same order on purpose: each spells out
its own formula.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import IntOrTuple, check_bool, check_divisor_override, pool_args

__all__ = ["max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward"]


def _window_argmax(X: np.ndarray, n: int, c: int, i: int, j: int, k: tuple[int, int], s: tuple[int, int],
                   p: tuple[int, int], d: tuple[int, int]) -> tuple[float, tuple[int, int] | None]:
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


def max_pool2d(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Loop version of :func:`cnnbook.functional.max_pool2d`.

    ``Y[n,c,i,j] = max_{u,v} X[n, c, i*s_h + u*d_h - p_h, j*s_w + v*d_w - p_w]``; the index is
    ``h*W + w`` of the maximum (first one on ties).
    """
    a = pool_args(input, kernel_size, stride, padding, dilation, ceil_mode)
    X, k, s, p, d, (H_out, W_out) = a.input, a.kernel_size, a.stride, a.padding, a.dilation, a.out_size
    N, C, H, W = X.shape
    Y = np.empty((N, C, H_out, W_out), dtype=X.dtype)
    I = np.empty((N, C, H_out, W_out), dtype=np.int64)
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):  # every output cell
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
    return (a.finish(Y), a.finish(I)) if return_indices else a.finish(Y)


def max_pool2d_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                        stride: IntOrTuple | None = None, padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                        ceil_mode: bool = False) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.max_pool2d_backward`.

    ``dX[n,c,h,w] += G[n,c,i,j]`` for the arg-max ``(h, w)`` of every window ``(i, j)``.
    """
    a = pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, grad_output=grad_output)
    X, G, k, s, p, d = a.input, a.grad_output, a.kernel_size, a.stride, a.padding, a.dilation
    (H_out, W_out), (N, C, H, W) = a.out_size, X.shape
    dX = np.zeros((N, C, H, W), dtype=a.dtype)
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):  # every output cell
        _, where = _window_argmax(X, n, c, i, j, k, s, p, d)
        if where is not None:
            h, w = where
            dX[n, c, h, w] += G[n, c, i, j]
    return a.finish(dX)


def _window_bounds(i: int, size: int, k: int, s: int, p: int) -> tuple[int, int]:
    """torch's window along one axis: ``[start, end)`` clipped to the padded border ``size + p``."""
    start = i * s - p
    end = min(start + k, size + p)
    return start, end


def _divisor(i: int, j: int, H: int, W: int, k: tuple[int, int], s: tuple[int, int], p: tuple[int, int],
             count_include_pad: bool, divisor_override: int | None) -> int:
    """Number the window sum is divided by: ``divisor_override`` if given, else the window size with or
    without the padding cells (at least 1)."""
    if divisor_override is not None:
        return divisor_override
    h0, h1 = _window_bounds(i, H, k[0], s[0], p[0])
    w0, w1 = _window_bounds(j, W, k[1], s[1], p[1])
    if count_include_pad:
        return max((h1 - h0) * (w1 - w0), 1)
    return max((min(h1, H) - max(h0, 0)) * (min(w1, W) - max(w0, 0)), 1)


def avg_pool2d(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.avg_pool2d`.

    ``Y[n,c,i,j] = (1/D[i,j]) * sum_{u,v} X[n, c, i*s_h + u - p_h, j*s_w + v - p_w]`` with zero padding
    (``D = divisor_override`` when given).
    """
    a = pool_args(input, kernel_size, stride, padding, 1, ceil_mode)
    count_include_pad = check_bool(count_include_pad, "count_include_pad")
    divisor_override = check_divisor_override(divisor_override)
    X, k, s, p, (H_out, W_out) = a.input, a.kernel_size, a.stride, a.padding, a.out_size
    N, C, H, W = X.shape
    Y = np.zeros((N, C, H_out, W_out), dtype=X.dtype)
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):  # every output cell
        total = 0.0
        for u in range(k[0]):
            for v in range(k[1]):
                h = i * s[0] + u - p[0]
                w = j * s[1] + v - p[1]
                if 0 <= h < H and 0 <= w < W:  # padding cells add 0
                    total += X[n, c, h, w]
        D = _divisor(i, j, H, W, k, s, p, count_include_pad, divisor_override)
        Y[n, c, i, j] = total / D
    return a.finish(Y)


def avg_pool2d_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                        stride: IntOrTuple | None = None, padding: IntOrTuple = 0, ceil_mode: bool = False,
                        count_include_pad: bool = True, divisor_override: int | None = None) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.avg_pool2d_backward`.

    ``dX[n,c,h,w] += G[n,c,i,j] / D[i,j]`` for every cell ``(h, w)`` of every window ``(i, j)``.
    """
    a = pool_args(input, kernel_size, stride, padding, 1, ceil_mode, grad_output=grad_output)
    count_include_pad = check_bool(count_include_pad, "count_include_pad")
    divisor_override = check_divisor_override(divisor_override)
    X, G, k, s, p = a.input, a.grad_output, a.kernel_size, a.stride, a.padding
    (H_out, W_out), (N, C, H, W) = a.out_size, X.shape
    dX = np.zeros((N, C, H, W), dtype=a.dtype)
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):  # every output cell
        share = G[n, c, i, j] / _divisor(i, j, H, W, k, s, p, count_include_pad, divisor_override)
        for u in range(k[0]):
            for v in range(k[1]):
                h = i * s[0] + u - p[0]
                w = j * s[1] + v - p[1]
                if 0 <= h < H and 0 <= w < W:
                    dX[n, c, h, w] += share
    return a.finish(dX)


# --------------------------------------------------------------------------------------------------
# adaptive average pooling (chapter 10)
# --------------------------------------------------------------------------------------------------
# (imported here, not at the top, so that this section stands apart from the one above)
from ..arguments import adaptive_pool_args  # noqa: E402

__all__ += ["adaptive_avg_pool2d", "adaptive_avg_pool2d_backward"]


def adaptive_avg_pool2d(input: ArrayLike, output_size) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.adaptive_avg_pool2d`.

    ``Y[n,c,i,j]`` is the mean of ``X[n, c, h, w]`` over the bin ``h0 <= h < h1``, ``w0 <= w < w1``, with
    ``h0 = floor(i H / H_out)`` and ``h1 = ceil((i + 1) H / H_out)`` (likewise for the columns).
    """
    a = adaptive_pool_args(input, output_size)
    X, (H_out, W_out) = a.input, a.out_size
    N, C = X.shape[:2]
    Y = np.zeros((N, C, H_out, W_out), dtype=a.dtype)
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):  # every output cell
        (h0, h1), (w0, w1) = a.rows[i], a.cols[j]
        total = 0.0
        for h in range(h0, h1):
            for w in range(w0, w1):
                total += X[n, c, h, w]
        Y[n, c, i, j] = total / ((h1 - h0) * (w1 - w0))
    return a.finish(Y)


def adaptive_avg_pool2d_backward(grad_output: ArrayLike, input: ArrayLike, output_size) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.adaptive_avg_pool2d_backward`.

    ``dX[n,c,h,w] += G[n,c,i,j] / (bin size)`` for every cell ``(h, w)`` of every bin ``(i, j)``.
    """
    a = adaptive_pool_args(input, output_size, grad_output=grad_output)
    X, G, (H_out, W_out) = a.input, a.grad_output, a.out_size
    dX = np.zeros(X.shape, dtype=a.dtype)
    for n, c, i, j in np.ndindex(X.shape[0], X.shape[1], H_out, W_out):
        (h0, h1), (w0, w1) = a.rows[i], a.cols[j]
        share = G[n, c, i, j] / ((h1 - h0) * (w1 - w0))
        for h in range(h0, h1):
            for w in range(w0, w1):
                dX[n, c, h, w] += share
    return a.finish(dX)
