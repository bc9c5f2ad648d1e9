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
destination (``out=``), the col2im adds go into a per-block padded buffer that is cropped once. The
layout stays NCHW throughout: ``W_mat @ cols_n`` *is* sample ``n`` of the output, no transposes.

Unbatched inputs ``(C, H, W)`` (``(C, L)`` for 1-D) are accepted like torch and give unbatched results.
float32 inputs give float32 results, float64 (or mixed) give float64.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .. import shapes
from ..arguments import ConvArgs, IntOrTuple, Padding, conv_args, conv_transpose_args
from ..windows import sliding_windows

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "conv1d_backward", "conv2d_backward",
           "conv_transpose2d_backward"]

#: Largest im2col block (bytes) built at once: a block of samples, or of output rows of one sample.
_COLS_BUDGET = 2 * 2**20


# --------------------------------------------------------------------------------------------------
# the three kernels everything is built from
# --------------------------------------------------------------------------------------------------
def _padded(x: np.ndarray, pad: tuple[int, int, int, int]) -> np.ndarray:
    """``x`` (N, C, H, W) with ``(top, bottom, left, right)`` zero rows/columns around each plane."""
    top, bottom, left, right = pad
    if not any(pad):
        return x
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + top + bottom, w + left + right), x.dtype)
    xp[:, :, top:top + h, left:left + w] = x
    return xp


def _blocks(n: int, ho: int, row_bytes: int):
    """``(n0, n1, i0, i1)``: samples ``n0:n1``, output rows ``i0:i1``, whose columns fit the budget.

    ``row_bytes`` is the size of the columns of one output row of one sample. Whole samples are
    grouped while they fit; a sample larger than the budget is cut into blocks of output rows.
    """
    per_sample = row_bytes * ho
    if per_sample <= _COLS_BUDGET:
        step = max(1, _COLS_BUDGET // max(1, per_sample))
        return [(a, min(n, a + step), 0, ho) for a in range(0, n, step)]
    rows = max(1, _COLS_BUDGET // max(1, row_bytes))
    return [(a, a + 1, i, min(ho, i + rows)) for a in range(n) for i in range(0, ho, rows)]


class _Columns:
    """im2col of the windows ``view`` (N, C, k_h, k_w, H_out, W_out) into one reused buffer.

    A block of ``nb`` samples is laid out ``(K, nb, positions)``: the batch is folded into the columns,
    so one product serves the whole block (for one sample it is simply im2col's ``cols_n``).
    """

    def __init__(self, view: np.ndarray, groups: int, blocks):
        self.view, self.groups = view, groups
        n, c, kh, kw, ho, wo = view.shape
        self.k = c // groups * kh * kw
        most = max(((b - a) * (i1 - i0) for a, b, i0, i1 in blocks), default=0)
        self.buffer = np.empty(most * self.k * wo, view.dtype)

    def __call__(self, n0: int, n1: int, i0: int, i1: int, g: int) -> np.ndarray:
        """``cols`` of samples ``n0:n1``, output rows ``i0:i1``, group ``g``: (K, (n1 - n0) rows W_out)."""
        v = self.view
        cg = v.shape[1] // self.groups
        block = v[n0:n1, g * cg:(g + 1) * cg, :, :, i0:i1].transpose(1, 2, 3, 0, 4, 5)
        cols = self.buffer[:block.size].reshape(block.shape)
        np.copyto(cols, block)
        return cols.reshape(self.k, -1)


class _Buffer:
    """One reused (rows, columns) scratch matrix for the products of every block: fresh large arrays
    per block would cost page faults (the memory returns to the system and comes back zeroed)."""

    def __init__(self, rows: int, blocks, wo: int, dtype):
        most = max(((b - a) * (i1 - i0) for a, b, i0, i1 in blocks), default=0)
        self.rows, self.data = rows, np.empty(rows * most * wo, dtype)

    def __call__(self, columns: int) -> np.ndarray:
        return self.data[:self.rows * columns].reshape(self.rows, columns)


def _gradient_block(g: np.ndarray, n0: int, n1: int, i0: int, i1: int, c0: int, c1: int) -> np.ndarray:
    """``G[n0:n1, c0:c1, i0:i1]`` laid out like the columns, (channels, samples x positions): a view
    for one sample, a (small) copy for several."""
    if n1 - n0 == 1:
        return g[n0, c0:c1, i0:i1].reshape(c1 - c0, -1)
    return g[n0:n1, c0:c1, i0:i1].transpose(1, 0, 2, 3).reshape(c1 - c0, -1)


def _forward(x, w, stride, pad, dilation, groups):
    """Grouped cross-correlation ``Y[n, o, i, j] = sum_{c,u,v} X_pad[n, c, i s + u d, j s + v d] W[o, c, u, v]``,
    as ``Y_n = W_mat @ cols_n`` per group, block by block."""
    n = x.shape[0]
    c_out, cg, kh, kw = w.shape
    top, bottom, left, right = pad
    ho, wo = shapes.conv_output_size(x.shape[2:], (kh, kw), stride, ((top, bottom), (left, right)), dilation)
    og = c_out // groups
    dtype = np.result_type(x.dtype, w.dtype)
    view = sliding_windows(_padded(x, pad), (kh, kw), stride, dilation, (ho, wo))
    blocks = _blocks(n, ho, cg * kh * kw * wo * x.itemsize)
    columns = _Columns(view, groups, blocks)
    wm = w.reshape(groups, og, cg * kh * kw)
    y = np.empty((n, c_out, ho, wo), dtype)
    products = _Buffer(og, blocks, wo, dtype)
    for n0, n1, i0, i1 in blocks:
        for g in range(groups):
            cols = columns(n0, n1, i0, i1, g)
            if n1 - n0 == 1 and i1 - i0 == ho:   # one whole sample: the product is its output
                np.matmul(wm[g], cols, out=y[n0, g * og:(g + 1) * og].reshape(og, ho * wo))
            else:
                prod = np.matmul(wm[g], cols, out=products(cols.shape[1]))
                y[n0:n1, g * og:(g + 1) * og, i0:i1] = prod.reshape(og, n1 - n0, i1 - i0, wo).transpose(1, 0, 2, 3)
    return y


def _backward(g, w, x_shape, stride, pad, dilation, groups, x=None):
    """``grad_input`` of the correlation :func:`_forward` (col2im of ``W_mat^T @ G_n``), and
    ``grad_weight`` (``sum_n G_n @ cols_n^T``) if the forward input ``x`` is given.

    ``g`` (N, C_out, H_out, W_out), ``w`` (C_out, C/groups, k_h, k_w), ``x_shape`` (N, C, H, W).
    Returns ``(grad_input, grad_weight or None)``.
    """
    n, c, h, width = x_shape
    c_out, cg, kh, kw = w.shape
    _, _, ho, wo = g.shape
    (sh, sw), (dh, dw), (top, bottom, left, right) = stride, dilation, pad
    og, k = c_out // groups, cg * kh * kw
    dtype = np.result_type(g.dtype, w.dtype)
    hp, wp = h + top + bottom, width + left + right
    blocks = _blocks(n, ho, k * wo * np.dtype(dtype).itemsize)
    wm = w.reshape(groups, og, k)
    wt = np.ascontiguousarray(wm.transpose(0, 2, 1))          # W_mat^T per group, (K, C_out/groups)
    grad_input = np.empty((n, c, h, width), dtype)
    # without padding the col2im adds go straight into grad_input; else into the padded block, cropped
    direct = not any(pad)
    most = max((b - a for a, b, _, _ in blocks), default=0)
    scratch = None if direct else np.empty((most, c, hp, wp), dtype)
    grad_weight = columns = None
    if x is not None:
        grad_weight = np.zeros((groups, og, k), dtype)
        view = sliding_windows(_padded(x, pad), (kh, kw), stride, dilation, (ho, wo))
        columns = _Columns(view, groups, blocks)
    cols_w = (wo - 1) * sw + 1
    products = _Buffer(k, blocks, wo, dtype)
    for n0, n1, i0, i1 in blocks:
        nb, rows = n1 - n0, i1 - i0
        target = grad_input[n0:n1] if direct else scratch[:nb]
        if i0 == 0:
            target[...] = 0   # the rows/columns no window reached keep this 0
        for gi in range(groups):
            gm = _gradient_block(g, n0, n1, i0, i1, gi * og, (gi + 1) * og)   # (og, nb rows W_out)
            if columns is not None:
                grad_weight[gi] += gm @ columns(n0, n1, i0, i1, gi).T
            dcols = np.matmul(wt[gi], gm, out=products(gm.shape[1])).reshape(cg, kh, kw, nb, rows, wo)
            dst = target[:, gi * cg:(gi + 1) * cg]
            for u in range(kh):
                r = i0 * sh + u * dh
                for v in range(kw):
                    # tap (u, v) of output (i, j) was read from padded cell (i s + u d, j s + v d)
                    c0 = v * dw
                    dst[:, :, r:r + (rows - 1) * sh + 1:sh, c0:c0 + cols_w:sw] += dcols[:, u, v].transpose(1, 0, 2, 3)
        if not direct and i1 == ho:
            grad_input[n0:n1] = scratch[:nb, :, top:top + h, left:left + width]
    gw = None if grad_weight is None else grad_weight.reshape(c_out, cg, kh, kw)
    return grad_input, gw


def _weight_grad(x, g, kernel, stride, pad, dilation, groups):
    """``dW[o, c, u, v] = sum_{n,i,j} G[n, o, i, j] X_pad[n, c, i s + u d, j s + v d]``: the input
    cross-correlated with the output gradient (``G`` is (N, C_out, H_out, W_out)), ``sum_n G_n @ cols_n^T``."""
    n, c, _, _ = x.shape
    _, c_out, ho, wo = g.shape
    kh, kw = kernel
    cg, og = c // groups, c_out // groups
    dtype = np.result_type(x.dtype, g.dtype)
    view = sliding_windows(_padded(x, pad), kernel, stride, dilation, (ho, wo))
    blocks = _blocks(n, ho, cg * kh * kw * wo * x.itemsize)
    columns = _Columns(view, groups, blocks)
    grad_weight = np.zeros((groups, og, cg * kh * kw), dtype)
    for n0, n1, i0, i1 in blocks:
        for gi in range(groups):
            gm = _gradient_block(g, n0, n1, i0, i1, gi * og, (gi + 1) * og)
            grad_weight[gi] += gm @ columns(n0, n1, i0, i1, gi).T
    return grad_weight.reshape(c_out, cg, kh, kw)


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
    a = conv_args(2, input, weight, bias, stride, padding, dilation, groups)
    return _with_bias(_forward(a.input, a.weight, a.stride, a.padding, a.dilation, a.groups), a)


def conv1d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1) -> np.ndarray:
    """1-D cross-correlation layer, as ``torch.nn.functional.conv1d`` (conv2d with height 1).

    ``Y[n, o, i] = b[o] + sum_{c, u} X[n, c, i s + u d - p] W[o, c, u]``,
    ``L_out = floor((L + 2p - d(k - 1) - 1) / s) + 1``; input (N, C, L) or (C, L), weight (C_out, C/groups, k).
    """
    a = conv_args(1, input, weight, bias, stride, padding, dilation, groups)
    return _with_bias(_forward(a.input, a.weight, a.stride, a.padding, a.dilation, a.groups), a)


def _conv_backward(a: ConvArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # the rows/columns of the padded input that no window reached (a.output_padding) get zero gradient
    grad_input, grad_weight = _backward(a.grad_output, a.weight, a.input.shape, a.stride, a.padding,
                                        a.dilation, a.groups, x=a.input)
    grad_bias = a.grad_output.sum(axis=(0, 2, 3))
    return a.finish(grad_input), a.finish_weight(grad_weight), grad_bias


def conv2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1,
                    groups: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d` with respect to input, weight and bias.

    With ``G = dL/dY`` (N, C_out, H_out, W_out):

    * ``dX = crop_p( pad_full(insert_zeros(G, s)) star dilate_kernel(rot180(W^T), d) )`` where ``W^T``
      swaps in/out channels per group and ``pad_full`` pads ``d(k - 1)`` on each side plus
      ``(H + 2p - d(k - 1) - 1) mod s`` rows at the bottom (columns at the right) that no window reached;
    * ``dW[o, c, u, v] = sum_{n, i, j} G[n, o, i, j] X[n, c, i s + u d - p, j s + v d - p]``;
    * ``db[o] = sum_{n, i, j} G[n, o, i, j]``.

    Evaluated as matrix products per sample (module docstring): ``dX = crop_p(col2im(W_mat^T @ G_n))``,
    which adds up the same products as the zero-inserted correlation, and ``dW_mat = sum_n G_n @ cols_n^T``.

    Returns
    -------
    (grad_input, grad_weight, grad_bias) with the shapes of input, weight and (C_out,).
    """
    return _conv_backward(conv_args(2, input, weight, None, stride, padding, dilation, groups,
                                    grad_output=grad_output))


def conv1d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1,
                    groups: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv1d`: ``(grad_input, grad_weight, grad_bias)``, as :func:`conv2d_backward`
    with height 1."""
    return _conv_backward(conv_args(1, input, weight, None, stride, padding, dilation, groups,
                                    grad_output=grad_output))


def conv_transpose2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                     groups: int = 1, dilation: IntOrTuple = 1) -> np.ndarray:
    """Transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    Scatter form: ``Y[n, o, i s + u d - p, j s + v d - p] += X[n, c, i, j] W[c, o, u, v]`` (+ ``b[o]``).
    Equivalently (the book's construction): insert ``s - 1`` zeros between input entries, pad
    ``d(k - 1) - p`` on each side (plus ``output_padding`` at the bottom/right), cross-correlate with
    ``rot180`` of the dilated kernel with in/out channels swapped, stride 1. Computed in the scatter form,
    as ``conv2d_backward``'s ``grad_input``: ``dcols_n = W_mat^T @ X_n``, then col2im.
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
    y, _ = _backward(a.input, a.weight, (a.input.shape[0], a.out_channels, *a.out_size), a.stride, a.padding, a.dilation,
                     a.groups)
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
    g, (h, width) = a.grad_output, a.input.shape[2:]
    grad_input = _forward(g, a.weight, a.stride, a.padding, a.dilation, a.groups)[:, :, :h, :width]
    grad_weight = _weight_grad(g, a.input, a.weight.shape[2:], a.stride, a.padding, a.dilation, a.groups)
    grad_bias = g.sum(axis=(0, 2, 3))
    return a.finish(np.ascontiguousarray(grad_input)), grad_weight, grad_bias
