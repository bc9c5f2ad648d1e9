"""Max and average pooling, forward and backward, vectorised with sliding windows.

Notation (see the book's intro): input ``X`` of shape (N, C, H, W) (or unbatched (C, H, W)), kernel
``k = (k_h, k_w)``, stride ``s``, padding ``p``, dilation ``d``; the output ``Y`` has shape
(N, C, H_out, W_out) with, per axis,

    H_out = floor((H + 2p - d(k-1) - 1) / s) + 1        (ceil instead of floor in ``ceil_mode``;
                                                          a last window starting in the right padding
                                                          is dropped, as in torch)

Window ``(i, j)`` reads the input rows ``i*s + u*d - p`` for ``u = 0..k_h-1`` (likewise columns).
The fast path makes a strided *view* of every window (``numpy.lib.stride_tricks``) and loops only over
the ``k_h * k_w`` offsets ``(u, v)`` inside a window, never over output positions. The loop versions
in :mod:`cnnbook.reference.pooling` spell out the same formulas index by index.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._checks import as_float_array, common_dtype, nonnegative_tuple, positive_tuple
from .shapes import pool_output_size

__all__ = ["max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward"]


# --------------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------------
def _parse(input, kernel_size, stride, padding, dilation, ceil_mode, name="input"):
    """Check the arguments; return (x as (N, C, H, W), unbatched?, k, s, p, d, (H_out, W_out))."""
    x = as_float_array(input, name, ndim=(3, 4), layout="(N, C, H, W) or (C, H, W)")
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    k = positive_tuple(kernel_size, "kernel_size", 2)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        s = k
    else:
        s = positive_tuple(stride, "stride", 2)
    p = nonnegative_tuple(padding, "padding", 2)
    d = positive_tuple(dilation, "dilation", 2)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"ceil_mode must be a bool, got {ceil_mode!r}")
    H, W = x.shape[-2:]
    try:
        out = pool_output_size((H, W), k, s, p, d, bool(ceil_mode))
    except ValueError as e:
        raise ValueError(f"{e} (input of spatial shape {(H, W)})") from None
    return x, unbatched, k, s, p, d, out


def _pad_after(shape, k, s, p, d, out):
    """Padding after the input along H and W: ``p``, or more if the last window reaches further.

    In ``ceil_mode`` the last window may run past ``H + p``; those cells are padding too.
    """
    return [max(pi, (o - 1) * si + di * (ki - 1) + 1 - n - pi)
            for n, ki, si, pi, di, o in zip(shape[-2:], k, s, p, d, out)]


def _padded_shape(shape, k, s, p, d, out):
    after = _pad_after(shape, k, s, p, d, out)
    return (shape[-2] + p[0] + after[0], shape[-1] + p[1] + after[1])


def _padded(x, k, s, p, d, out, value):
    """``x`` padded with ``value``: ``p`` before each axis, :func:`_pad_after` after it."""
    after = _pad_after(x.shape, k, s, p, d, out)
    widths = ((0, 0), (0, 0), (p[0], after[0]), (p[1], after[1]))
    return np.pad(x, widths, constant_values=value)


def _windows(xp, k, s, d, out):
    """Strided view of every window: shape (N, C, H_out, W_out, k_h, k_w), no copy.

    ``windows[n, c, i, j, u, v] == xp[n, c, i*s_h + u*d_h, j*s_w + v*d_w]``.
    """
    span = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
    w = sliding_window_view(xp, span, axis=(-2, -1))
    return w[:, :, ::s[0], ::s[1], ::d[0], ::d[1]][:, :, : out[0], : out[1]]


def _offset_slice(u, v, k, s, d, out):
    """Index of the padded-input cells that offset (u, v) of every window touches (shape H_out, W_out)."""
    r0, c0 = u * d[0], v * d[1]
    return (Ellipsis,
            slice(r0, r0 + (out[0] - 1) * s[0] + 1, s[0]),
            slice(c0, c0 + (out[1] - 1) * s[1] + 1, s[1]))


def _check_grad(grad_output, x, unbatched, out):
    """``grad_output`` as (N, C, H_out, W_out) in the common dtype of it and ``x``."""
    g = as_float_array(grad_output, "grad_output", ndim=(3, 4))
    want = x.shape[:2] + out
    want = want[1:] if unbatched else want
    if g.shape != want:
        raise ValueError(f"grad_output must have the pooling output shape {want}, got {g.shape}")
    dtype = common_dtype(x, g)
    return (g[None] if unbatched else g).astype(dtype, copy=False), dtype


# --------------------------------------------------------------------------------------------------
# max pooling
# --------------------------------------------------------------------------------------------------
def _max_argmax(x, k, s, p, d, out):
    """Window maxima and the offset ``u*k_w + v`` of the arg-max inside each window.

    Scanning the offsets in row-major order with a strict ``>`` keeps the *first* maximum of a
    window, as torch does; a NaN always wins (the last NaN in scan order), also as in torch.
    Padding cells never win: they are -inf and, in addition, masked out, so a window of real -inf
    values points at its first real cell like torch.
    """
    xp = _padded(x, k, s, p, d, out, -np.inf)
    win = _windows(xp, k, s, d, out)
    H, W = x.shape[-2:]
    rows = np.arange(out[0])[:, None] * s[0] - p[0]  # first input row of each window
    cols = np.arange(out[1])[None, :] * s[1] - p[1]
    best = np.full(x.shape[:2] + out, -np.inf, dtype=x.dtype)
    arg = np.full(x.shape[:2] + out, -1, dtype=np.int64)
    for u in range(k[0]):
        r = rows + u * d[0]
        for v in range(k[1]):
            c = cols + v * d[1]
            inside = (r >= 0) & (r < H) & (c >= 0) & (c < W)  # (H_out, W_out)
            val = win[..., u, v]
            take = inside & ((val > best) | np.isnan(val) | (arg < 0))
            best = np.where(take, val, best)
            arg = np.where(take, u * k[1] + v, arg)
    return best, arg


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling, like ``torch.nn.functional.max_pool2d``.

    .. math:: Y[n,c,i,j] = \\max_{u,v} X[n,c,\\; i s_h + u d_h - p_h,\\; j s_w + v d_w - p_w]

    with ``u < k_h``, ``v < k_w``; cells outside the image are padding with value -inf (they never win).

    Parameters
    ----------
    input : ndarray, shape (N, C, H, W) or (C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int)
        At most ``kernel_size // 2`` (torch's rule).
    dilation : int or (int, int)
    ceil_mode : bool
        Round the output size up; a window must still start inside the input or the left padding.
    return_indices : bool
        Also return the arg-max positions.

    Returns
    -------
    output : ndarray, shape (N, C, H_out, W_out) (or (C, H_out, W_out))
        ``H_out = floor((H + 2p - d(k-1) - 1)/s) + 1`` (ceil in ``ceil_mode``).
    indices : ndarray of int64, same shape, only if ``return_indices``
        Flat position ``h*W + w`` of each maximum inside its (H, W) input plane, as torch returns them.
        Ties go to the first maximum in row-major scan order of the window.
    """
    x, unbatched, k, s, p, d, out = _parse(input, kernel_size, stride, padding, dilation, ceil_mode)
    best, arg = _max_argmax(x, k, s, p, d, out)
    y = best[0] if unbatched else best
    if not return_indices:
        return y
    idx = _flat_indices(arg, x.shape[-1], k, s, p, d, out)
    return y, (idx[0] if unbatched else idx)


def _flat_indices(arg, W, k, s, p, d, out):
    """Turn window offsets ``u*k_w + v`` into flat input-plane positions ``h*W + w``.

    A window made only of padding cells (possible with dilation, e.g. k=2, d=2, p=1 on a 1-pixel
    axis) has no arg-max (``arg == -1``); its value is -inf and, like torch, its index is that of the
    window's first tap at a non-negative row and column, even though it lies outside the input.
    """
    u, v = np.divmod(arg, k[1])
    h0 = np.arange(out[0])[:, None] * s[0] - p[0]
    w0 = np.arange(out[1])[None, :] * s[1] - p[1]
    h = np.where(arg >= 0, h0 + u * d[0], _first_nonnegative(h0, d[0]))
    w = np.where(arg >= 0, w0 + v * d[1], _first_nonnegative(w0, d[1]))
    return (h * W + w).astype(np.int64)


def _first_nonnegative(start, d):
    """``start + m*d`` for the smallest m >= 0 making it >= 0 (torch's ``while (h < 0) h += d``)."""
    return np.where(start < 0, start + (-start + d - 1) // d * d, start)


def max_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False):
    """Gradient of :func:`max_pool2d` with respect to its input.

    .. math:: \\frac{\\partial L}{\\partial X}[n,c,h,w] = \\sum_{(i,j):\\ \\mathrm{argmax}(i,j) = (h,w)} G[n,c,i,j]

    Each upstream gradient ``G[n,c,i,j]`` goes entirely to the arg-max of window ``(i, j)``; every
    other cell of the window gets 0. Overlapping windows (stride < kernel) that share an arg-max
    add up. Ties are broken as in torch: the *first* maximum in row-major scan order of the window
    (so with equal values, the top-left one receives the gradient). A window made only of padding
    (possible with dilation) has no arg-max and passes no gradient on; torch's CPU kernel writes
    such gradients outside the input plane, so there is nothing to match there.

    Parameters
    ----------
    grad_output : ndarray, shape (N, C, H_out, W_out) (or (C, H_out, W_out))
        ``G = dL/dY``.
    input : ndarray, shape (N, C, H, W) (or (C, H, W))
        The input ``X`` of the forward pass; the other arguments are those of :func:`max_pool2d`.

    Returns
    -------
    grad_input : ndarray, shape of ``input``
    """
    x, unbatched, k, s, p, d, out = _parse(input, kernel_size, stride, padding, dilation, ceil_mode)
    g, dtype = _check_grad(grad_output, x, unbatched, out)
    _, arg = _max_argmax(x, k, s, p, d, out)
    gp = np.zeros(x.shape[:2] + _padded_shape(x.shape, k, s, p, d, out), dtype=dtype)
    for u in range(k[0]):
        for v in range(k[1]):
            # within one offset the windows touch distinct cells, so += on the strided slice is safe
            gp[_offset_slice(u, v, k, s, d, out)] += np.where(arg == u * k[1] + v, g, 0)
    gi = gp[..., p[0]: p[0] + x.shape[-2], p[1]: p[1] + x.shape[-1]]
    gi = np.ascontiguousarray(gi)
    return gi[0] if unbatched else gi


# --------------------------------------------------------------------------------------------------
# average pooling
# --------------------------------------------------------------------------------------------------
def _avg_counts(size, k, s, p, out, count_include_pad):
    """Divisor per output position along one axis, torch's rule.

    A window starts at ``start = i*s - p`` and is clipped to ``end = min(start + k, size + p)``
    (the right *padding* border, so ceil-mode overhang past it is not counted). With
    ``count_include_pad`` the divisor is ``end - start``; without it, only the real input cells
    ``min(end, size) - max(start, 0)``. The 2-D divisor is the product of the two axes.
    """
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _avg_divisor(x_shape, k, s, p, out, count_include_pad):
    dh = _avg_counts(x_shape[-2], k[0], s[0], p[0], out[0], count_include_pad)
    dw = _avg_counts(x_shape[-1], k[1], s[1], p[1], out[1], count_include_pad)
    return np.maximum(dh[:, None] * dw[None, :], 1)  # (H_out, W_out); >= 1 guards empty windows


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """2-D average pooling, like ``torch.nn.functional.avg_pool2d``.

    .. math:: Y[n,c,i,j] = \\frac{1}{D[i,j]} \\sum_{u<k_h}\\sum_{v<k_w} X[n,c,\\; i s_h + u - p_h,\\; j s_w + v - p_w]

    with zero padding. The divisor ``D[i,j]`` is ``k_h k_w`` for a window inside the padded input;
    torch clips a window to the padded border ``H + p`` (relevant in ``ceil_mode``), and with
    ``count_include_pad=False`` counts only the real input cells of the window.

    Parameters
    ----------
    input : ndarray, shape (N, C, H, W) or (C, H, W)
    kernel_size, stride, padding, ceil_mode
        As in :func:`max_pool2d` (no dilation for average pooling).
    count_include_pad : bool
        Whether the zero padding counts in the divisor.

    Returns
    -------
    output : ndarray, shape (N, C, H_out, W_out) (or (C, H_out, W_out))
        ``H_out = floor((H + 2p - k)/s) + 1`` (ceil in ``ceil_mode``).
    """
    x, unbatched, k, s, p, d, out = _parse(input, kernel_size, stride, padding, 1, ceil_mode)
    _check_bool(count_include_pad, "count_include_pad")
    xp = _padded(x, k, s, p, d, out, 0.0)
    total = _windows(xp, k, s, d, out).sum(axis=(-2, -1))
    y = (total / _avg_divisor(x.shape, k, s, p, out, count_include_pad)).astype(x.dtype, copy=False)
    return y[0] if unbatched else y


def avg_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    """Gradient of :func:`avg_pool2d` with respect to its input.

    .. math:: \\frac{\\partial L}{\\partial X}[n,c,h,w] = \\sum_{(i,j):\\ (h,w) \\in \\text{window}(i,j)} \\frac{G[n,c,i,j]}{D[i,j]}

    Each upstream gradient is spread evenly, ``G/D``, over the cells of its window (the same divisor
    ``D`` as in the forward pass); overlapping windows add up; padding cells drop out.

    Parameters
    ----------
    grad_output : ndarray, shape (N, C, H_out, W_out) (or (C, H_out, W_out))
    input : ndarray, shape (N, C, H, W) (or (C, H, W))
        The forward input (only its shape is used); other arguments as in :func:`avg_pool2d`.

    Returns
    -------
    grad_input : ndarray, shape of ``input``
    """
    x, unbatched, k, s, p, d, out = _parse(input, kernel_size, stride, padding, 1, ceil_mode)
    _check_bool(count_include_pad, "count_include_pad")
    g, dtype = _check_grad(grad_output, x, unbatched, out)
    share = (g / _avg_divisor(x.shape, k, s, p, out, count_include_pad)).astype(dtype, copy=False)
    gp = np.zeros(x.shape[:2] + _padded_shape(x.shape, k, s, p, d, out), dtype=dtype)
    for u in range(k[0]):
        for v in range(k[1]):
            gp[_offset_slice(u, v, k, s, d, out)] += share
    gi = np.ascontiguousarray(gp[..., p[0]: p[0] + x.shape[-2], p[1]: p[1] + x.shape[-1]])
    return gi[0] if unbatched else gi


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
