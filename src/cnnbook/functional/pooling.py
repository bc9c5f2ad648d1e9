"""Max and average pooling, forward and backward, vectorised with sliding windows.

Notation (see the book's intro): input ``X`` of shape (N, C, H, W) (or unbatched (C, H, W)), kernel
``k = (k_h, k_w)``, stride ``s``, padding ``p``, dilation ``d``; the output ``Y`` has shape
(N, C, H_out, W_out) with, per axis,

    H_out = floor((H + 2p - d(k-1) - 1) / s) + 1        (ceil instead of floor in ``ceil_mode``;
                                                          a last window starting in the right padding
                                                          is dropped, as in torch)

Window ``(i, j)`` reads the input rows ``i*s + u*d - p`` for ``u = 0..k_h-1`` (likewise columns).
The fast path loops only over the ``k_h * k_w`` offsets ``(u, v)`` inside a window, never over output
positions: offset ``(u, v)`` of every window at once is one strided view of the padded input
(``X_pad[..., u d_h :: s_h, v d_w :: s_w]``, shape (N, C, H_out, W_out)); no copy of the windows is
made, except one for the arg-max of small windows side by side (stride = kernel, e.g. 2x2/2), whose
offsets are copied into contiguous planes in one pass (:func:`_offset_planes`) because NumPy compares
strided operands one element at a time. The forward passes reduce in two stages, each window row over its ``k_w`` columns (views
``X_pad[..., v d_w :: s_w]`` of every row windows read), then those row results over the ``k_h`` rows
of each window: ``k_w + k_h - 2`` whole-array operations (``np.maximum(..., out=)`` or ``np.add``)
instead of ``k_h k_w - 1``, the first stage on arrays as tall as the input. The backward passes send
the upstream gradient back through the offset views (a plain assignment when windows do not overlap).
A large input is pooled a chunk of samples at a time (:data:`_CHUNK_BYTES`), so that each chunk stays in
the core's cache over those passes, and split between threads (:func:`_by_parts`).
The loop versions in :mod:`cnnbook.reference.pooling` spell out the same formulas index by index; sizes come from
:func:`cnnbook.shapes.pool_output_size`.
"""
from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import IntOrTuple, PoolArgs, check_bool, check_divisor_override, pool_args
from .activation import _zero_where
from .conv import _by_samples, _finite

__all__ = ["max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward"]


# --------------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------------
def _pad_after(a: PoolArgs) -> tuple[int, int]:
    """Padding after the input along H and W: ``p``, or more if the last window reaches further.

    In ``ceil_mode`` the last window may run past ``H + p``; those cells are padding too. The windows
    cover ``(H_out - 1) s + d(k - 1) + 1`` cells, the output size of a transposed convolution.
    """
    return tuple(max(p, (o - 1) * s + d * (k - 1) + 1 - n - p) for n, p, o, s, d, k in
                 zip(a.input.shape[-2:], a.padding, a.out_size, a.stride, a.dilation, a.kernel_size))


def _padded_shape(a: PoolArgs) -> tuple[int, int]:
    after = _pad_after(a)
    return tuple(n + p + q for n, p, q in zip(a.input.shape[-2:], a.padding, after))


def _padded(a: PoolArgs, value: float) -> np.ndarray:
    """The input padded with ``value``: ``p`` before each axis, :func:`_pad_after` after it (the input
    itself when there is nothing to pad)."""
    (ph, pw), (qh, qw) = a.padding, _pad_after(a)
    if not (ph or pw or qh or qw):
        return a.input
    n, c, h, w = a.input.shape
    xp = np.full((n, c, h + ph + qh, w + pw + qw), value, a.dtype)
    xp[:, :, ph:ph + h, pw:pw + w] = a.input
    return xp


def _offset_slice(u: int, v: int, a: PoolArgs) -> tuple:
    """Index of the padded-input cells that offset (u, v) of every window touches (shape H_out, W_out)."""
    (sh, sw), (dh, dw), (ho, wo) = a.stride, a.dilation, a.out_size
    r0, c0 = u * dh, v * dw
    return (Ellipsis, slice(r0, r0 + (ho - 1) * sh + 1, sh), slice(c0, c0 + (wo - 1) * sw + 1, sw))


def _offsets(a: PoolArgs):
    """``(t, u, v)`` for every offset of a window in row-major scan order, ``t = u*k_w + v``."""
    kh, kw = a.kernel_size
    return [(u * kw + v, u, v) for u in range(kh) for v in range(kw)]


def _non_overlapping(a: PoolArgs) -> bool:
    """Whether every padded cell belongs to at most one window (stride >= the dilated kernel)."""
    return all(s >= d * (k - 1) + 1 for s, d, k in zip(a.stride, a.dilation, a.kernel_size))


#: Size of an input x window cells from which a call splits its samples between threads (even threads
#: asleep: a call this large takes milliseconds, and waking one costs a fraction of one).
_PARALLEL_WORK = 2e6


def _by_parts(a: PoolArgs, fn, *per_sample: np.ndarray):
    """``fn(a, *per_sample)``, with the samples split between threads for a large input (as the
    convolutions do, :func:`cnnbook.functional.conv._by_samples`; every sample is pooled on its own, so
    the results are the same), the parts' arrays concatenated. ``per_sample`` arrays (N, ...) are split
    with the input. A part larger than twice :data:`_CHUNK_BYTES` of input is pooled a chunk of samples
    at a time, in order."""
    n, work = a.input.shape[0], a.input.size * a.kernel_size[0] * a.kernel_size[1]
    sample = max(1, a.input[:1].nbytes)   # bytes of one sample (1 for an empty batch)

    def samples(n0: int, n1: int):
        return fn(replace(a, input=a.input[n0:n1],
                          grad_output=None if a.grad_output is None else a.grad_output[n0:n1]),
                  *(x[n0:n1] for x in per_sample))

    def chunks(n0: int, n1: int):
        if (n1 - n0) * sample <= 2 * _CHUNK_BYTES:
            return samples(n0, n1)
        step = max(1, _CHUNK_BYTES // sample)
        return _joined([samples(c, min(n1, c + step)) for c in range(n0, n1, step)])

    if n == 1 or work < _PARALLEL_WORK:
        return chunks(0, n)
    return _joined(_by_samples(n, work, chunks, blas=False, threshold=_PARALLEL_WORK, asleep=_PARALLEL_WORK))


#: Input bytes pooled at a time (whole samples) when a thread's part holds more than twice as many: the
#: padded copy of a larger block and its gradient no longer stay in the core's cache between the
#: ``k_h k_w`` strided passes over them (the ResNet-size 3x3 max pooling: about 20% faster in chunks;
#: a part no larger than the core's cache is faster in one piece, without the concatenation).
_CHUNK_BYTES = 1 * 2**20


def _joined(parts: list):
    """The parts' arrays (or tuples of arrays) concatenated along the samples."""
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(p) for p in zip(*parts))
    return np.concatenate(parts)


def _crop(gp: np.ndarray, a: PoolArgs) -> np.ndarray:
    """The input's cells of a gradient on the padded input, in the caller's layout."""
    (ph, pw), (h, w) = a.padding, a.input.shape[-2:]
    return a.finish(np.ascontiguousarray(gp[..., ph: ph + h, pw: pw + w]))


# --------------------------------------------------------------------------------------------------
# max pooling
# --------------------------------------------------------------------------------------------------
def _column_views(xp: np.ndarray, a: PoolArgs) -> list[np.ndarray]:
    """Offset ``v`` of every window along the rows windows read: ``X_pad[..., :H_r, v d_w :: s_w]``
    for ``v = 0..k_w-1``, each (N, C, H_r, W_out), ``H_r = (H_out - 1) s_h + d_h (k_h - 1) + 1``."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = a.kernel_size, a.stride, a.dilation, a.out_size
    rows = (ho - 1) * sh + dh * (kh - 1) + 1
    return [xp[..., :rows, v * dw: v * dw + (wo - 1) * sw + 1: sw] for v in range(kw)]


def _row_views(r: np.ndarray, a: PoolArgs) -> list[np.ndarray]:
    """Offset ``u`` of every window in an array of rows (N, C, H_r, W_out): ``r[..., u d_h :: s_h, :]``
    for ``u = 0..k_h-1``, each (N, C, H_out, W_out)."""
    (kh, _), (sh, _), (dh, _), (ho, _) = a.kernel_size, a.stride, a.dilation, a.out_size
    return [r[..., u * dh: u * dh + (ho - 1) * sh + 1: sh, :] for u in range(kh)]


def _window_max(a: PoolArgs, xp: np.ndarray) -> np.ndarray:
    """``max_u max_v X_pad[..., i s_h + u d_h, j s_w + v d_w]``: the maximum of each window row first
    (``k_w`` column views), then of those row maxima (``k_h`` views of rows), with ``np.maximum``.

    A window's maximum is the maximum of its rows' maxima, so ``k_w + k_h - 2`` whole-array operations
    do what ``k_h k_w - 1`` do over the offset views (the first stage's arrays are as tall as the rows
    the windows read). ``np.maximum`` propagates NaN, so a window holding a
    NaN gives NaN (as torch); padding is -inf and never raises a maximum, and a window made only of
    padding gives -inf (as torch).
    """
    return _fold(np.maximum, _row_views(_fold(np.maximum, _column_views(xp, a), copy=False), a))


def _fold(op, views: list[np.ndarray], copy: bool = True) -> np.ndarray:
    """``op`` over the views, ``op(op(v0, v1), v2)...``, into a new array (``views[0]`` itself when it is
    the only one and not ``copy``)."""
    if len(views) == 1:
        return views[0].copy() if copy else views[0]
    out = op(views[0], views[1])
    for view in views[2:]:
        op(out, view, out=out)
    return out


def _inside(u: int, v: int, a: PoolArgs) -> np.ndarray | None:
    """(H_out, W_out) mask: where offset (u, v) of a window is a real input cell; None if it always is."""
    (sh, sw), (ph, pw), (dh, dw), (ho, wo) = a.stride, a.padding, a.dilation, a.out_size
    h, w = a.input.shape[-2:]
    r = np.arange(ho) * sh - ph + u * dh
    c = np.arange(wo) * sw - pw + v * dw
    rows, cols = (r >= 0) & (r < h), (c >= 0) & (c < w)
    return None if rows.all() and cols.all() else rows[:, None] & cols[None, :]


def _scatter(a: PoolArgs, part) -> np.ndarray:
    """``dX_pad[offset (u, v) of every window] += part(t)`` for every offset ``t = u*k_w + v``, cropped.

    Within one offset the windows touch distinct cells, so ``+=`` on the strided view is exact; when no
    two windows overlap (stride >= dilated kernel) every cell gets one term and a plain assignment is
    enough (the cells no window covers stay 0): ``part(t, out)`` then writes straight into the view
    (``out`` is None where it returns its terms to be added).
    """
    shape = _padded_shape(a)
    assign = _non_overlapping(a)
    tiled = all(s == k and d == 1 and o * k == n for s, k, d, o, n in
                zip(a.stride, a.kernel_size, a.dilation, a.out_size, shape))
    # windows that tile the padded input write every cell once; else the cells no window covers stay 0
    gp = (np.empty if tiled else np.zeros)(a.input.shape[:2] + shape, dtype=a.dtype)
    for t, u, v in _offsets(a):
        view = gp[_offset_slice(u, v, a)]
        if assign:
            part(t, view)
        else:
            view += part(t, None)
    return _crop(gp, a)


def _max_argmax(a: PoolArgs) -> tuple[np.ndarray, np.ndarray]:
    """Window maxima and the offset ``u*k_w + v`` of the arg-max inside each window (-1: no real cell).

    torch's rule, a scan of the offsets in row-major order keeping the *first* maximum of a window (a
    strict ``>``), except that a NaN always wins (the *last* NaN in scan order); padding cells never win,
    so a window of real -inf values points at its first real cell. Computed offset by offset on whole
    arrays, by one forward scan (:func:`_running_argmax`), exact unless some window's maximum is NaN or
    -inf. Then again, from those maxima: scanning the offsets, the arg-max becomes the smallest offset
    whose real cell equals the maximum, and for windows whose maximum is NaN, every offset holding a NaN
    (the last one wins).
    """
    xp = _padded(a, -np.inf)
    offsets = _offsets(a)
    itype = np.int8 if len(offsets) < 127 else np.int32
    best, arg = _running_argmax(a, xp, offsets, itype)
    if _finite(best):     # no NaN, no -inf (nor +inf, nor maxima near the dtype's range: exact below too)
        return best, arg
    # the smallest offset whose real cell equals the maximum, as a running minimum of "t where it does,
    # none elsewhere": arithmetic on whole arrays, no branch per cell (a masked write, np.putmask or
    # np.where, branches on every cell of a random mask and is several times slower)
    none = np.iinfo(itype).max
    arg = np.full(best.shape, none, itype)
    cand = np.empty(best.shape, itype)
    inside = {(u, v): _inside(u, v, a) for _, u, v in offsets} if xp is not a.input else {}
    for t, u, v in offsets:
        hit = xp[_offset_slice(u, v, a)] == best
        if inside.get((u, v)) is not None:
            hit &= inside[(u, v)]
        np.multiply(hit, itype(none - t), out=cand)       # none - t where hit, else 0
        np.subtract(none, cand, out=cand)                  # t where hit, else none
        np.minimum(arg, cand, out=arg)
    arg[arg == none] = -1
    nan = np.isnan(best)
    if nan.any():
        for t, u, v in offsets:
            np.putmask(arg, nan & np.isnan(xp[_offset_slice(u, v, a)]), t)
    return best, arg


def _running_argmax(a: PoolArgs, xp: np.ndarray, offsets, itype) -> tuple[np.ndarray, np.ndarray]:
    """Window maxima and arg-max (the offset ``u k_w + v``), torch's rule exactly wherever the maximum is
    a number above -inf (padding, -inf, then never holds it).

    Up to 4 offsets, one scan of the offsets (:func:`_offset_planes`) in row-major order. Larger windows
    in two stages as :func:`_window_max` (measured faster from 3x3 on, slower for 2x2): the first maximum
    of every window row over ``v``, then the first row maximum over ``u``. The first maximum of the
    window in row-major order is the first maximum of the first row holding the window's maximum."""
    if len(offsets) <= 4:
        return _scan(_offset_planes(xp, a, offsets), itype)
    kw = a.kernel_size[1]
    row_max, row_arg = _scan(_column_views(xp, a), itype)
    best, u_arg = _scan(_row_views(row_max, a), itype)
    row_args = _row_views(row_arg, a)
    arg = row_args[0].astype(itype)   # t = v of row 0 where row 0 wins; for u >= 1, u k_w + v of row u
    step = np.empty(arg.shape, itype)
    for u, v_arg in enumerate(row_args[1:], start=1):
        np.add(v_arg, itype(u * kw), out=step)
        step -= arg
        step *= u_arg == u
        arg += step
    return best, arg


def _offset_planes(xp: np.ndarray, a: PoolArgs, offsets) -> list[np.ndarray]:
    """The cells of every window at each offset ``(u, v)``, (N, C, H_out, W_out) each, in scan order:
    views of ``xp``, or, for windows side by side (stride = kernel, no dilation), contiguous copies made
    by one pass over the input. NumPy compares strided operands element by element, contiguous ones
    several at a time: for LeNet's 2x2 pooling the copy and a scan of the copies take about 0.6x the
    time of a scan of the views."""
    (kh, kw), (ho, wo) = a.kernel_size, a.out_size
    if a.stride != (kh, kw) or a.dilation != (1, 1):
        return [xp[_offset_slice(u, v, a)] for _, u, v in offsets]
    n, c = xp.shape[:2]
    windows = xp[..., :ho * kh, :wo * kw].reshape(n, c, ho, kh, wo, kw)
    planes = np.empty((kh, kw, n, c, ho, wo), xp.dtype)
    np.copyto(planes, windows.transpose(3, 5, 0, 1, 2, 4))
    return [planes[u, v] for _, u, v in offsets]


def _scan(views: list[np.ndarray], itype) -> tuple[np.ndarray, np.ndarray]:
    """The maximum over the views in order and the index of the first view holding it: the running
    maximum, and the last index at which it strictly rose (a later equal value does not rise), kept as a
    running maximum of "index where it rose, else 0" (arithmetic on whole arrays, no branch per cell).
    A single view is copied."""
    if len(views) == 1:
        return views[0].copy(), np.zeros(views[0].shape, itype)
    rose = np.greater(views[1], views[0])
    best = np.maximum(views[0], views[1])
    arg = rose.astype(itype)
    cand = np.empty(best.shape, itype)
    for t, x in enumerate(views[2:], start=2):
        np.greater(x, best, out=rose)
        np.maximum(best, x, out=best)
        np.multiply(rose, itype(t), out=cand)              # t where the maximum rose, else 0
        np.maximum(arg, cand, out=arg)
    return best, arg


def max_pool2d(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
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
    a = pool_args(input, kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices:
        return _by_parts(a, lambda b: b.finish(_window_max(b, _padded(b, -np.inf))))
    return _by_parts(a, _max_with_indices)


def _max_with_indices(a: PoolArgs) -> tuple[np.ndarray, np.ndarray]:
    best, arg = _max_argmax(a)
    return a.finish(best), a.finish(_flat_indices(arg, a))


def _flat_indices(arg: np.ndarray, a: PoolArgs) -> np.ndarray:
    """Turn window offsets ``u*k_w + v`` into flat input-plane positions ``h*W + w``.

    A window made only of padding cells (possible with dilation, e.g. k=2, d=2, p=1 on a 1-pixel
    axis) has no arg-max (``arg == -1``); its value is -inf and, like torch, its index is that of the
    window's first tap at a non-negative row and column, even though it lies outside the input.
    """
    (_, kw), (sh, sw), (ph, pw), (dh, dw), out = a.kernel_size, a.stride, a.padding, a.dilation, a.out_size
    arg = arg.astype(np.int64)
    u, v = np.divmod(arg, kw)
    h0 = np.arange(out[0])[:, None] * sh - ph
    w0 = np.arange(out[1])[None, :] * sw - pw
    h = np.where(arg >= 0, h0 + u * dh, _first_nonnegative(h0, dh))
    w = np.where(arg >= 0, w0 + v * dw, _first_nonnegative(w0, dw))
    return (h * a.input.shape[-1] + w).astype(np.int64)


def _first_nonnegative(start: np.ndarray, d: int) -> np.ndarray:
    """``start + m*d`` for the smallest m >= 0 making it >= 0 (torch's ``while (h < 0) h += d``)."""
    return np.where(start < 0, start + (-start + d - 1) // d * d, start)


def max_pool2d_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                        stride: IntOrTuple | None = None, padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                        ceil_mode: bool = False) -> np.ndarray:
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
    a = pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, grad_output=grad_output)
    return _by_parts(a, _max_backward)


def _max_backward(a: PoolArgs) -> np.ndarray:
    _, arg = _max_argmax(a)
    return _route(a, arg)


def _max_pool2d_saving(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                       padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                       ceil_mode: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`max_pool2d` and the arg-max of every window (offset ``u k_w + v``, (N, C, H_out, W_out)),
    which :func:`_max_pool2d_backward_saved` takes instead of finding it again (what
    :class:`cnnbook.nn.MaxPool2d` does in training, as torch's layer keeps its indices)."""
    a = pool_args(input, kernel_size, stride, padding, dilation, ceil_mode)
    best, arg = _by_parts(a, _max_argmax)
    return a.finish(best), arg


def _max_pool2d_backward_saved(grad_output: ArrayLike, input: ArrayLike, arg: np.ndarray,
                               kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                               padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                               ceil_mode: bool = False) -> np.ndarray:
    """:func:`max_pool2d_backward` given the arg-max ``arg`` that :func:`_max_pool2d_saving` returned
    for the same ``input`` and arguments."""
    a = pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, grad_output=grad_output)
    return _by_parts(a, _route, arg)


def _route(a: PoolArgs, arg: np.ndarray) -> np.ndarray:
    """``G`` sent to the arg-max ``arg`` (offset ``u k_w + v``) of each window: :func:`_scatter` of ``G``
    where offset ``t`` is the arg-max, +0 elsewhere. A finite ``G`` is multiplied by the 0/1 mask; a
    ``G`` holding NaN or infinity is and-ed bit by bit with all ones or all zeros instead
    (:func:`_zero_where`), so that it reaches only its arg-max, as in torch (``inf * 0`` would be NaN)."""
    g, routed = a.grad_output, np.empty(arg.shape, a.dtype)
    hit = np.empty(arg.shape, bool)
    if _finite(g):
        def part(t: int, out: np.ndarray | None) -> np.ndarray:
            return np.multiply(g, np.equal(arg, t, out=hit), out=routed if out is None else out)
    else:
        def part(t: int, out: np.ndarray | None) -> np.ndarray:
            return _zero_where(np.not_equal(arg, t, out=hit), g, out=routed if out is None else out)

    return _scatter(a, part)


# --------------------------------------------------------------------------------------------------
# average pooling
# --------------------------------------------------------------------------------------------------
def _avg_counts(size: int, k: int, s: int, p: int, out: int, count_include_pad: bool) -> np.ndarray:
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


def _avg_divisor(a: PoolArgs, count_include_pad: bool, divisor_override: int | None) -> np.ndarray | int:
    """``D[i, j]`` (H_out, W_out) in ``a.dtype``, or the constant ``divisor_override`` when one is given."""
    if divisor_override is not None:
        return divisor_override
    return _divisor_table(a.input.shape[-2:], a.kernel_size, a.stride, a.padding, a.out_size, count_include_pad,
                          a.dtype)


@functools.lru_cache(maxsize=256)
def _divisor_table(size, kernel, stride, padding, out, count_include_pad: bool, dtype) -> np.ndarray:
    """:func:`_avg_divisor`'s table, computed once per geometry (read-only)."""
    rows, cols = (_avg_counts(n, k, s, p, o, count_include_pad)
                  for n, k, s, p, o in zip(size, kernel, stride, padding, out))
    table = np.maximum(rows[:, None] * cols[None, :], 1).astype(dtype)  # >= 1 guards empty windows
    table.flags.writeable = False
    return table


def avg_pool2d(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> np.ndarray:
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
    divisor_override : int, optional
        If given (a nonzero int, as torch), every window sum is divided by it instead of ``D[i,j]``.

    Returns
    -------
    output : ndarray, shape (N, C, H_out, W_out) (or (C, H_out, W_out))
        ``H_out = floor((H + 2p - k)/s) + 1`` (ceil in ``ceil_mode``).
    """
    a = pool_args(input, kernel_size, stride, padding, 1, ceil_mode)
    count_include_pad = check_bool(count_include_pad, "count_include_pad")
    divisor_override = check_divisor_override(divisor_override)
    return _by_parts(a, lambda b: _avg_forward(b, count_include_pad, divisor_override))


def _avg_forward(a: PoolArgs, count_include_pad: bool, divisor_override: int | None) -> np.ndarray:
    xp = _padded(a, 0.0)   # the sum of each window row, then of those sums (as _window_max)
    total = _fold(np.add, _row_views(_fold(np.add, _column_views(xp, a), copy=False), a))
    total /= _avg_divisor(a, count_include_pad, divisor_override)
    return a.finish(total)


def avg_pool2d_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                        stride: IntOrTuple | None = None, padding: IntOrTuple = 0, ceil_mode: bool = False,
                        count_include_pad: bool = True, divisor_override: int | None = None) -> np.ndarray:
    """Gradient of :func:`avg_pool2d` with respect to its input.

    .. math:: \\frac{\\partial L}{\\partial X}[n,c,h,w] = \\sum_{(i,j):\\ (h,w) \\in \\text{window}(i,j)} \\frac{G[n,c,i,j]}{D[i,j]}

    Each upstream gradient is spread evenly, ``G/D``, over the cells of its window (the same divisor
    ``D`` as in the forward pass, or ``divisor_override``); overlapping windows add up; padding cells
    drop out.

    Parameters
    ----------
    grad_output : ndarray, shape (N, C, H_out, W_out) (or (C, H_out, W_out))
    input : ndarray, shape (N, C, H, W) (or (C, H, W))
        The forward input (only its shape is used); other arguments as in :func:`avg_pool2d`.

    Returns
    -------
    grad_input : ndarray, shape of ``input``
    """
    a = pool_args(input, kernel_size, stride, padding, 1, ceil_mode, grad_output=grad_output)
    count_include_pad = check_bool(count_include_pad, "count_include_pad")
    divisor_override = check_divisor_override(divisor_override)
    return _by_parts(a, lambda b: _avg_backward(b, count_include_pad, divisor_override))


def _avg_backward(a: PoolArgs, count_include_pad: bool, divisor_override: int | None) -> np.ndarray:
    share = a.grad_output / _avg_divisor(a, count_include_pad, divisor_override)

    def part(t: int, out: np.ndarray | None) -> np.ndarray:
        if out is not None:
            out[...] = share
        return share

    return _scatter(a, part)


# --------------------------------------------------------------------------------------------------
# adaptive average pooling (chapter 10)
# --------------------------------------------------------------------------------------------------
# (imported here, not at the top, so that this section stands apart from the one above)
from ..arguments import adaptive_pool_args  # noqa: E402

__all__ += ["adaptive_avg_pool2d", "adaptive_avg_pool2d_backward"]


def _bin_matrix(bins: tuple[tuple[int, int], ...], size: int, dtype: np.dtype) -> np.ndarray:
    """``A`` of shape (out, size) with ``A[i, h] = 1/(end_i - start_i)`` for ``h`` in bin ``i``, else 0:
    averaging along one axis is a product with ``A``."""
    a = np.zeros((len(bins), size), dtype=dtype)
    for i, (start, end) in enumerate(bins):
        a[i, start:end] = 1.0 / (end - start)
    return a


def adaptive_avg_pool2d(input: ArrayLike, output_size) -> np.ndarray:
    """Adaptive average pooling to a fixed output size, like ``torch.nn.functional.adaptive_avg_pool2d``.

    .. math:: Y[n,c,i,j] = \\frac{1}{|R_i| |C_j|} \\sum_{h \\in R_i} \\sum_{w \\in C_j} X[n,c,h,w]

    with the bins ``R_i = [floor(i H / H_out), ceil((i + 1) H / H_out))`` (likewise ``C_j``), torch's rule
    (:func:`cnnbook.shapes.adaptive_pool_bins`): any output size, also one that does not divide the input
    (neighbouring bins then overlap). ``output_size=1`` is global average pooling. Computed as
    ``Y = A_rows X A_cols^T`` with the averaging matrices of the two axes.

    Parameters
    ----------
    input : ndarray, shape (N, C, H, W) or (C, H, W)
    output_size : int or (int or None, int or None)
        ``None`` keeps that axis's input size.

    Returns
    -------
    output : ndarray, shape (N, C, H_out, W_out) (or (C, H_out, W_out))
    """
    a = adaptive_pool_args(input, output_size)
    rows = _bin_matrix(a.rows, a.input.shape[-2], a.dtype)
    cols = _bin_matrix(a.cols, a.input.shape[-1], a.dtype)
    return a.finish(rows @ a.input @ cols.T)


def adaptive_avg_pool2d_backward(grad_output: ArrayLike, input: ArrayLike, output_size) -> np.ndarray:
    """Gradient of :func:`adaptive_avg_pool2d` with respect to its input.

    .. math:: \\frac{\\partial L}{\\partial X}[n,c,h,w] = \\sum_{i: h \\in R_i} \\sum_{j: w \\in C_j}
              \\frac{G[n,c,i,j]}{|R_i| |C_j|}

    each upstream gradient spread evenly over its bin, overlapping bins adding up: ``A_rows^T G A_cols``.
    ``input`` is the forward input (only its shape is used).
    """
    a = adaptive_pool_args(input, output_size, grad_output=grad_output)
    rows = _bin_matrix(a.rows, a.input.shape[-2], a.dtype)
    cols = _bin_matrix(a.cols, a.input.shape[-1], a.dtype)
    return a.finish(rows.T @ a.grad_output @ cols)
