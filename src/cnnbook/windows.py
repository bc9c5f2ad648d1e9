"""The sliding windows of a convolution or a pooling layer, as a view of the (padded) input.

One helper, one axis order, used by :func:`cnnbook.im2col` and the fast convolutions
(:mod:`cnnbook.functional.conv`; the fast pooling takes the same windows one offset ``(u, v)`` at a time,
as plain strided slices):

    windows[..., u, v, i, j] = X_pad[..., i s_h + u d_h, j s_w + v d_w]

with the kernel offsets ``(u, v)`` before the output positions ``(i, j)``: the order of the rows
``(c, u, v)`` and columns ``(i, j)`` of im2col, so that ``windows.reshape(N, C k_h k_w, H_out W_out)``
is im2col's matrix.

:func:`sliding_windows_wide` is the variant of stride 1 along the width that the fast convolution copies
fastest: each row of windows runs over the whole padded width, so every tap's windows are one contiguous
run of memory. :func:`sliding_windows_nd` is the same view over any number of trailing axes (3-D convolution).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import shapes

__all__ = ["sliding_windows", "sliding_windows_wide", "sliding_windows_nd"]


def _out_length(size: int, k: int, s: int, padding: int, d: int) -> int:
    """``floor((size + padding - d(k - 1) - 1) / s) + 1`` (``padding``: both sides together), for sizes
    already checked (:func:`cnnbook.shapes.conv_output_size` checks and explains them)."""
    return (size + padding - d * (k - 1) - 1) // s + 1


def sliding_windows(padded: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int] = (1, 1),
                    dilation: tuple[int, int] = (1, 1), out_size: tuple[int, int] | None = None) -> np.ndarray:
    """Read-only view of the windows of an already padded ``(..., H_p, W_p)`` array, no copy.

    Shape ``(..., k_h, k_w, H_out, W_out)`` with ``view[..., u, v, i, j] = padded[..., i s_h + u d_h,
    j s_w + v d_w]``. ``out_size`` keeps the first ``(H_out, W_out)`` windows; by default every window
    that fits, :func:`cnnbook.shapes.conv_output_size` of the padded size.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    fits = (0, 0)
    if all(type(q) is int and q >= 1 for q in (kh, kw, sh, sw, dh, dw)):   # the formula, without the checks
        fits = (_out_length(padded.shape[-2], kh, sh, 0, dh), _out_length(padded.shape[-1], kw, sw, 0, dw))
    if min(fits) < 1:   # checked, and any bad argument explained, there
        fits = shapes.conv_output_size(padded.shape[-2:], (kh, kw), (sh, sw), 0, (dh, dw))
    ho, wo = fits if out_size is None else out_size
    if ho > fits[0] or wo > fits[1]:
        raise ValueError(f"out_size: {(ho, wo)} windows do not fit in the padded shape {padded.shape[-2:]}, "
                         f"at most {fits}")
    *lead, row, col = padded.strides
    return as_strided(
        padded,
        shape=(*padded.shape[:-2], kh, kw, ho, wo),
        strides=(*lead, row * dh, col * dw, row * sh, col * sw),
        writeable=False,
    )


def sliding_windows_wide(padded: np.ndarray, kernel_size: tuple[int, int], stride_h: int = 1,
                         dilation: tuple[int, int] = (1, 1), out_rows: int | None = None) -> np.ndarray:
    """Read-only view ``(..., k_h, k_w, H_out, W_p)`` of "wide" windows, stride 1 along the width:

        view[..., u, v, i, j] = flat[..., (i s_h + u d_h) W_p + j + v d_w]

    where ``flat`` is each (H_p, W_p) plane read row after row. For ``j < W_out`` this is the window
    entry ``padded[..., i s_h + u d_h, j + v d_w]`` of :func:`sliding_windows`; for ``j >= W_out`` it runs
    on into the next row (values to be discarded). Since ``(i, j)`` then step through memory like
    ``(row, column)``, a block of full rows of one tap is one contiguous run. The last row of the padded
    array is only read by discarded entries, so it must be a spare row (``H_p`` = the rows the windows
    need + 1); ``out_rows`` defaults to every row of windows that fits above it. A kernel one column
    wide reads no entry past its row: given ``out_rows``, its windows may use the last row too.
    """
    (kh, kw), (dh, dw) = kernel_size, dilation
    hp, wp = padded.shape[-2:]
    fits = (hp - (kw > 1) - dh * (kh - 1) - 1) // stride_h + 1
    rows = (hp - 1 - dh * (kh - 1) - 1) // stride_h + 1 if out_rows is None else out_rows
    if rows > fits or dw * (kw - 1) >= wp or not padded.flags.c_contiguous:
        raise ValueError(f"out_rows: {rows} rows of wide windows of a {kernel_size} kernel do not fit in a "
                         f"C-contiguous padded shape {padded.shape[-2:]} with a spare last row (for a kernel "
                         f"wider than 1)")
    *lead, row, col = padded.strides
    return as_strided(
        padded,
        shape=(*padded.shape[:-2], kh, kw, rows, wp),
        strides=(*lead, row * dh, col * dw, row * stride_h, col),
        writeable=False,
    )


# --------------------------------------------------------------------------------------------------
# any number of spatial axes (3-D convolution)
# --------------------------------------------------------------------------------------------------
def sliding_windows_nd(padded: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
                       dilation: tuple[int, ...], out_size: tuple[int, ...] | None = None) -> np.ndarray:
    """Read-only view of the windows over the last ``m = len(kernel_size)`` axes of a padded array.

    Shape ``(..., k_1, ..., k_m, n_1, ..., n_m)`` with
    ``view[..., u_1, ..., u_m, i_1, ..., i_m] = padded[..., i_1 s_1 + u_1 d_1, ..., i_m s_m + u_m d_m]``:
    :func:`sliding_windows` for ``m = 2``. ``out_size`` keeps the first windows on each axis; by default
    every window that fits.
    """
    m = len(kernel_size)
    fits = shapes.conv_output_size(padded.shape[-m:], tuple(kernel_size), tuple(stride), 0, tuple(dilation))
    out = fits if out_size is None else tuple(out_size)
    if any(o > f for o, f in zip(out, fits)):
        raise ValueError(f"out_size: {out} windows do not fit in the padded shape {padded.shape[-m:]}, "
                         f"at most {fits}")
    lead, axes = padded.strides[:-m], padded.strides[-m:]
    return as_strided(
        padded,
        shape=(*padded.shape[:-m], *kernel_size, *out),
        strides=(*lead, *(a * d for a, d in zip(axes, dilation)), *(a * s for a, s in zip(axes, stride))),
        writeable=False,
    )
