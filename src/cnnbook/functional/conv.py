"""Vectorised convolutions (forward and backward): im2col windows + BLAS matrix products, chunk by chunk.

Notation (NCHW): input ``X`` (N, C, H, W), weight ``W`` (C_out, C/groups, k_h, k_w), bias ``b`` (C_out,),
stride ``s``, zero padding ``p``, dilation ``d``, output ``Y`` (N, C_out, H_out, W_out) with
``H_out = floor((H + 2p - d(k_h - 1) - 1) / s) + 1`` and

    Y[n, o, i, j] = b[o] + sum_{c, u, v} X[n, c, i s + u d - p, j s + v d - p] W[o, c, u, v]

(``c`` running over the input channels of ``o``'s group). With im2col's matrix of sample ``n``,
``cols_n[(c, u, v), (i, j)] = X_pad[n, c, i s + u d, j s + v d]`` (K = C/groups k_h k_w rows, one
column per output position), the layer and its gradients are three matrix products per sample:

* forward: ``Y_n = W_mat @ cols_n``, ``W_mat`` (C_out, K) the weight with its taps flattened;
* ``grad_weight``: ``dW_mat = sum_n G_n @ cols_n^T`` (``G_n`` = dL/dY_n, (C_out, H_out W_out));
* ``grad_input``: ``dcols_n = W_mat^T @ G_n``, then col2im: every entry of ``dcols_n`` is added back to
  the cell of ``X_pad`` it was copied from (``k_h k_w`` strided slices, one per tap ``(u, v)``), and the
  padding is cropped. This is the book's "full correlation of the zero-inserted gradient with the
  rotated kernel" (``dX = crop_p(pad_full(insert_zeros(G, s)) star rot180(W^T))``), evaluated without
  materialising the zeros: the same sum, grouped by the entries of ``G`` instead of the cells of ``dX``.
  The same function is the transposed convolution.
* ``grad_bias``: the output gradient summed over the batch and the positions.

Speed (see ``benchmarks/run.py``): the columns are built for a block of samples (or of output rows of
one sample) at a time into one reused buffer of at most :data:`_COLS_BUDGET` bytes, so memory stays
bounded and the block stays in cache between the copy and the product; products write into their
destination (``out=``) or into one reused buffer; a product with fewer than :data:`_FEW_ROWS` output
rows (a first layer's few channels) is taken in cache-sized slices of columns, and its blocks of columns
are built no larger (:func:`_budget`; not col2im's, whose product has K rows). Each thread keeps these
buffers between calls (:func:`_workspace`; :func:`release_workspace` lets go of them). With stride 1
along the width the columns are "wide" (:func:`cnnbook.windows.sliding_windows_wide`): every tap's
columns are one contiguous run of the padded input, at the price of ``W_p - W_out`` discarded columns
per row; then tap ``(u, v)``'s columns are tap ``(u, 0)``'s shifted by ``v d_w``, so only the first
column of taps is copied and the weight's ``k_w`` columns of taps, stacked as rows, multiply it, the
product's ``k_w`` blocks of rows added shifted (:func:`_stacked_sum`; for ``C/groups k_h`` of at least
:data:`_STACK_MIN`). col2im sums the taps of a kernel row along the columns before adding them in, in
the same way: by one product of the weight with the gradient and its shifted copies stacked, or for
few rows by adding shifted blocks of the product (:func:`_kernel_row_sum`). With stride 1 the input
gradient is the correlation above when its product is the larger one (``C/groups`` rows, inner
dimension ``C_out/groups k_h k_w``), col2im otherwise. The weight gradient comes from the same pass
over the blocks: with the correlation, from the columns of the padded gradient and the input itself
(rotated back, ``dW`` is the weight gradient of that correlation for the upstream ``X``; with stacked
columns, from the input and its shifted copies); with col2im, from the same copy of each block of the
gradient and the input's columns (when the two have the same blocks). A large call splits its samples
between threads, each with a single-threaded BLAS (:func:`_by_samples`; a small one only while they
are awake, as in a loop of calls). A first layer (few input channels, stride 1) takes its products
sample by sample instead (:func:`_by_sample_columns`): a block of samples' im2col matrices stacked
``(samples, K, H_out W_out)`` and one batched product per block, which writes each ``Y_n`` straight
into the output and reads each ``G_n`` in place. The layout stays NCHW throughout.

Unbatched inputs ``(C, H, W)`` (``(C, L)`` for 1-D) are accepted like torch and give unbatched results.
float32 inputs give float32 results, float64 (or mixed) give float64.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import ConvArgs, IntOrTuple, Padding, check_output_mask, conv_args, conv_transpose_args
from ..windows import _out_length, sliding_windows, sliding_windows_wide

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "conv1d_backward", "conv2d_backward",
           "conv_transpose2d_backward"]

#: Largest im2col block (bytes) built at once by one thread: a block of samples, or of output rows of one
#: sample (a call split between threads holds one per thread: for the smallest layers several times their
#: input + output, a few MB in all; faster than sharing one budget).
_COLS_BUDGET = 2 * 2**20

#: Work (floating-point operations) from which a call splits its samples between threads: from about
#: 0.3 ms of products (LeNet's second layer, forward), where the halves gain more than handing one to a
#: thread costs. Below, two threads lose: each half of a call carries the whole call's Python and
#: small copies, which run one thread at a time (measured in a loop of calls, split / one thread: the
#: backward of a 32x32x4x4 3x3 layer, 19 MFLOP, 1.6x slower; LeNet's first layer forward, 15 MFLOP,
#: 1.5x; LeNet's second forward, 31 MFLOP, 0.87x).
_PARALLEL_WORK = 30e6

#: Largest scratch area (bytes) a thread keeps between calls (:func:`_workspace`): a few column
#: budgets, or the padded input of a block of samples of a ResNet-size layer.
_KEEP = 8 * 2**20

_blas = None        # threadpoolctl's controller of NumPy's BLAS library, found on first use
_executor = None


def _blas_threads() -> int:
    """The number of threads NumPy's BLAS may use (``threadpoolctl``'s view): the number of cores the
    caller allows, which the fast paths also use for their own copies and additions."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        found = ThreadpoolController().select(user_api="blas").lib_controllers
        _blas = found[0] if found else False
    return _blas.num_threads if _blas else 1


def _by_samples(n: int, work: float, fn, blas: bool = True, threshold: float | None = None,
                asleep: float | None = None) -> list:
    """``[fn(n0, n1), ...]`` over consecutive sample ranges covering ``0:n``, with NumPy's BLAS library
    single-threaded meanwhile (``blas``; its thread count is restored afterwards).

    One range, in the caller's thread, unless the call holds at least ``threshold`` operations (default
    :data:`_PARALLEL_WORK`) and the BLAS library may use several threads: then one range per thread, run
    in parallel (NumPy releases the interpreter lock in its copies, arithmetic and products). So the
    cores the caller allows serve the copies and additions around the products too (NumPy runs those on
    one core), and no product of a convolution (skinny, or small) is split between BLAS threads, which
    on a busy machine wait for each other. Below ``asleep`` operations (default
    :data:`_PARALLEL_WORK_ASLEEP`) the ranges are handed to the other threads only if the previous call
    cut into ranges ended less than :data:`_AWAKE` ago (a loop of such calls, which keeps the threads
    awake); otherwise the caller computes them one after the other. Each range's results are computed
    exactly as in one thread, whichever thread computes it, and sums over the ranges are added in range
    order: a given number of threads always gives the same numbers.
    """
    global _executor, _last_split
    allowed = _blas_threads()
    threads = min(allowed, n) if work >= (_PARALLEL_WORK if threshold is None else threshold) else 1
    if blas and allowed > 1:
        _blas.set_num_threads(1)
    try:
        if threads <= 1:
            return [fn(0, n)]
        bounds = [n * t // threads for t in range(threads + 1)]
        ranges = list(zip(bounds[:-1], bounds[1:]))
        if work < (_PARALLEL_WORK_ASLEEP if asleep is None else asleep) and \
                time.perf_counter() - _last_split > _AWAKE:
            return [fn(*r) for r in ranges]   # the same ranges, one after the other: the same numbers
        if _executor is None:
            from concurrent.futures import ThreadPoolExecutor

            _executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="cnnbook")
        others = [_executor.submit(fn, *r) for r in ranges[1:]]   # the caller computes the first range itself
        first = fn(*ranges[0])
        return [first] + [f.result() for f in others]
    finally:
        if threads > 1:
            _last_split = time.perf_counter()
        if blas and allowed > 1:
            _blas.set_num_threads(allowed)


#: Seconds after a call split between threads within which the next one finds the threads awake. A
#: thread left idle longer is asleep: on a virtual machine, waking it takes 0.1-0.2 ms (under 0.02 ms
#: within half a millisecond), and its core's cache has gone cold; inside a training step, where a
#: layer's next call comes milliseconds later, handing a small layer's half to it was measured slower
#: than computing both halves in turn.
_AWAKE = 1e-3

#: Work from which a call is split between threads even when they are asleep (a CIFAR-size layer's
#: backward pass and up).
_PARALLEL_WORK_ASLEEP = 100e6
_last_split = -np.inf


_local = threading.local()
_all_spaces: list[dict] = []        # every thread's scratch areas, for release_workspace and workspace_bytes
_spaces_lock = threading.Lock()


def _workspace(role: str) -> _Buffer:
    """The calling thread's scratch area for one ``role`` (a :class:`_Buffer`), kept between calls.

    A convolution's blocks need the same few buffers call after call (padded input, columns, products,
    copies). Fresh memory costs a page fault per 4 KB page when it is first written, and on a virtual
    machine that hands freed pages back to its host a fault costs microseconds: for the small layers
    of the book, as long as the arithmetic. So each thread keeps its areas (up to :data:`_KEEP` bytes
    each); no array handed back to a caller is a view of one, and a role serves one use at a time."""
    spaces = getattr(_local, "spaces", None)
    if spaces is None:
        spaces = _local.spaces = {}
        with _spaces_lock:
            _all_spaces.append(spaces)
    if role not in spaces:
        spaces[role] = _Buffer()
    return spaces[role]


def workspace_bytes() -> int:
    """Bytes of scratch the convolutions keep between calls, over all threads (:func:`_workspace`)."""
    with _spaces_lock:
        return sum(b.data.nbytes for spaces in _all_spaces for b in list(spaces.values()))


def release_workspace() -> None:
    """Let go of the scratch areas of every thread (the memory returns once nothing uses it); the next
    call allocates them again."""
    with _spaces_lock:
        for spaces in _all_spaces:
            for b in list(spaces.values()):
                b.data = np.empty(0, np.uint8)


def _conv_work(n: int, out_size, weight_shape) -> float:
    """Multiply-adds x 2 of a convolution: ``2 N H_out W_out C_out (C/groups) k_h k_w``."""
    return 2.0 * n * out_size[0] * out_size[1] * float(np.prod(weight_shape))


# --------------------------------------------------------------------------------------------------
# the three kernels everything is built from
# --------------------------------------------------------------------------------------------------
def _padded(x: np.ndarray, pad: tuple[int, int, int, int], extra_row: bool = False,
            scratch: _Buffer | None = None) -> np.ndarray:
    """``x`` (N, C, H, W) with ``(top, bottom, left, right)`` zero rows/columns around each plane
    (and one more zero row at the bottom if ``extra_row``), in ``scratch``'s area if given."""
    top, bottom, left, right = pad
    if not any(pad) and not extra_row:
        return x
    n, c, h, w = x.shape
    shape = (n, c, h + top + bottom + extra_row, w + left + right)
    if scratch is None:
        xp = np.zeros(shape, x.dtype)
    else:   # a reused area: the border is written with zeros
        xp = scratch.area(int(np.prod(shape)) * x.itemsize).view(x.dtype).reshape(shape)
        if left or right:   # all of it: one contiguous run is faster than a few columns of every row
            xp.fill(0)
        else:
            xp[:, :, :top] = 0
            xp[:, :, top + h:] = 0
    xp[:, :, top:top + h, left:left + w] = x
    return xp


def _pad_or_crop(z: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    """Zero-pad the last two axes; a negative amount crops that many rows/columns instead."""
    z = z[..., max(0, -top): z.shape[-2] - max(0, -bottom), max(0, -left): z.shape[-1] - max(0, -right)]
    return _padded(z, (max(0, top), max(0, bottom), max(0, left), max(0, right)))


def _budget(channels: int) -> int:
    """The column budget of a block whose product has ``channels`` rows: :data:`_COLS_BUDGET`, or for
    fewer than :data:`_FEW_ROWS` rows :data:`_SLICE_BYTES` (at most): such a product is taken in slices
    that size anyway (:func:`_slices`), and a block no larger stays in the core's cache from its copy to
    its product."""
    return _COLS_BUDGET if channels >= _FEW_ROWS else min(_COLS_BUDGET, _SLICE_BYTES)


def _finite(a: np.ndarray) -> bool:
    """Whether every entry of ``a`` is a finite number, judged by the sum of their squares: a NaN or an
    infinity makes it NaN or infinite, and so, falsely, does a sum beyond the dtype's range (in float32
    3.4e38: entries of about 1e17 and more). Every caller chooses a path by it whose alternative, for
    inputs with NaN or infinities, is exact for any input, only slower. One BLAS dot product reads ``a``
    once and writes nothing: about half the time of ``np.isfinite(a).all()``, which writes a mask first."""
    flat = a.ravel()
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.dot(flat, flat)))


def _blocks(n: int, ho: int, row_bytes: int, budget: int):
    """``(n0, n1, i0, i1)``: samples ``n0:n1``, output rows ``i0:i1``, whose columns fit in ``budget`` bytes.

    ``row_bytes`` is the size of the columns of one output row of one sample. Whole samples are
    grouped while they fit; a sample larger than the budget is cut into blocks of output rows.
    """
    per_sample = row_bytes * ho
    if per_sample <= budget:
        step = max(1, budget // max(1, per_sample))
        return [(a, min(n, a + step), 0, ho) for a in range(0, n, step)]
    rows = max(1, budget // max(1, row_bytes))
    return [(a, a + 1, i, min(ho, i + rows)) for a in range(n) for i in range(0, ho, rows)]


class _Columns:
    """im2col of a convolution's input, block by block, into one reused buffer.

    A block of ``nb`` samples and ``rows`` output rows is laid out ``(K, nb, rows, pitch)``: the batch
    is folded into the columns, so one product serves the whole block (for one sample it is simply
    im2col's ``cols_n``). ``pitch`` is ``W_out``, or, with stride 1 along the width, the padded width
    ``W_p`` ("wide" columns): column ``j`` of row ``i`` then reads ``X_pad`` at flat offset
    ``(i s + u d) W_p + j + v d``, so every tap's columns are one contiguous run of the padded input
    (a fast copy); the ``W_p - W_out`` extra columns of each row are computed and thrown away.

    They hold entries of the next row. A weight gradient multiplies every column, the extra ones by the
    zeros of its gradient columns: an infinite or NaN entry there would give NaN (``inf * 0``) where the
    exact sum has none. So columns for a weight gradient (``exact``) are wide only for a finite ``x``.

    With ``stack`` (a forward product's rows, ``k_w C_out/groups``; see :func:`_stacked_sum`), wide
    columns of a kernel wider than 1 with at least :data:`_STACK_MIN` taps per column of the kernel
    (``C/groups k_h``) are built for the first column of taps only (``v = 0``, ``K = C/groups k_h``
    rows): tap ``v``'s columns are the same rows shifted by ``v d_w`` entries, so each row is followed
    by ``(k_w - 1) d_w`` zero columns (``spare``) that the last shift reads.
    """

    def __init__(self, x: np.ndarray, kernel, stride, pad, dilation, out, groups: int, budget: int,
                 exact: bool = False, stack: int = 0):
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out
        n, c, h, width = x.shape
        top, bottom, left, right = pad
        wp = width + left + right
        self.wide = sw == 1 and 2 * wp <= 3 * wo and (not exact or _finite(x))
        self.stacked = stack > 0 and self.wide and _stacks(c // groups, kernel)
        self.groups, self.wo, self.k = groups, wo, c // groups * kh * (1 if self.stacked else kw)
        self.spare = (kw - 1) * dw if self.stacked else 0
        if self.stacked:   # the first column of taps reads no entry past its row: no spare row, and
            # without padding the input itself (the padded copy of LeNet's second layer cost as much as
            # the copy of its columns)
            source = x if any(pad) else np.ascontiguousarray(x)   # (x itself when contiguous)
            self.view = sliding_windows_wide(_padded(source, pad, False, _workspace("padded input")), (kh, 1),
                                             sh, dilation, ho)
        elif self.wide:   # the discarded entries of the last row read past the plane: one spare row
            self.view = sliding_windows_wide(_padded(x, pad, True, _workspace("padded input")), kernel, sh,
                                             dilation, ho)
        else:
            self.view = sliding_windows(_padded(x, pad, False, _workspace("padded input")), kernel, stride,
                                        dilation, out)
        self.pitch = self.view.shape[-1]
        # a stacked block is as large as its product too (k_w C_out/groups rows of the same columns)
        self.blocks = _blocks(n, ho, max(self.k, stack if self.stacked else 0) * self.pitch * x.itemsize, budget)
        most = max(((b - a) * (i1 - i0) for a, b, i0, i1 in self.blocks), default=0)
        self.buffer = _workspace("columns").area(
            self.k * (most * self.pitch + self.spare) * x.itemsize).view(x.dtype)

    def __call__(self, n0: int, n1: int, i0: int, i1: int, g: int) -> np.ndarray:
        """``cols`` of samples ``n0:n1``, output rows ``i0:i1``, group ``g``: (K, (n1 - n0) rows pitch
        (+ ``spare``))."""
        cg = self.view.shape[1] // self.groups
        block = self.view[n0:n1, g * cg:(g + 1) * cg, :, :, i0:i1].transpose(1, 2, 3, 0, 4, 5)
        length = block.size // self.k
        cols = self.buffer[:self.k * (length + self.spare)].reshape(self.k, length + self.spare)
        # a view (each axis of cols is split, none merged): the copy lands in cols
        np.copyto(cols[:, :length].reshape(block.shape), block)
        if self.spare:
            cols[:, length:] = 0
        return cols

    def gradient(self, g: np.ndarray, n0: int, n1: int, i0: int, i1: int, c0: int, c1: int,
                 scratch: _Buffer) -> np.ndarray:
        """The output gradient of the block laid out like its columns (:func:`_gradient_columns`)."""
        return _gradient_columns(g, n0, n1, i0, i1, c0, c1, self.pitch, scratch)


def _gradient_columns(g: np.ndarray, n0: int, n1: int, i0: int, i1: int, c0: int, c1: int, pitch: int,
                      scratch: _Buffer, shifts: int = 1, dw: int = 1) -> np.ndarray:
    """``G[n0:n1, c0:c1, i0:i1]`` laid out like a block of columns, (channels, samples x rows x pitch),
    zero in the ``pitch - W_out`` extra columns of wide columns: a view for one sample of ordinary
    columns, else a copy.

    With ``shifts`` = ``k_w`` (wide columns): ``k_w`` such blocks of rows, block ``v`` shifted right by
    ``v d_w`` columns (zeros in front; what falls off the end is extra columns, zero), for the products
    with stacked taps (:func:`_backward`'s input gradient, :func:`_forward`'s weight gradient)."""
    wo, og = g.shape[3], c1 - c0
    if pitch == wo and n1 - n0 == 1 and shifts == 1:
        return g[n0, c0:c1, i0:i1].reshape(og, -1)
    length = (n1 - n0) * (i1 - i0) * pitch
    taps = scratch(shifts * og, length, dtype=g.dtype)
    buf = taps[:og].reshape(og, n1 - n0, i1 - i0, pitch)
    buf[..., wo:] = 0
    buf[..., :wo] = g[n0:n1, c0:c1, i0:i1].transpose(1, 0, 2, 3)
    for v in range(1, shifts):
        taps[v * og:(v + 1) * og, :v * dw] = 0
        taps[v * og:(v + 1) * og, v * dw:] = taps[:og, :length - v * dw]
    return taps


class _Buffer:
    """One reused scratch area for the (rows, columns) products or copies of every block, grown to the
    largest size asked for; sizes above :data:`_KEEP` get a one-off array instead (:func:`_workspace`)."""

    def __init__(self):
        self.data = np.empty(0, np.uint8)

    def area(self, size: int) -> np.ndarray:
        """``size`` bytes of scratch (uint8), the kept area when it is large enough."""
        if size > _KEEP:
            return np.empty(size, np.uint8)
        if self.data.nbytes < size:
            self.data = np.empty(size, np.uint8)
        return self.data[:size]

    def __call__(self, rows: int, columns: int, dtype) -> np.ndarray:
        """A (rows, columns) array of ``dtype`` in the area."""
        dtype = np.dtype(dtype)
        return self.area(rows * columns * dtype.itemsize).view(dtype).reshape(rows, columns)


def _forward(x, w, stride, pad, dilation, groups, bias=None, out=None, upstream=None):
    """Grouped cross-correlation ``Y[n, o, i, j] = b[o] + sum_{c,u,v} X_pad[n, c, i s + u d, j s + v d] W[o, c, u, v]``,
    as ``Y_n = W_mat @ cols_n`` per group, block by block (the bias, if any, added while the block's
    product is still in cache).

    Returns ``(Y, dW)``: given ``upstream`` ``V`` (the shape of ``Y``), ``dW`` is the weight gradient of
    this correlation for the upstream gradient ``V``, ``dW_mat = sum_n V_n @ cols_n^T``, from the same
    columns; else None.
    """
    n = x.shape[0]
    c_out, cg, kh, kw = w.shape
    top, bottom, left, right = pad
    ho, wo = _out_length(x.shape[2], kh, stride[0], top + bottom, dilation[0]), \
        _out_length(x.shape[3], kw, stride[1], left + right, dilation[1])
    og = c_out // groups
    dtype = np.result_type(x.dtype, w.dtype)
    if upstream is None and (out is None or out.strides[2:] == (wo * out.itemsize, out.itemsize)) and \
            _by_sample_columns(x.shape[1] // groups, (kh, kw), stride, (ho, wo)):
        return _forward_sample_columns(x, w, stride, pad, dilation, groups, (ho, wo), dtype, bias, out), None
    # stacked columns with a weight gradient need V and its k_w - 1 shifted copies: fewer entries copied
    # only if cols_0 has more rows than V (C/groups k_h > C_out/groups; the full columns have k_w times more)
    columns = _Columns(x, (kh, kw), stride, pad, dilation, (ho, wo), groups, _budget(og),
                       exact=upstream is not None, stack=kw * og if upstream is None or cg * kh > og else 0)
    if columns.stacked:   # W_mat's rows (v, o), its columns (c, u): one block of rows per column of taps
        wm = w.reshape(groups, og, cg, kh, kw).transpose(0, 4, 1, 2, 3).reshape(groups, kw * og, cg * kh)
    else:
        wm = w.reshape(groups, og, cg * kh * kw)
    y = np.empty((n, c_out, ho, wo), dtype) if out is None else out
    products, pitch = _workspace("products"), columns.pitch
    k = cg * kh * kw
    # a stacked weight gradient is accumulated as its transpose ((v, o) rows) when that has more rows
    transposed = upstream is not None and columns.stacked and columns.k < kw * og
    grad_weight_t = None if upstream is None or transposed else np.zeros((groups, k, og), dtype)
    grad_weight_vo = np.zeros((groups, kw * og, columns.k), dtype) if transposed else None
    copies, weight_products = _workspace("copies"), _workspace("weight products")
    for n0, n1, i0, i1 in columns.blocks:
        for g in range(groups):
            cols = columns(n0, n1, i0, i1, g)
            if upstream is not None and columns.stacked:
                # dW_mat^T[(c, u, v), o] = sum_q cols_0[(c, u), q + v d_w] V[o, q]: the columns times V
                # and its copies shifted by v d_w, (C/groups k_h) x (k_w C_out/groups), which is
                # dW_mat^T's memory read as rows (c, u) and columns (v, o)
                vm = _gradient_columns(upstream, n0, n1, i0, i1, g * og, (g + 1) * og, pitch, copies,
                                       kw, dilation[1])
                if not transposed:
                    _add_product(grad_weight_t[g].reshape(columns.k, kw * og), cols[:, :vm.shape[1]], vm.T,
                                 weight_products(columns.k, kw * og, dtype=dtype))
                else:   # its transpose, the product with more rows than columns (faster), transposed at the end
                    _add_product(grad_weight_vo[g], vm, cols[:, :vm.shape[1]].T,
                                 weight_products(kw * og, columns.k, dtype=dtype))
            elif upstream is not None:   # dW_mat^T += cols @ V^T, the faster orientation (as _weight_grad)
                vm = _gradient_columns(upstream, n0, n1, i0, i1, g * og, (g + 1) * og, pitch, copies)
                _add_product(grad_weight_t[g], cols, vm.T, weight_products(k, og, dtype=dtype))
            whole = n1 - n0 == 1 and i1 - i0 == ho and pitch == wo   # one whole sample: the product is its output
            if columns.stacked:
                prod = _stacked_sum(_product(wm[g], cols, products(kw * og, cols.shape[1], dtype=dtype)),
                                    og, dilation[1], cols.shape[1] - columns.spare)
            else:
                prod = _product(wm[g], cols, y[n0, g * og:(g + 1) * og].reshape(og, ho * wo) if whole
                                else products(og, cols.shape[1], dtype=dtype))
            if bias is not None:   # on the product's rows, one run each (faster than during the copy below)
                prod += bias[g * og:(g + 1) * og, None]
            if not whole:
                y[n0:n1, g * og:(g + 1) * og, i0:i1] = \
                    prod.reshape(og, n1 - n0, i1 - i0, pitch)[..., :wo].transpose(1, 0, 2, 3)
    if transposed:
        grad_weight_t = grad_weight_vo.transpose(0, 2, 1).reshape(groups, k, og)
    return y, None if upstream is None else _weight_layout(grad_weight_t, w.shape)


def _by_sample_columns(channels: int, kernel, stride, out) -> bool:
    """Whether a layer's products are taken sample by sample (:func:`_forward_sample_columns`,
    :func:`_backward_sample_columns`) rather than on wide columns of a block of samples: with stride 1,
    at least :data:`_SAMPLE_MIN` output positions per sample, and wide columns that would not be
    stacked (:func:`_stacks`): few taps per column of the kernel (``C/groups k_h < _STACK_MIN``, a
    first layer) or a 1x1 kernel. Measured against wide columns, one thread: CIFAR's 3 -> 16 3x3 layer
    forward 1.3x, its weight gradient 1.8x faster, a 1 -> 8 3x3 layer 1.5x and 2.2x, 1x1 layers
    (8 -> 16 .. 64 -> 64 channels) forward 1.7-2x; stacked layers (LeNet's second, chapter 10's 3x3
    layers on 4x4 .. 14x14) even or slower, and other strides even or slower (their columns are not
    wide)."""
    return stride == (1, 1) and out[0] * out[1] >= _SAMPLE_MIN and not _stacks(channels, kernel)


#: Widest kernel whose input gradient is taken sample by sample (:func:`_backward_sample_columns`): its
#: col2im adds each of the ``k_h k_w`` taps on its own, in runs of ``W_out``, where wide columns sum a
#: kernel row's taps in contiguous runs first (:func:`_kernel_row_sum`). Measured on first layers, one
#: thread: 3x3 kernels 1.1-1.3x faster by samples, 5x5 kernels 1.2-1.3x slower.
_SAMPLE_COL2IM_WIDTH = 3

#: Output positions of one sample from which its product (C_out/groups rows, that many columns) runs
#: near BLAS's rate on its own.
_SAMPLE_MIN = 64

#: Bytes of columns per block of samples taken sample by sample (:func:`_sample_columns`): a block
#: stays in the core's cache between its copy and its products (first layers, two threads: 512 KB
#: was measured best; 128 KB 1.4x slower, 2 MB up to 1.2x).
_SAMPLE_BLOCK = 512 * 2**10


def _sample_columns(x: np.ndarray, kernel, stride, pad, dilation, out_size, dtype, wide: bool = False,
                    ones: bool = False):
    """The padded input's windows (N, C, k_h, k_w, H_out, W_out) (a view, :func:`cnnbook.windows.sliding_windows`),
    or with ``wide`` its wide windows (N, C, k_h, k_w, H_out, W_p) (:func:`cnnbook.windows.sliding_windows_wide`),
    the samples per block of :data:`_SAMPLE_BLOCK` bytes of columns, and the thread's columns area for one
    block (with ``ones``, room for a row of ones per sample, :func:`_sample_block`)."""
    (kh, kw), (ho, wo) = kernel, out_size
    if wide:
        view = sliding_windows_wide(_padded(x, pad, True, _workspace("padded input")), kernel, stride[0],
                                    dilation, ho)
    else:
        view = sliding_windows(_padded(x, pad, False, _workspace("padded input")), kernel, stride, dilation,
                               out_size)
    per_sample = (x.shape[1] * kh * kw + ones) * ho * view.shape[-1] * np.dtype(dtype).itemsize   # (all groups)
    step = max(1, _SAMPLE_BLOCK // max(1, per_sample))
    return view, step, _workspace("columns").area(min(x.shape[0], step) * per_sample).view(dtype)


def _wide_samples(channels: int, kernel, out_channels: int, pad, width: int, wo: int) -> bool:
    """Whether a forward pass taken sample by sample copies wide columns (as :class:`_Columns`: one
    contiguous run per tap and sample, ``W_p - W_out`` discarded columns per row) rather than im2col's
    runs of ``W_out``: for a kernel wider than 1 with at least three times as many taps as output
    channels per group (``K >= 3 C_out/groups``), where cropping the product into ``Y`` afterwards (a run
    of ``W_out`` per output channel and row) costs much less than the copy saves (a run per tap and
    row), and at most half again as many columns as outputs. Measured: LeNet's first layer (25 taps,
    6 channels) 0.84-0.93x the time of im2col's runs on one thread, 0.91-0.95x on two; CIFAR's (27, 16)
    even; the weight gradient, which would widen ``G`` as well, even or slower (not done)."""
    k = channels * kernel[0] * kernel[1]
    wp = width + pad[2] + pad[3]
    return kernel[1] > 1 and k >= 3 * out_channels and 2 * wp <= 3 * wo


def _sample_block(view: np.ndarray, n0: int, n1: int, c0: int, c1: int, area: np.ndarray,
                  ones: bool = False) -> np.ndarray:
    """im2col's matrices ``cols_n`` of samples ``n0:n1``, input channels ``c0:c1``, one after the other in
    ``area``: (samples, K = channels k_h k_w, H_out x the windows' pitch: W_out, or W_p for wide ones).
    With ``ones``, each ``cols_n`` has a last row of ones (K + 1 rows), which multiplies a bias."""
    m, (kh, kw, ho, pitch) = n1 - n0, view.shape[2:]
    k = (c1 - c0) * kh * kw
    block = area[:m * (k + ones) * ho * pitch].reshape(m, k + ones, ho * pitch)
    np.copyto(block[:, :k].reshape(m, c1 - c0, kh, kw, ho, pitch), view[n0:n1, c0:c1])
    if ones:
        block[:, k] = 1
    return block


def _forward_sample_columns(x, w, stride, pad, dilation, groups, out_size, dtype, bias=None, out=None):
    """:func:`_forward` sample by sample: ``Y_n = W_mat @ cols_n`` written straight into ``Y[n]``.

    A block of samples' columns is laid out ``(samples, K, H_out W_out)``, one im2col matrix after the
    other (:func:`_sample_block`), and one batched product (``np.matmul`` of ``W_mat`` with the stack)
    writes each ``Y_n``, an (C_out/groups, H_out W_out) slice of the output, in place: no product to
    copy into the NCHW output afterwards, no discarded columns. Each sample's product is small enough
    to stay in the core's cache, where one product over a whole block's columns, with few rows, would
    not. For a layer with many taps per output channel (:func:`_wide_samples`) the columns are wide
    instead, (samples, K, H_out W_p), and each product's rows are cropped into ``Y_n``.

    A bias is one more column of ``W_mat`` times a row of ones under ``cols_n``, ``Y_n = [W_mat | b] @
    [cols_n; 1]``: a product with ``K + 1`` rows instead of a pass over ``Y`` after it (CIFAR's first
    layer, ``K = 27``: 0.8x the time of the product and the addition)."""
    n = x.shape[0]
    c_out, cg, kh, kw = w.shape
    og, (ho, wo) = c_out // groups, out_size
    wide = _wide_samples(cg, (kh, kw), og, pad, x.shape[3], wo)
    ones = bias is not None
    view, step, area = _sample_columns(x, (kh, kw), stride, pad, dilation, out_size, dtype, wide, ones)
    pitch = view.shape[-1]
    wm = w.reshape(groups, og, cg * kh * kw)
    if ones:
        wm = np.concatenate([wm, bias.reshape(groups, og, 1)], axis=2).astype(dtype, copy=False)
    y = np.empty((n, c_out, ho, wo), dtype) if out is None else out
    products = _workspace("products")(min(n, step), og * ho * pitch, dtype=dtype) if wide else None
    for n0 in range(0, n, step):
        n1 = min(n, n0 + step)
        for g in range(groups):
            target = y[n0:n1, g * og:(g + 1) * og].reshape(n1 - n0, og, ho * wo) if not wide else \
                products[:n1 - n0].reshape(n1 - n0, og, ho * pitch)
            np.matmul(wm[g], _sample_block(view, n0, n1, g * cg, (g + 1) * cg, area, ones), out=target)
            if wide:   # each row's first W_out columns
                y[n0:n1, g * og:(g + 1) * og] = target.reshape(n1 - n0, og, ho, pitch)[..., :wo]
    return y


def _weight_grad_sample_columns(x, g, kernel, stride, pad, dilation, groups, dtype) -> np.ndarray:
    """``dW_mat = sum_n G_n @ cols_n^T`` sample by sample, in the weight's layout (C_out, C/groups, k_h, k_w):
    one batched product of the output gradients with the stacked ``cols_n^T``, then summed over the block."""
    n, (_, c_out, ho, wo) = x.shape[0], g.shape
    cg, og, k = x.shape[1] // groups, c_out // groups, x.shape[1] // groups * kernel[0] * kernel[1]
    view, step, area = _sample_columns(x, kernel, stride, pad, dilation, (ho, wo), dtype)
    weight_grad = np.zeros((groups, og, k), dtype)
    products = _workspace("weight products")
    for n0 in range(0, n, step):
        n1 = min(n, n0 + step)
        each = products(n1 - n0, og * k, dtype=dtype).reshape(n1 - n0, og, k)
        for gi in range(groups):
            cols = _sample_block(view, n0, n1, gi * cg, (gi + 1) * cg, area)
            np.matmul(g[n0:n1, gi * og:(gi + 1) * og].reshape(n1 - n0, og, ho * wo), cols.transpose(0, 2, 1),
                      out=each)
            weight_grad[gi] += each.sum(axis=0)
    return weight_grad.reshape(c_out, cg, *kernel)


def _backward_sample_columns(g, w, x_shape, stride, pad, dilation, groups, out=None, x=None):
    """:func:`_backward` sample by sample: ``dcols_n = W_mat^T @ G_n`` by one batched product per block of
    samples (each ``G_n`` read in place), then col2im, ``k_h k_w`` strided additions into the padded
    block, one per tap. Given ``x``, the weight gradient too (:func:`_weight_grad_sample_columns`)."""
    n, c, h, width = x_shape
    c_out, cg, kh, kw = w.shape
    _, _, ho, wo = g.shape
    (sh, sw), (dh, dw), (top, bottom, left, right) = stride, dilation, pad
    og, k = c_out // groups, cg * kh * kw
    dtype = np.result_type(g.dtype, w.dtype)
    itemsize = np.dtype(dtype).itemsize
    grad_weight = None if x is None else _weight_grad_sample_columns(x, g, (kh, kw), stride, pad, dilation,
                                                                     groups, dtype)
    wt = np.ascontiguousarray(w.reshape(groups, og, k).transpose(0, 2, 1))
    step = max(1, _SAMPLE_BLOCK // (k * ho * wo * itemsize))
    hp, wp = h + top + bottom, width + left + right
    grad_input = np.empty((n, c, h, width), dtype) if out is None else out
    direct = not any(pad)   # without padding the additions go straight into grad_input
    padded = None if direct else _workspace("padded gradient").area(
        min(n, step) * c * hp * wp * itemsize).view(dtype).reshape(min(n, step), c, hp, wp)
    products = _workspace("products")
    rows, cols_w = (ho - 1) * sh + 1, (wo - 1) * sw + 1
    for n0 in range(0, n, step):
        n1 = min(n, n0 + step)
        target = grad_input[n0:n1] if direct else padded[:n1 - n0]
        target[...] = 0
        for gi in range(groups):
            dcols = np.matmul(wt[gi], g[n0:n1, gi * og:(gi + 1) * og].reshape(n1 - n0, og, ho * wo),
                              out=products(n1 - n0, k * ho * wo, dtype=dtype).reshape(n1 - n0, k, ho * wo))
            dcols = dcols.reshape(n1 - n0, cg, kh, kw, ho, wo)
            for u in range(kh):
                for v in range(kw):   # tap (u, v) of output (i, j) was read from padded cell (i s + u d, j s + v d)
                    target[:, gi * cg:(gi + 1) * cg, u * dh:u * dh + rows:sh, v * dw:v * dw + cols_w:sw] += \
                        dcols[:, :, u, v]
        if not direct:
            grad_input[n0:n1] = padded[:n1 - n0, :, top:top + h, left:left + width]
    return grad_input, grad_weight


def _stacked_sum(z: np.ndarray, og: int, dw: int, length: int) -> np.ndarray:
    """``Y_block[o, q] = sum_v Z[(v, o), q + v d_w]`` for ``q < length``, summed into ``Z``'s first
    ``og`` rows, which are returned (``og`` x ``length``).

    ``Z = W_stacked @ cols_0`` is the product of the weight with its taps' rows ``(v, o)`` and the
    columns of the first column of taps (``v = 0``), which hold ``X_pad[n, c, i + u d_h, q']`` at wide
    column ``q'``. Tap ``(u, v)`` of output ``(i, j)`` reads wide column ``j + v d_w``, so
    ``Z[(v, o), q + v d_w]`` holds output ``q``'s terms of tap column ``v``; for ``j < W_out`` that
    column is in the same row. So the forward product is ``k_w`` times smaller along ``K`` and
    ``k_w`` times larger along the rows (often closer to BLAS's rate), its columns ``k_w`` times fewer
    to copy, for ``k_w - 1`` additions of ``og`` contiguous rows. The discarded columns add entries of
    the next row; with an infinite input that can be ``inf - inf``, as torch computes it, silently."""
    total = z[:og, :length]
    with np.errstate(invalid="ignore", over="ignore"):
        for v in range(1, z.shape[0] // og):
            total += z[v * og:(v + 1) * og, v * dw:v * dw + length]
    return total


#: Taps per column of the kernel (``C/groups k_h``, the inner dimension) from which a forward product
#: is stacked (:func:`_stacked_sum`): below, BLAS runs its short inner products far below its rate
#: (LeNet's first layer, 5: 1.6x slower stacked; a CIFAR first layer, 9: even; LeNet's second, 30:
#: 1.7x faster).
_STACK_MIN = 16


def _stacks(channels: int, kernel) -> bool:
    """Whether wide columns of ``channels`` (per group) and this kernel are stacked (:func:`_stacked_sum`,
    and its transpose in :func:`_backward`): a kernel wider than 1, ``channels k_h >= _STACK_MIN``."""
    kh, kw = kernel
    return kw > 1 and channels * kh >= _STACK_MIN


#: Channels (rows of ``W_mat``) below which a block's products are taken in slices of at most
#: :data:`_SLICE_BYTES` of columns: with so few rows, OpenBLAS runs far below its rate on a block of
#: the full budget (a LeNet first layer, 6 rows: about half), and near it on slices that stay in the
#: core's cache. The blocks of columns of such a product are built that size too (:func:`_budget`): a
#: block of the full budget, written by the copy, no longer fits the core's cache when the product reads
#: it (LeNet's first layer, forward and weight gradient: 5-15% faster).
_FEW_ROWS = 8
_SLICE_BYTES = 512 * 2**10


def _slices(rows: int, columns: int, k: int, itemsize: int) -> list[slice]:
    """The column slices of a product with ``rows`` output rows and inner dimension ``k`` (one slice
    unless ``rows < _FEW_ROWS``)."""
    step = columns if rows >= _FEW_ROWS else max(1, _SLICE_BYTES // (k * itemsize))
    return [slice(s, s + step) for s in range(0, columns, step)]


def _product(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = a @ b``, ``a`` (rows, K), ``b`` (K, columns), in column slices (:func:`_slices`)."""
    for part in _slices(a.shape[0], b.shape[1], b.shape[0], b.itemsize):
        np.matmul(a, b[:, part], out=out[:, part])
    return out


def _add_product(total: np.ndarray, a: np.ndarray, b: np.ndarray, scratch: np.ndarray) -> None:
    """``total += a @ b``, ``a`` (K, P), ``b`` (P, rows): the weight gradient's product, whose inner
    dimension ``P`` (the columns of a block) is cut into slices when ``rows`` is small (:func:`_slices`)."""
    for part in _slices(b.shape[1], a.shape[1], a.shape[0], a.itemsize):
        total += np.matmul(a[:, part], b[part], out=scratch)


def _swap_channels(w: np.ndarray, groups: int) -> np.ndarray:
    """(C_a, C_b/g, k_h, k_w) -> (C_b, C_a/g, k_h, k_w): swap in/out channels within each group."""
    ca, cbg, kh, kw = w.shape
    return w.reshape(groups, ca // groups, cbg, kh, kw).transpose(0, 2, 1, 3, 4).reshape(groups * cbg, ca // groups, kh, kw)


def _transposed_stride1(y, w, pad, dilation, groups, extra, out=None, x=None):
    """The stride-1 transposed convolution the book's way, as a correlation: ``y`` (N, C_a, H, W) padded
    by ``d(k - 1) - p`` on each side (plus ``extra`` at the bottom/right; a negative amount crops),
    cross-correlated with ``rot180`` of ``w`` (C_a, C_b/groups, k_h, k_w) with swapped channels, dilation
    ``d``. With stride 1 there are no zeros to insert, and :func:`_forward`'s products are the larger
    ones (their inner dimension is ``C_a k_h k_w``, not ``C_a``).

    As the input gradient of a convolution (``y = G``, result ``dX``), given that convolution's input
    ``x`` it also returns the weight gradient, from the same columns of the padded ``G``:
    ``dW[o, c, u, v] = sum_{n,h,w} X[n, c, h, w] G_pad[n, o, h + (k-1-u) d, w + (k-1-v) d]``, the weight
    gradient of this correlation for the upstream ``X``, rotated back and its channels swapped back.
    Returns ``(dX, dW)``, ``dW`` None without ``x`` (as :func:`_backward`)."""
    span_h, span_w = (d * (k - 1) + 1 for k, d in zip(w.shape[2:], dilation))   # the dilated kernel's extent
    top, bottom, left, right = pad
    full = (span_h - 1 - top, span_h - 1 - bottom + extra[0], span_w - 1 - left, span_w - 1 - right + extra[1])
    z = _pad_or_crop(y, *(min(0, q) for q in full))
    kernel = np.ascontiguousarray(_swap_channels(w, groups)[:, :, ::-1, ::-1])
    grad_input, grad_kernel = _forward(z, kernel, (1, 1), tuple(max(0, q) for q in full), dilation, groups,
                                       out=out, upstream=x)
    if grad_kernel is None:
        return grad_input, None
    return grad_input, np.ascontiguousarray(_swap_channels(grad_kernel[:, :, ::-1, ::-1], groups))


def _correlate_back(stride, weight: np.ndarray, groups) -> bool:
    """Whether the input gradient of a convolution with this weight (C_out, C/groups, k_h, k_w) is
    computed as a correlation (:func:`_transposed_stride1`, stride 1 only) rather than by col2im
    (:func:`_backward`). The correlation's product is (C/groups) x (C_out/groups k_h k_w) @ columns, the
    col2im's is (C/groups k_h k_w) x (C_out/groups) @ columns: the first is the faster one unless it
    has very few rows (few input channels, as in a first layer). The correlation also multiplies the
    weight by the zeros padded around the gradient, which no term of the exact sum does: it needs a
    finite weight (``inf * 0`` is NaN)."""
    c_out, cg, _, _ = weight.shape
    return stride == (1, 1) and cg >= c_out // groups and _finite(weight)


def _backward(g, w, x_shape, stride, pad, dilation, groups, out=None, x=None):
    """``grad_input`` of the correlation :func:`_forward`: col2im of ``dcols_n = W_mat^T @ G_n``.

    ``g`` (N, C_out, H_out, W_out), ``w`` (C_out, C/groups, k_h, k_w), ``x_shape`` (N, C, H, W): every
    entry ``dcols_n[(c, u, v), (i, j)]`` is added to the padded cell ``(i s + u d, j s + v d)`` of
    channel ``c`` it was read from, one strided slice per tap ``(u, v)``; then the padding is cropped.
    With stride 1 the columns are wide (as in :class:`_Columns`, the gradient's extra columns zero):
    the taps of each kernel row ``u`` are then summed first, shifted along the columns, and the sum is
    added to the padded block from row ``u d_h`` on, one contiguous run per sample and channel: ``k_h``
    additions into the block instead of ``k_h k_w``. The sum is one product, ``W_u @ [G; G shifted by
    d_w; ...]`` (the transpose of :func:`_forward`'s stacked product: inner dimension
    ``k_w C_out/groups``, ``k_h C/groups`` rows), or, for fewer than :data:`_STACK_MIN` rows, the
    product's ``k_h k_w`` blocks of rows added shifted (:func:`_kernel_row_sum`).

    Returns ``(grad_input, grad_weight)``. Given the input ``x``, ``grad_weight`` (:func:`_weight_grad`'s
    ``sum_n G_n @ cols_n^T``) is computed in the same pass over the blocks, from the same copy of each
    block of ``G``, when the columns of ``x`` have the same blocks; else it is None. Stacked, it is the
    shifted copies of ``G`` times the stacked columns of ``x`` (``k_h C/groups`` rows, as in
    :func:`_forward`'s weight gradient), not ``k_w`` times more rows of full columns: LeNet's second
    layer, backward, 0.91x the time on one thread, 0.77x on two, its peak memory 5.4x its input and
    output instead of 7.7x.
    """
    if w.shape[3] <= _SAMPLE_COL2IM_WIDTH and _by_sample_columns(w.shape[1], w.shape[2:], stride, g.shape[2:]):
        return _backward_sample_columns(g, w, x_shape, stride, pad, dilation, groups, out, x)
    n, c, h, width = x_shape
    c_out, cg, kh, kw = w.shape
    _, _, ho, wo = g.shape
    (sh, sw), (dh, dw), (top, bottom, left, right) = stride, dilation, pad
    og, k = c_out // groups, cg * kh * kw
    dtype = np.result_type(g.dtype, w.dtype)
    hp, wp = h + top + bottom, width + left + right
    # wide columns leave col2im's extra columns zero (W_mat^T times the gradient's zeros) for a finite W
    wide = stride == (1, 1) and 2 * wp <= 3 * wo and _finite(w)
    pitch = wp if wide else wo
    stacked = wide and _stacks(cg, (kh, kw))
    # col2im's product has K rows; stacked, k_h C/groups, and the shifted copies of G k_w C_out/groups
    # (as many as the stacked columns of x that give the weight gradient, :class:`_Columns`)
    blocks = _blocks(n, ho, (max(kh * cg, kw * og) if stacked else k) * pitch * np.dtype(dtype).itemsize,
                     _COLS_BUDGET)
    # W_mat^T per group, its rows in the order (u, v, c) (K, C_out/groups): each tap's rows of dcols together
    # (stacked: W_u of every kernel row u, stacked, its rows (u, c), its columns (v, o))
    wt = np.ascontiguousarray(w.reshape(groups, og, cg, kh, kw).transpose(0, 3, 4, 2, 1)).reshape(groups, k, og) \
        if not stacked else np.ascontiguousarray(w.reshape(groups, og, cg, kh, kw).transpose(0, 3, 2, 4, 1)).reshape(
            groups, kh * cg, kw * og)
    grad_input = np.empty((n, c, h, width), dtype) if out is None else out
    # without padding the col2im adds go straight into grad_input (wide columns' runs of rows too: each
    # ends inside its plane); else into the padded block (with a spare row), cropped
    direct = not any(pad) and (not wide or grad_input.flags.c_contiguous)
    most = max((b - a for a, b, _, _ in blocks), default=0)
    scratch = None if direct else _workspace("padded gradient").area(
        most * c * (hp + wide) * wp * np.dtype(dtype).itemsize).view(dtype).reshape(most, c, hp + wide, wp)
    cols_w = (wo - 1) * sw + 1
    products, copies, weight_products = _workspace("products"), _workspace("copies"), _workspace("weight products")
    columns = None if x is None else _Columns(x, (kh, kw), stride, pad, dilation, (ho, wo), groups, _COLS_BUDGET,
                                              exact=True, stack=kw * og if stacked else 0)
    if columns is not None and (columns.pitch != pitch or columns.blocks != blocks or columns.stacked != stacked):
        columns = None
    # stacked, dW_mat accumulated with rows (v, o) and columns (c, u): the shifted copies of G times the
    # stacked columns of x (as :func:`_forward`'s weight gradient), k_w times fewer columns of x to copy
    grad_weight_t = None if columns is None or stacked else np.zeros((groups, k, og), dtype)
    grad_weight_vo = np.zeros((groups, kw * og, kh * cg), dtype) if columns is not None and stacked else None
    for n0, n1, i0, i1 in blocks:
        nb, rows = n1 - n0, i1 - i0
        target = grad_input[n0:n1] if direct else scratch[:nb]
        if i0 == 0:
            target[...] = 0   # the rows/columns no window reached keep this 0
        flat = target.reshape(nb, c, -1) if wide else None
        for gi in range(groups):
            cs = slice(gi * cg, (gi + 1) * cg)
            # stacked: G's columns and their copies shifted by v d_w, (k_w C_out/groups, columns)
            taps = _gradient_columns(g, n0, n1, i0, i1, gi * og, (gi + 1) * og, pitch, copies,
                                     kw if stacked else 1, dw)
            gm = taps[:og]
            if columns is not None and stacked:   # dW_vo += [G; G shifted by d_w; ...] @ cols_0^T
                cols = columns(n0, n1, i0, i1, gi)
                _add_product(grad_weight_vo[gi], taps, cols[:, :taps.shape[1]].T,
                             weight_products(kw * og, kh * cg, dtype=dtype))
            elif columns is not None:
                _add_product(grad_weight_t[gi], columns(n0, n1, i0, i1, gi), gm.T, weight_products(k, og, dtype=dtype))
            if stacked:
                # tap (u, v) of output (i, j) was read from padded cell (i + u d_h, j + v d_w), which is
                # wide column j + v d_w of the rows from i + u d_h on: the taps of kernel row u sum
                # to W_u @ taps, W_u (C/groups, k_w C_out/groups) (row sums of the shifted copies of
                # G; each row's W_p - W_out extra columns are zero, so nothing crosses into the next
                # row), added to the target rows from i0 + u d_h on, a channel's rows x W_p entries one run
                kernel_rows = np.matmul(wt[gi], taps, out=products(kh * cg, taps.shape[1], dtype=dtype))
                for u in range(kh):
                    r = i0 + u * dh
                    run = flat[:, cs, r * wp:(r + rows) * wp]
                    run += kernel_rows[u * cg:(u + 1) * cg].reshape(cg, nb, rows * wp).transpose(1, 0, 2)
                continue
            dcols = np.matmul(wt[gi], gm, out=products(k, gm.shape[1], dtype=dtype)).reshape(kh, kw, cg, nb, rows, pitch)
            for u in range(kh):
                r = i0 * sh + u * dh
                if wide:
                    # as above, with the taps of kernel row u summed after the product, shifted by v d_w
                    # within the columns (:func:`_kernel_row_sum`): for few input channels, whose
                    # stacked product would have few rows
                    row = _kernel_row_sum(dcols[u].reshape(kw, cg * nb * rows * pitch), dw)
                    run = flat[:, cs, r * wp:(r + rows) * wp]
                    run += row.reshape(cg, nb, rows * wp).transpose(1, 0, 2)
                    continue
                for v in range(kw):
                    # tap (u, v) of output (i, j) was read from padded cell (i s + u d, j s + v d)
                    c0 = v * dw
                    target[:, cs, r:r + (rows - 1) * sh + 1:sh, c0:c0 + cols_w:sw] += \
                        dcols[u, v].transpose(1, 0, 2, 3)
        if not direct and i1 == ho:
            grad_input[n0:n1] = scratch[:nb, :, top:top + h, left:left + width]
    if grad_weight_vo is not None:   # rows (v, o), columns (c, u) -> dW_mat^T's rows (c, u, v), columns o
        grad_weight_t = grad_weight_vo.transpose(0, 2, 1).reshape(groups, k, og)
    if grad_weight_t is None:
        return grad_input, None
    return grad_input, _weight_layout(grad_weight_t, w.shape)


def _kernel_row_sum(taps: np.ndarray, dw: int) -> np.ndarray:
    """``sum_v taps[v]`` shifted right by ``v d_w`` entries, summed into ``taps[0]``, which is returned:
    ``taps`` (k_w, C columns) holds each tap's rows of wide columns, channel after channel. Every
    channel's columns end with extra columns, which are zero (at least ``d_w (k_w - 1)`` of them), so
    no entry crosses into the next row, sample or channel, and each of the ``k_w - 1`` additions is one
    contiguous run (the additions into the target are one per sample and channel)."""
    total = taps[0]
    for v in range(1, taps.shape[0]):
        total[v * dw:] += taps[v, :-v * dw]
    return total


def _weight_layout(grad_weight_t: np.ndarray, weight_shape) -> np.ndarray:
    """``dW_mat^T`` per group, (groups, C/groups k_h k_w, C_out/groups), in the weight's layout."""
    return np.ascontiguousarray(grad_weight_t.transpose(0, 2, 1)).reshape(weight_shape)


def _weight_grad(x, g, kernel, stride, pad, dilation, groups):
    """``dW[o, c, u, v] = sum_{n,i,j} G[n, o, i, j] X_pad[n, c, i s + u d, j s + v d]``: the input
    cross-correlated with the output gradient (``G`` is (N, C_out, H_out, W_out)), ``sum_n G_n @ cols_n^T``."""
    if _pads_a_nonfinite(pad, g):
        return _weight_grad_by_taps(x, g, kernel, stride, pad, dilation, groups)
    c = x.shape[1]
    _, c_out, ho, wo = g.shape
    kh, kw = kernel
    cg, og = c // groups, c_out // groups
    dtype = np.result_type(x.dtype, g.dtype)
    if _by_sample_columns(cg, kernel, stride, (ho, wo)):
        return _weight_grad_sample_columns(x, g, kernel, stride, pad, dilation, groups, dtype)
    columns = _Columns(x, kernel, stride, pad, dilation, (ho, wo), groups, _budget(og), exact=True)
    # accumulated transposed, dW_mat^T += cols_n @ G_n^T: the faster orientation of this product
    grad_weight_t = np.zeros((groups, cg * kh * kw, og), dtype)
    copies, products = _workspace("copies"), _workspace("weight products")
    for n0, n1, i0, i1 in columns.blocks:
        for gi in range(groups):
            gm = columns.gradient(g, n0, n1, i0, i1, gi * og, (gi + 1) * og, copies)
            _add_product(grad_weight_t[gi], columns(n0, n1, i0, i1, gi), gm.T, products(cg * kh * kw, og, dtype=dtype))
    return _weight_layout(grad_weight_t, (c_out, cg, kh, kw))


def _pads_a_nonfinite(pad, g: np.ndarray) -> bool:
    """Whether columns of the padded input would multiply a NaN or infinite entry of ``G`` by padding:
    ``inf * 0`` is NaN, where the exact sum has no such term at all."""
    return any(pad) and not _finite(g)


def _weight_grad_by_taps(x, g, kernel, stride, pad, dilation, groups):
    """:func:`_weight_grad` without the padding: for each tap ``(u, v)``, ``dW[:, :, u, v]`` sums
    ``G[n, o, i, j] X[n, c, i s + u d - p, j s + v d - p]`` over the outputs ``(i, j)`` whose tap lies
    inside the input (a rectangle of them), one product per tap and group. Exact for any ``G``."""
    (kh, kw), (sh, sw), (dh, dw), (top, _, left, _) = kernel, stride, dilation, pad
    _, c, h, width = x.shape
    _, c_out, ho, wo = g.shape
    cg, og = c // groups, c_out // groups
    grad_weight = np.zeros((c_out, cg, kh, kw), np.result_type(x.dtype, g.dtype))

    def inside(out: int, size: int, s: int, offset: int) -> tuple[int, int]:
        """The outputs ``i < out`` with ``0 <= i s + offset < size``: ``range(first, last)``."""
        first = max(0, -(offset // s))                       # ceil(-offset / s), at least 0
        last = min(out, (size - 1 - offset) // s + 1) if offset < size else 0
        return first, max(first, last)

    for u in range(kh):
        i0, i1 = inside(ho, h, sh, u * dh - top)
        for v in range(kw):
            j0, j1 = inside(wo, width, sw, v * dw - left)
            if i0 == i1 or j0 == j1:
                continue
            r0, c0 = i0 * sh + u * dh - top, j0 * sw + v * dw - left
            xs = x[:, :, r0:r0 + (i1 - i0 - 1) * sh + 1:sh, c0:c0 + (j1 - j0 - 1) * sw + 1:sw]
            gs = g[:, :, i0:i1, j0:j1]
            for gi in range(groups):
                grad_weight[gi * og:(gi + 1) * og, :, u, v] = np.tensordot(
                    gs[:, gi * og:(gi + 1) * og], xs[:, gi * cg:(gi + 1) * cg], axes=((0, 2, 3), (0, 2, 3)))
    return grad_weight


# --------------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------------
def _with_bias(y: np.ndarray, a: ConvArgs) -> np.ndarray:
    if a.bias is not None:
        y += a.bias[:, None, None]
    return a.finish(y)


def conv2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1) -> np.ndarray:
    """2-D cross-correlation layer, as ``torch.nn.functional.conv2d``.

    ``Y[n, o, i, j] = b[o] + sum_{c, u, v} X[n, c, i s_h + u d_h - p_h, j s_w + v d_w - p_w] W[o, c, u, v]``
    with ``H_out = floor((H + 2 p_h - d_h (k_h - 1) - 1) / s_h) + 1`` (same for W).

    Parameters
    ----------
    input : array (N, C, H, W) or (C, H, W)
    weight : array (C_out, C / groups, k_h, k_w)
    bias : array (C_out,), optional
    stride, dilation : int or pair, >= 1
    padding : int, pair, 'valid' or 'same'
        'same' pads ``d (k - 1)`` in total, the odd one at the bottom/right (as torch); only with stride 1.
    groups : int dividing C and C_out

    Returns
    -------
    array (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) for an unbatched input).
    """
    return _conv_forward(conv_args(2, input, weight, bias, stride, padding, dilation, groups))


def conv1d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1) -> np.ndarray:
    """1-D cross-correlation layer, as ``torch.nn.functional.conv1d`` (conv2d with height 1).

    ``Y[n, o, i] = b[o] + sum_{c, u} X[n, c, i s + u d - p] W[o, c, u]``,
    ``L_out = floor((L + 2p - d(k - 1) - 1) / s) + 1``; input (N, C, L) or (C, L), weight (C_out, C/groups, k).
    """
    return _conv_forward(conv_args(1, input, weight, bias, stride, padding, dilation, groups))


def _conv_forward(a: ConvArgs) -> np.ndarray:
    x, n = a.input, a.input.shape[0]
    y = np.empty((n, a.out_channels, *a.out_size), a.dtype)
    _by_samples(n, _conv_work(n, a.out_size, a.weight.shape), lambda n0, n1: _forward(
        x[n0:n1], a.weight, a.stride, a.padding, a.dilation, a.groups, a.bias, out=y[n0:n1]))
    return a.finish(y)


def _input_gradient(g: np.ndarray, w: np.ndarray, x_shape, a: ConvArgs, out: np.ndarray) -> np.ndarray:
    """The input gradient of a convolution with weight ``w`` (C_out, C/groups, k_h, k_w) into ``out``
    (shape ``x_shape``): the correlation with the rotated kernel or col2im (:func:`_correlate_back`).
    ``a.output_padding`` counts the rows/columns of the padded input no window reached (they get 0)."""
    if _correlate_back(a.stride, w, a.groups):
        return _transposed_stride1(g, w, a.padding, a.dilation, a.groups, a.output_padding, out=out)[0]
    return _backward(g, w, x_shape, a.stride, a.padding, a.dilation, a.groups, out=out)[0]


def _conv_backward(a: ConvArgs, output_mask=(True, True, True)) -> tuple:
    x, g, n = a.input, a.grad_output, a.input.shape[0]
    want_input, want_weight, want_bias = check_output_mask(output_mask)
    grad_input = np.empty(x.shape, a.dtype) if want_input else None

    def weight_part(n0: int, n1: int) -> np.ndarray:
        return _weight_grad(x[n0:n1], g[n0:n1], a.weight.shape[2:], a.stride, a.padding, a.dilation, a.groups)

    def part(n0: int, n1: int) -> np.ndarray | None:
        if not want_input:   # the weight gradient alone: no col2im or correlation of G
            return weight_part(n0, n1)
        # the weight gradient in the same pass, unless G holds a NaN or infinity that padding would meet
        source = x[n0:n1] if want_weight and not _pads_a_nonfinite(a.padding, g[n0:n1]) else None
        if _correlate_back(a.stride, a.weight, a.groups):
            # the weight gradient from the same columns, which multiplies X by the zeros padded around G:
            # for a finite X only (inf * 0 is NaN), else on its own below
            _, grad_weight = _transposed_stride1(g[n0:n1], a.weight, a.padding, a.dilation, a.groups,
                                                 a.output_padding, out=grad_input[n0:n1],
                                                 x=source if source is None or _finite(source) else None)
        else:   # col2im: the weight gradient in the same pass, when the blocks allow
            _, grad_weight = _backward(g[n0:n1], a.weight, (n1 - n0, *x.shape[1:]), a.stride, a.padding,
                                       a.dilation, a.groups, out=grad_input[n0:n1], x=source)
        if grad_weight is None and want_weight:
            grad_weight = weight_part(n0, n1)
        return grad_weight

    work = (want_input + want_weight) * _conv_work(n, a.out_size, a.weight.shape)
    parts = _by_samples(n, work, part) if want_input or want_weight else []
    grad_weight = a.finish_weight(sum(parts)) if want_weight else None
    grad_bias = g.sum(axis=(0, 2, 3)) if want_bias else None
    return None if grad_input is None else a.finish(grad_input), grad_weight, grad_bias


def conv2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1,
                    output_mask=(True, True, True)) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of :func:`conv2d` with respect to input, weight and bias.

    With ``G = dL/dY`` (N, C_out, H_out, W_out):

    * ``dX = crop_p( pad_full(insert_zeros(G, s)) star dilate_kernel(rot180(W^T), d) )`` where ``W^T``
      swaps in/out channels per group and ``pad_full`` pads ``d(k - 1)`` on each side plus
      ``(H + 2p - d(k - 1) - 1) mod s`` rows at the bottom (columns at the right) that no window reached;
    * ``dW[o, c, u, v] = sum_{n, i, j} G[n, o, i, j] X[n, c, i s + u d - p, j s + v d - p]``;
    * ``db[o] = sum_{n, i, j} G[n, o, i, j]``.

    Evaluated as matrix products per sample (module docstring): ``dX = crop_p(col2im(W_mat^T @ G_n))``,
    which adds up the same products as the zero-inserted correlation, and ``dW_mat = sum_n G_n @ cols_n^T``.

    ``output_mask`` (three bools, as in ``torch.ops.aten.convolution_backward``) names the gradients to
    compute; the others are returned as None. Without ``grad_input`` (the first layer of a network,
    whose input needs no gradient) no col2im or correlation of ``G`` is done at all.

    Returns
    -------
    (grad_input, grad_weight, grad_bias) with the shapes of input, weight and (C_out,).
    """
    return _conv_backward(conv_args(2, input, weight, None, stride, padding, dilation, groups,
                                    grad_output=grad_output), output_mask)


def conv1d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1,
                    output_mask=(True, True, True)) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of :func:`conv1d`: ``(grad_input, grad_weight, grad_bias)``, as :func:`conv2d_backward`
    with height 1 (``output_mask`` too)."""
    return _conv_backward(conv_args(1, input, weight, None, stride, padding, dilation, groups,
                                    grad_output=grad_output), output_mask)


def conv_transpose2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                     groups: int = 1, dilation: IntOrTuple = 1) -> np.ndarray:
    """Transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    Scatter form: ``Y[n, o, i s + u d - p, j s + v d - p] += X[n, c, i, j] W[c, o, u, v]`` (+ ``b[o]``).
    Equivalently (the book's construction): insert ``s - 1`` zeros between input entries, pad
    ``d(k - 1) - p`` on each side (plus ``output_padding`` at the bottom/right), cross-correlate with
    ``rot180`` of the dilated kernel with in/out channels swapped, stride 1. Computed as
    ``conv2d_backward``'s ``grad_input``: that correlation when the stride is 1 and it has the larger
    product, else in the scatter form, ``dcols_n = W_mat^T @ X_n`` followed by col2im.
    ``H_out = (H - 1) s - 2p + d(k - 1) + output_padding + 1``.

    Parameters
    ----------
    input : array (N, C_in, H, W) or (C_in, H, W)
    weight : array (C_in, C_out / groups, k_h, k_w)
    bias : array (C_out,), optional
    output_padding : int or pair, each smaller than the stride or the dilation of its axis

    Returns
    -------
    array (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) for an unbatched input).
    """
    a = conv_transpose_args(input, weight, bias, stride, padding, output_padding, groups, dilation)
    x, n = a.input, a.input.shape[0]
    y = np.empty((n, a.out_channels, *a.out_size), a.dtype)
    _by_samples(n, _conv_work(n, x.shape[2:], a.weight.shape), lambda n0, n1: _input_gradient(
        x[n0:n1], a.weight, (n1 - n0, a.out_channels, *a.out_size), a, y[n0:n1]))
    return _with_bias(y, a)


def conv_transpose2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                              stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                              groups: int = 1, dilation: IntOrTuple = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv_transpose2d`: ``(grad_input, grad_weight, grad_bias)``.

    The adjoint of a transposed convolution is the convolution: ``dX = conv2d(G, W, stride, padding,
    dilation, groups)`` (cropped to X's size); ``dW[c, o, u, v] = sum_{n,i,j} X[n, c, i, j]
    G[n, o, i s + u d - p, j s + v d - p]``; ``db[o] = sum_{n,i,j} G[n, o, i, j]``.
    """
    a = conv_transpose_args(input, weight, None, stride, padding, output_padding, groups, dilation,
                            grad_output=grad_output)
    g, x, n = a.grad_output, a.input, a.input.shape[0]
    grad_input = np.empty(x.shape, a.dtype)

    def part(n0: int, n1: int) -> np.ndarray:
        # conv2d(G) covers at least X's size (more when output_padding >= stride): keep X's rows/columns
        grad_input[n0:n1] = _forward(g[n0:n1], a.weight, a.stride, a.padding, a.dilation, a.groups)[0][
            :, :, :x.shape[2], :x.shape[3]]
        return _weight_grad(g[n0:n1], x[n0:n1], a.weight.shape[2:], a.stride, a.padding, a.dilation, a.groups)

    grad_weight = sum(_by_samples(n, 2 * _conv_work(n, x.shape[2:], a.weight.shape), part))
    grad_bias = g.sum(axis=(0, 2, 3))
    return a.finish(grad_input), grad_weight, grad_bias
