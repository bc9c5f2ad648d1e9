"""Teaching primitives: the small building blocks the book assembles convolutions from.

Notation: ``X`` an input (image), ``K`` or ``W`` a kernel of size ``k_h x k_w``,
``(X star K)[i, j] = sum_{u, v} X[i + u, j + v] K[u, v]`` the (valid) cross-correlation and
``X * K = X star rot180(K)`` the (mathematical) convolution.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from ._checks import as_float_array, int_tuple, nonnegative_tuple, positive_tuple

__all__ = [
    "corr2d",
    "correlate2d",
    "convolve2d",
    "correlate1d",
    "convolve1d",
    "rot180",
    "pad2d",
    "insert_zeros",
    "dilate_kernel",
    "im2col",
    "col2im",
    "conv_matrix",
]

_MODES = ("full", "valid", "same")


def _two(x, k, name_x="x", name_k="k"):
    x = as_float_array(x, name_x, ndim=2, layout="(H, W)")
    k = as_float_array(k, name_k, ndim=2, layout="(k_h, k_w)")
    dtype = np.result_type(x.dtype, k.dtype)
    return x.astype(dtype, copy=False), k.astype(dtype, copy=False)


def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"mode must be one of 'full', 'valid', 'same', got {mode!r}")


def corr2d(x, k):
    """Valid 2-D cross-correlation of a single-channel image with a kernel.

    ``Y[i, j] = sum_{u, v} X[i + u, j + v] K[u, v]``; ``X`` is ``(H, W)``, ``K`` is ``(k_h, k_w)``,
    ``Y`` is ``(H - k_h + 1, W - k_w + 1)``.

    Examples
    --------
    >>> corr2d([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]])
    array([[19., 25.],
           [37., 43.]])
    """
    x, k = _two(x, k)
    if k.shape[0] > x.shape[0] or k.shape[1] > x.shape[1]:
        raise ValueError(f"k: kernel of shape {k.shape} can't be larger than the input x of shape {x.shape}")
    windows = sliding_window_view(x, k.shape)          # (H_out, W_out, k_h, k_w)
    return np.einsum("ijuv,uv->ij", windows, k)


def correlate2d(x, k, mode="full"):
    """2-D cross-correlation with ``scipy.signal.correlate2d`` semantics (zero boundary).

    ``mode='full'``: every overlap, size ``(H + k_h - 1, W + k_w - 1)`` (pad ``k - 1`` zeros on every
    side, then :func:`corr2d`); ``'valid'``: no padding, the kernel must fit inside ``X``; ``'same'``:
    size ``(H, W)``, the centre part of the full result (as scipy).
    """
    _check_mode(mode)
    x, k = _two(x, k)
    kh, kw = k.shape
    if mode == "valid":
        return corr2d(x, k)
    full = corr2d(np.pad(x, ((kh - 1, kh - 1), (kw - 1, kw - 1))), k)
    if mode == "full":
        return full
    top, left = (kh - 1) // 2, (kw - 1) // 2           # the same-size window scipy keeps
    return full[kh - 1 - top: kh - 1 - top + x.shape[0], kw - 1 - left: kw - 1 - left + x.shape[1]]


def convolve2d(x, k, mode="full"):
    """2-D (flipped, mathematical) convolution with ``scipy.signal.convolve2d`` semantics.

    ``(X * K)[i, j] = sum_{u, v} X[i - u, j - v] K[u, v]``, computed as the cross-correlation with
    ``rot180(K)``. ``mode`` as in :func:`correlate2d` (``'same'`` keeps the centre of the full result).
    """
    _check_mode(mode)
    x, k = _two(x, k)
    kh, kw = k.shape
    full = correlate2d(x, rot180(k), "full") if mode != "valid" else corr2d(x, rot180(k))
    if mode != "same":
        return full
    top, left = (kh - 1) // 2, (kw - 1) // 2           # the same-size window scipy keeps
    return full[top: top + x.shape[0], left: left + x.shape[1]]


def _one(x, k):
    x = as_float_array(x, "x", ndim=1, layout="(L,)")
    k = as_float_array(k, "k", ndim=1, layout="(K,)")
    dtype = np.result_type(x.dtype, k.dtype)
    if x.size == 0 or k.size == 0:
        raise ValueError("x and k must not be empty")
    return x.astype(dtype, copy=False), k.astype(dtype, copy=False)


def _crop_1d(full, n, m, mode, shorter_first_reversed=False):
    """Keep the part of a full 1-D result that ``numpy.correlate``/``numpy.convolve`` keep.

    numpy centres ``'same'`` on the longer argument; for a correlation whose kernel is longer than the
    signal it correlates the other way round and reverses, which moves the kept window by one when
    ``min(L, K)`` is even (``shorter_first_reversed``).
    """
    if mode == "full":
        return full
    big, small = max(n, m), min(n, m)
    if mode == "valid":
        return full[small - 1: big]
    start = (small - 1) // 2
    if shorter_first_reversed:
        start = small - 1 - start
    return full[start: start + big]


def correlate1d(x, k, mode="valid"):
    """1-D cross-correlation with ``numpy.correlate`` semantics (default ``mode='valid'`` as numpy).

    ``y[t] = sum_u x[t + u] k[u]``: ``'valid'`` has length ``|L - K| + 1``, ``'full'`` ``L + K - 1``
    (pad ``K - 1`` zeros on both sides), ``'same'`` ``max(L, K)``, centred as numpy.
    """
    _check_mode(mode)
    x, k = _one(x, k)
    n, m = len(x), len(k)
    padded = np.pad(x, (m - 1, m - 1))
    full = sliding_window_view(padded, m) @ k           # full[t] = sum_u x[t + u - (K - 1)] k[u]
    return _crop_1d(full, n, m, mode, shorter_first_reversed=n < m)


def convolve1d(x, k, mode="full"):
    """1-D convolution with ``numpy.convolve`` semantics (default ``mode='full'`` as numpy).

    ``y[t] = sum_u x[t - u] k[u]`` = cross-correlation with the reversed kernel. With ``mode='full'``
    the result has length ``L + K - 1``; e.g. the sum of two dice is ``convolve1d(p, p)``.
    """
    _check_mode(mode)
    x, k = _one(x, k)
    full = correlate1d(x, k[::-1], "full")
    return _crop_1d(full, len(x), len(k), mode)


def rot180(k):
    """Rotate a kernel by 180 degrees: flip the last two axes.

    ``rot180(K)[..., u, v] = K[..., k_h - 1 - u, k_w - 1 - v]``. Returns a new array.
    """
    k = np.asarray(k)
    if k.ndim < 2:
        raise ValueError(f"k must have at least 2 dimensions, got shape {k.shape}")
    return np.flip(k, axis=(-2, -1)).copy()


def _padding4(padding, name="padding"):
    """(top, bottom, left, right) from an int, a pair (pH, pW) or a 4-tuple."""
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        return nonnegative_tuple(tuple(padding), name, 4)
    ph, pw = nonnegative_tuple(padding, name, 2)
    return ph, ph, pw, pw


def pad2d(x, padding, value=0):
    """Pad the last two axes of ``x`` with a constant (zeros by default).

    ``padding`` is an int (all four sides), a pair ``(p_h, p_w)`` or ``(top, bottom, left, right)``.
    An ``(..., H, W)`` array becomes ``(..., H + top + bottom, W + left + right)``.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions, got shape {x.shape}")
    top, bottom, left, right = _padding4(padding)
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(x, widths, constant_values=value)


def insert_zeros(x, stride):
    """Put ``stride - 1`` zeros between neighbouring elements of the last two axes ("fractional stride").

    An ``(..., H, W)`` array becomes ``(..., (H - 1) s_h + 1, (W - 1) s_w + 1)`` with
    ``out[..., i s_h, j s_w] = x[..., i, j]`` and zeros elsewhere.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions, got shape {x.shape}")
    sh, sw = positive_tuple(stride, "stride", 2)
    h, w = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + ((h - 1) * sh + 1 if h else 0, (w - 1) * sw + 1 if w else 0), x.dtype)
    out[..., ::sh, ::sw] = x
    return out


def dilate_kernel(k, dilation):
    """The equivalent dense kernel of a dilated kernel: ``d - 1`` zeros between neighbouring taps.

    A ``k_h x k_w`` kernel becomes ``(k_h + (k_h - 1)(d_h - 1)) x (k_w + (k_w - 1)(d_w - 1))``;
    correlating with it equals correlating with dilation ``d``. (Same operation as
    :func:`insert_zeros` with ``stride = dilation``.)
    """
    k = np.asarray(k)
    if k.ndim < 2:
        raise ValueError(f"k must have at least 2 dimensions, got shape {k.shape}")
    return insert_zeros(k, positive_tuple(dilation, "dilation", 2))


def _windows(xp, kernel_size, stride, dilation, out_size):
    """Read-only view ``(N, C, k_h, k_w, H_out, W_out)`` of a padded ``(N, C, H_p, W_p)`` array:
    ``view[n, c, u, v, i, j] = xp[n, c, i s_h + u d_h, j s_w + v d_w]``."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel_size, stride, dilation, out_size
    s_n, s_c, s_h, s_w = xp.strides
    return as_strided(
        xp,
        shape=(xp.shape[0], xp.shape[1], kh, kw, ho, wo),
        strides=(s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw),
        writeable=False,
    )


def _out_size(size, k, s, p, d, name="input"):
    span = d * (k - 1) + 1
    if span > size + p:
        raise ValueError(
            f"kernel_size: the (dilated) kernel size {span} can't be greater than the padded {name} "
            f"size {size + p}"
        )
    return (size + p - span) // s + 1


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Unfold the sliding windows of an image batch into columns (``torch.nn.functional.unfold``).

    Column layout: ``cols[n, (c, u, v), (i, j)] = X_pad[n, c, i s + u d, j s + v d]``, i.e. the rows
    are ordered channel-major then kernel row then kernel column (``c k_h k_w + u k_w + v``), and the
    ``L = H_out W_out`` columns in row-major order of the output positions (``i W_out + j``).

    Parameters
    ----------
    x : array (N, C, H, W) or (C, H, W)
    kernel_size, stride, padding, dilation : int or pair
        ``padding`` may also be ``(top, bottom, left, right)``.

    Returns
    -------
    array (N, C k_h k_w, L), or (C k_h k_w, L) for an unbatched input.
    A convolution is then ``W.reshape(C_out, -1) @ cols``.
    """
    x = as_float_array(x, "x", ndim=(3, 4), layout="(N, C, H, W) or (C, H, W)")
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    k = positive_tuple(kernel_size, "kernel_size", 2)
    s = positive_tuple(stride, "stride", 2)
    d = positive_tuple(dilation, "dilation", 2)
    top, bottom, left, right = _padding4(padding)
    n, c, h, w = x.shape
    out = (_out_size(h, k[0], s[0], top + bottom, d[0], "x"), _out_size(w, k[1], s[1], left + right, d[1], "x"))
    xp = pad2d(x, (top, bottom, left, right))
    cols = _windows(xp, k, s, d, out).reshape(n, c * k[0] * k[1], out[0] * out[1])
    return cols[0] if unbatched else cols


def col2im(cols, input_shape, kernel_size, stride=1, padding=0, dilation=1):
    """Fold columns back into an image, summing overlapping windows (``torch.nn.functional.fold``).

    The adjoint of :func:`im2col` (same column layout): every entry ``cols[n, (c, u, v), (i, j)]`` is
    added to ``X[n, c, i s + u d - p, j s + v d - p]``; entries that land in the padding are dropped.

    Parameters
    ----------
    cols : array (N, C k_h k_w, L) or (C k_h k_w, L)
    input_shape : tuple
        Shape of the image the columns came from: ``(N, C, H, W)``, ``(C, H, W)`` or just ``(H, W)``.

    Returns
    -------
    array (N, C, H, W), or (C, H, W) for unbatched (2-D) ``cols``.
    """
    cols = as_float_array(cols, "cols", ndim=(2, 3), layout="(N, C*k_h*k_w, L) or (C*k_h*k_w, L)")
    unbatched = cols.ndim == 2
    if unbatched:
        cols = cols[None]
    k = positive_tuple(kernel_size, "kernel_size", 2)
    s = positive_tuple(stride, "stride", 2)
    d = positive_tuple(dilation, "dilation", 2)
    top, bottom, left, right = _padding4(padding)
    shape = tuple(int_tuple(tuple(input_shape), "input_shape", len(tuple(input_shape))))
    if len(shape) < 2:
        raise ValueError(f"input_shape must end with (H, W), got {shape}")
    h, w = shape[-2:]
    n, rows, length = cols.shape
    if rows % (k[0] * k[1]):
        raise ValueError(f"cols must have C * {k[0]} * {k[1]} rows, got {rows}")
    c = rows // (k[0] * k[1])
    if len(shape) >= 3 and shape[-3] != c:
        raise ValueError(f"input_shape {shape} has {shape[-3]} channels but cols hold {c}")
    ho = _out_size(h, k[0], s[0], top + bottom, d[0], "image")
    wo = _out_size(w, k[1], s[1], left + right, d[1], "image")
    if ho * wo != length:
        raise ValueError(f"cols must have H_out * W_out = {ho} * {wo} = {ho * wo} columns, got {length}")
    blocks = cols.reshape(n, c, k[0], k[1], ho, wo)
    xp = np.zeros((n, c, h + top + bottom, w + left + right), cols.dtype)
    for u in range(k[0]):                   # one strided slice per kernel tap: k_h k_w additions
        for v in range(k[1]):
            i0, j0 = u * d[0], v * d[1]
            xp[:, :, i0: i0 + s[0] * (ho - 1) + 1: s[0], j0: j0 + s[1] * (wo - 1) + 1: s[1]] += blocks[:, :, u, v]
    x = xp[:, :, top: top + h, left: left + w]
    return x[0] if unbatched else x


def conv_matrix(kernel, input_shape):
    """The matrix ``C`` of the valid cross-correlation with ``kernel`` on an ``(H, W)`` image.

    ``C`` is ``(H_out W_out, H W)`` with ``C[i W_out + j, (i + u) W + (j + v)] = K[u, v]`` and zeros
    elsewhere, so ``C @ X.ravel() == corr2d(X, K).ravel()`` and ``C.T @ Y.ravel()`` is the transposed
    convolution (the full convolution scattering each output back over its window).
    """
    k = as_float_array(kernel, "kernel", ndim=2, layout="(k_h, k_w)")
    h, w = int_tuple(tuple(input_shape), "input_shape", 2)
    kh, kw = k.shape
    if kh > h or kw > w:
        raise ValueError(f"kernel: kernel of shape {k.shape} can't be larger than input_shape {(h, w)}")
    ho, wo = h - kh + 1, w - kw + 1
    c = np.zeros((ho * wo, h * w), k.dtype)
    for i in range(ho):
        for j in range(wo):
            for u in range(kh):
                for v in range(kw):
                    c[i * wo + j, (i + u) * w + (j + v)] = k[u, v]
    return c
