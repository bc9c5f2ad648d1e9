"""Teaching primitives: the small building blocks the book assembles convolutions from.

Notation (the book's): ``X`` an input (image), ``K`` or ``W`` a kernel of size ``k_h x k_w``,
``(X star K)[i, j] = sum_{u, v} X[i + u, j + v] K[u, v]`` the valid, top-left aligned cross-correlation
and ``(X * K)[i, j] = sum_{u, v} X[i - u, j - v] K[u, v]`` the full (mathematical) convolution, whose
valid part, indexed from 0, is ``X star rot180(K)``: ``(X star rot180(K))[i, j] = (X * K)[i + k_h - 1,
j + k_w - 1]``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from . import shapes
from .arguments import IntOrTuple, UnfoldArgs, as_float_array, int_tuple, padding_sides, positive_tuple, unfold_args
from .windows import sliding_windows

__all__ = ["corr2d", "correlate2d", "convolve2d", "correlate1d", "convolve1d", "rot180", "pad2d",
           "insert_zeros", "dilate_kernel", "im2col", "col2im", "conv_matrix", "frequency_response"]

_MODES = ("full", "valid", "same")


def _image_and_kernel(x: ArrayLike, k: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D image and a 2-D kernel as float arrays of their common dtype."""
    x = as_float_array(x, "x", ndim=2, layout="(H, W)")
    k = as_float_array(k, "k", ndim=2, layout="(k_h, k_w)")
    dtype = np.result_type(x.dtype, k.dtype)
    return x.astype(dtype, copy=False), k.astype(dtype, copy=False)


def _check_mode(mode: str) -> None:
    if mode not in _MODES:
        raise ValueError(f"mode must be one of 'full', 'valid', 'same', got {mode!r}")


def corr2d(x: ArrayLike, k: ArrayLike) -> np.ndarray:
    """Valid 2-D cross-correlation of a single-channel image with a kernel.

    ``Y[i, j] = sum_{u, v} X[i + u, j + v] K[u, v]``; ``X`` is ``(H, W)``, ``K`` is ``(k_h, k_w)``,
    ``Y`` is ``(H - k_h + 1, W - k_w + 1)``.

    Examples
    --------
    >>> corr2d([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]])
    array([[19., 25.],
           [37., 43.]])
    """
    x, k = _image_and_kernel(x, k)
    if k.shape[0] > x.shape[0] or k.shape[1] > x.shape[1]:
        raise ValueError(f"k: kernel of shape {k.shape} can't be larger than the input x of shape {x.shape}")
    windows = sliding_windows(x, k.shape)              # (k_h, k_w, H_out, W_out)
    return np.einsum("uvij,uv->ij", windows, k)


def correlate2d(x: ArrayLike, k: ArrayLike, mode: str = "full") -> np.ndarray:
    """2-D cross-correlation with ``scipy.signal.correlate2d`` semantics (zero boundary).

    ``mode='full'``: every overlap, size ``(H + k_h - 1, W + k_w - 1)`` (pad ``k - 1`` zeros on every
    side, then :func:`corr2d`); ``'valid'``: no padding, the kernel must fit inside ``X``; ``'same'``:
    size ``(H, W)``, the centre part of the full result (as scipy).
    """
    _check_mode(mode)
    x, k = _image_and_kernel(x, k)
    kh, kw = k.shape
    if mode == "valid":
        return corr2d(x, k)
    full = corr2d(np.pad(x, ((kh - 1, kh - 1), (kw - 1, kw - 1))), k)
    if mode == "full":
        return full
    top, left = (kh - 1) // 2, (kw - 1) // 2           # the same-size window scipy keeps
    return full[kh - 1 - top: kh - 1 - top + x.shape[0], kw - 1 - left: kw - 1 - left + x.shape[1]]


def convolve2d(x: ArrayLike, k: ArrayLike, mode: str = "full") -> np.ndarray:
    """2-D (flipped, mathematical) convolution with ``scipy.signal.convolve2d`` semantics.

    ``(X * K)[i, j] = sum_{u, v} X[i - u, j - v] K[u, v]``, computed as the cross-correlation with
    ``rot180(K)``. ``mode`` as in :func:`correlate2d` (``'same'`` keeps the centre of the full result).
    """
    _check_mode(mode)
    x, k = _image_and_kernel(x, k)
    kh, kw = k.shape
    full = correlate2d(x, rot180(k), "full") if mode != "valid" else corr2d(x, rot180(k))
    if mode != "same":
        return full
    top, left = (kh - 1) // 2, (kw - 1) // 2           # the same-size window scipy keeps
    return full[top: top + x.shape[0], left: left + x.shape[1]]


def _signal_and_kernel(x: ArrayLike, k: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """A non-empty 1-D signal and a 1-D kernel as float arrays of their common dtype."""
    x = as_float_array(x, "x", ndim=1, layout="(L,)")
    k = as_float_array(k, "k", ndim=1, layout="(K,)")
    dtype = np.result_type(x.dtype, k.dtype)
    if x.size == 0 or k.size == 0:
        raise ValueError("x and k must not be empty")
    return x.astype(dtype, copy=False), k.astype(dtype, copy=False)


def _crop_1d(full: np.ndarray, n: int, m: int, mode: str, shorter_first_reversed: bool = False) -> np.ndarray:
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


def correlate1d(x: ArrayLike, k: ArrayLike, mode: str = "valid") -> np.ndarray:
    """1-D cross-correlation with ``numpy.correlate`` semantics (default ``mode='valid'`` as numpy).

    ``y[t] = sum_u x[t + u] k[u]``: ``'valid'`` has length ``|L - K| + 1``, ``'full'`` ``L + K - 1``
    (pad ``K - 1`` zeros on both sides), ``'same'`` ``max(L, K)``, centred as numpy.
    """
    _check_mode(mode)
    x, k = _signal_and_kernel(x, k)
    n, m = len(x), len(k)
    padded = np.pad(x, (m - 1, m - 1))
    full = sliding_window_view(padded, m) @ k           # full[t] = sum_u x[t + u - (K - 1)] k[u]
    return _crop_1d(full, n, m, mode, shorter_first_reversed=n < m)


def convolve1d(x: ArrayLike, k: ArrayLike, mode: str = "full") -> np.ndarray:
    """1-D convolution with ``numpy.convolve`` semantics (default ``mode='full'`` as numpy).

    ``y[t] = sum_u x[t - u] k[u]`` = cross-correlation with the reversed kernel. With ``mode='full'``
    the result has length ``L + K - 1``; e.g. the sum of two dice is ``convolve1d(p, p)``.
    """
    _check_mode(mode)
    x, k = _signal_and_kernel(x, k)
    full = correlate1d(x, k[::-1], "full")
    return _crop_1d(full, len(x), len(k), mode)


def frequency_response(w: ArrayLike, omega: ArrayLike) -> np.ndarray:
    """The frequency response of a 1-D filter: ``w_hat(omega) = sum_u w[u] exp(-1j omega u)``.

    A complex sinusoid ``x_t = exp(1j omega t)`` comes out of the convolution ``y = w * x`` as
    ``y_t = w_hat(omega) x_t``: scaled by the gain ``|w_hat(omega)|`` and shifted in phase. At the DFT
    frequencies ``omega = 2 pi f / n`` it equals ``numpy.fft.fft(w, n)[f]``.

    Parameters
    ----------
    w : array (k,)
        The filter taps ``w[0], ..., w[k - 1]``.
    omega : float or array of any shape
        Angular frequencies in radians per sample (``pi`` is the fastest wave, sign changing every
        sample).

    Returns
    -------
    complex array of the shape of ``omega``
    """
    w = as_float_array(w, "w", ndim=1, layout="(k,)")
    if w.shape[0] == 0:
        raise ValueError("w must have at least one tap, got an empty array")
    omega = as_float_array(omega, "omega")
    return np.exp(-1j * np.multiply.outer(omega, np.arange(w.shape[0]))) @ w


def rot180(k: ArrayLike) -> np.ndarray:
    """Rotate a kernel by 180 degrees: flip the last two axes.

    ``rot180(K)[..., u, v] = K[..., k_h - 1 - u, k_w - 1 - v]``. Returns a new array.
    """
    k = np.asarray(k)
    if k.ndim < 2:
        raise ValueError(f"k must have at least 2 dimensions, got shape {k.shape}")
    return np.flip(k, axis=(-2, -1)).copy()


def pad2d(x: ArrayLike, padding: int | Sequence[int], value: float = 0) -> np.ndarray:
    """Pad the last two axes of ``x`` with a constant (zeros by default).

    ``padding`` is an int (all four sides), a pair ``(p_h, p_w)`` or ``(top, bottom, left, right)``.
    An ``(..., H, W)`` array becomes ``(..., H + top + bottom, W + left + right)``.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions, got shape {x.shape}")
    top, bottom, left, right = padding_sides(padding)
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(x, widths, constant_values=value)


def insert_zeros(x: ArrayLike, stride: IntOrTuple) -> np.ndarray:
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


def dilate_kernel(k: ArrayLike, dilation: IntOrTuple) -> np.ndarray:
    """The equivalent dense kernel of a dilated kernel: ``d - 1`` zeros between neighbouring taps.

    A ``k_h x k_w`` kernel becomes ``(k_h + (k_h - 1)(d_h - 1)) x (k_w + (k_w - 1)(d_w - 1))``;
    correlating with it equals correlating with dilation ``d``. (Same operation as
    :func:`insert_zeros` with ``stride = dilation``.)
    """
    k = np.asarray(k)
    if k.ndim < 2:
        raise ValueError(f"k must have at least 2 dimensions, got shape {k.shape}")
    return insert_zeros(k, positive_tuple(dilation, "dilation", 2))


def _out_size(args: UnfoldArgs, size: tuple[int, int], name: str) -> tuple[int, int]:
    """The window positions (H_out, W_out) on an (H, W) image, the error naming the image argument."""
    try:
        return args.out_size(size)
    except ValueError as error:
        raise ValueError(f"{error} ({name} of spatial shape {tuple(size)})") from None


def im2col(x: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple = 1, padding: int | Sequence[int] = 0,
           dilation: IntOrTuple = 1) -> np.ndarray:
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
    args = unfold_args(kernel_size, stride, padding, dilation)
    (kh, kw), (ho, wo) = args.kernel_size, _out_size(args, x.shape[-2:], "x")
    n, c = x.shape[:2]
    windows = sliding_windows(pad2d(x, args.padding), args.kernel_size, args.stride, args.dilation)
    cols = windows.reshape(n, c * kh * kw, ho * wo)
    return cols[0] if unbatched else cols


def col2im(cols: ArrayLike, input_shape: Sequence[int], kernel_size: IntOrTuple, stride: IntOrTuple = 1,
           padding: int | Sequence[int] = 0, dilation: IntOrTuple = 1) -> np.ndarray:
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
    args = unfold_args(kernel_size, stride, padding, dilation)
    (kh, kw), (sh, sw), (top, bottom, left, right), (dh, dw) = args.kernel_size, args.stride, args.padding, \
        args.dilation
    shape = tuple(int_tuple(tuple(input_shape), "input_shape", len(tuple(input_shape))))
    if len(shape) < 2:
        raise ValueError(f"input_shape must end with (H, W), got {shape}")
    h, w = shape[-2:]
    n, rows, length = cols.shape
    if rows % (kh * kw):
        raise ValueError(f"cols must have C * {kh} * {kw} rows, got {rows}")
    c = rows // (kh * kw)
    if len(shape) >= 3 and shape[-3] != c:
        raise ValueError(f"input_shape {shape} has {shape[-3]} channels but cols hold {c}")
    ho, wo = _out_size(args, (h, w), "input_shape")
    if ho * wo != length:
        raise ValueError(f"cols must have H_out * W_out = {ho} * {wo} = {ho * wo} columns, got {length}")
    blocks = cols.reshape(n, c, kh, kw, ho, wo)
    xp = np.zeros((n, c, h + top + bottom, w + left + right), cols.dtype)
    for u in range(kh):                   # one strided slice per kernel tap: k_h k_w additions
        for v in range(kw):
            i0, j0 = u * dh, v * dw
            xp[:, :, i0: i0 + sh * (ho - 1) + 1: sh, j0: j0 + sw * (wo - 1) + 1: sw] += blocks[:, :, u, v]
    x = xp[:, :, top: top + h, left: left + w]
    return x[0] if unbatched else x


def conv_matrix(kernel: ArrayLike, input_shape: Sequence[int]) -> np.ndarray:
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
    ho, wo = shapes.conv_output_size((h, w), (kh, kw))
    c = np.zeros((ho * wo, h * w), k.dtype)
    for i in range(ho):
        for j in range(wo):
            for u in range(kh):
                for v in range(kw):
                    c[i * wo + j, (i + u) * w + (j + v)] = k[u, v]
    return c
