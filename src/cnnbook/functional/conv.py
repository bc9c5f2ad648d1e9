"""Vectorised convolutions (forward and backward): im2col windows + one BLAS matrix product.

Notation (NCHW): input ``X`` (N, C, H, W), weight ``W`` (C_out, C/groups, k_h, k_w), bias ``b`` (C_out,),
stride ``s``, zero padding ``p``, dilation ``d``, output ``Y`` (N, C_out, H_out, W_out) with
``H_out = floor((H + 2p - d(k_h - 1) - 1) / s) + 1`` and

    Y[n, o, i, j] = b[o] + sum_{c, u, v} X[n, c, i s + u d - p, j s + v d - p] W[o, c, u, v]

(``c`` running over the input channels of ``o``'s group). The backward pass is built the way the book
derives it:

* ``grad_input``: insert ``s - 1`` zeros between the output-gradient entries (:func:`insert_zeros`),
  pad by ``d(k - 1)`` (a *full* correlation) plus the leftover rows/columns the forward windows never
  reached, and cross-correlate with the kernel rotated by 180 degrees (:func:`rot180`), dilated
  (:func:`dilate_kernel`), with input and output channels swapped within each group; then crop the
  forward padding. The same function is the transposed convolution.
* ``grad_weight``: cross-correlation of the (padded) input with the output gradient.
* ``grad_bias``: the output gradient summed over the batch and the positions.

Unbatched inputs ``(C, H, W)`` (``(C, L)`` for 1-D) are accepted like torch and give unbatched results.
float32 inputs give float32 results, float64 (or mixed) give float64.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .. import shapes
from ..arguments import ConvArgs, IntOrTuple, Padding, conv_args, conv_transpose_args
from ..primitives import dilate_kernel, insert_zeros, pad2d, rot180
from ..windows import sliding_windows

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "conv1d_backward", "conv2d_backward",
           "conv_transpose2d_backward"]

# Largest im2col block (bytes) built at once; bigger batches are processed in chunks of samples.
_COLS_BUDGET = 64 * 2**20


# --------------------------------------------------------------------------------------------------
# the three kernels everything is built from
# --------------------------------------------------------------------------------------------------

def _chunks(n, rows, length, itemsize):
    """Sample ranges whose im2col blocks (rows x length each) stay within the memory budget."""
    step = max(1, int(_COLS_BUDGET // max(1, rows * length * itemsize)))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def _correlate(x, w, stride, pad, dilation, groups):
    """Grouped cross-correlation ``Y[n, o, i, j] = sum_{c,u,v} X_pad[n, c, i s + u d, j s + v d] W[o, c, u, v]``.

    Two ways to evaluate the same sum, per group and per chunk of samples:

    * gather (im2col): copy the windows into columns, then ``W_g (C_out/g, C_g k_h k_w) @ cols``;
    * scatter (stride 1 only, used when a group has fewer output than input channels, as in the
      gradient of the input): ``P_uv = W[:, :, u, v] @ X_pad`` for every tap at once (one product),
      then ``Y = sum_{u, v} P_uv`` shifted by ``(u d, v d)``; this moves less memory.

    Taps whose weights are all zero (the holes of a :func:`dilate_kernel` kernel) are skipped.
    """
    n = x.shape[0]
    c_out, cg, kh, kw = w.shape
    top, bottom, left, right = pad
    ho, wo = shapes.conv_output_size(x.shape[2:], (kh, kw), stride, ((top, bottom), (left, right)), dilation)
    og = c_out // groups
    us, vs = np.nonzero(np.any(w != 0, axis=(0, 1)))     # taps that matter
    if len(us) == 0:
        us, vs = np.array([0]), np.array([0])
    taps = len(us)
    dtype = np.result_type(x.dtype, w.dtype)
    if og < cg and stride == (1, 1):
        return _correlate_scatter(x, w, pad, us, vs, dilation, groups, (ho, wo), dtype)
    xp = pad2d(x, pad) if any(pad) else x
    y = np.empty((n, c_out, ho * wo), dtype)
    for g in range(groups):
        wg = w[g * og:(g + 1) * og]
        wm = wg.reshape(og, cg * kh * kw) if taps == kh * kw else wg[:, :, us, vs].reshape(og, cg * taps)
        for a, b in _chunks(n, cg * taps, ho * wo, xp.itemsize):
            view = sliding_windows(xp[a:b, g * cg:(g + 1) * cg], (kh, kw), stride, dilation)
            cols = view.reshape(b - a, cg * kh * kw, ho * wo) if taps == kh * kw else view[:, :, us, vs]
            y[a:b, g * og:(g + 1) * og] = wm @ cols.reshape(b - a, cg * taps, ho * wo)
    return y.reshape(n, c_out, ho, wo)


def _correlate_scatter(x, w, pad, us, vs, dilation, groups, out, dtype):
    """Stride-1 correlation as "multiply every tap, then add the shifted products" (see _correlate).

    The zero padding is not materialised: each product is added only where it overlaps the output.
    """
    n, _, h, width = x.shape
    c_out, cg, _, _ = w.shape
    og, (ho, wo), (dil_h, dil_w), (top, _, left, _) = c_out // groups, out, dilation, pad
    taps = len(us)
    y = np.empty((n, c_out, ho, wo), dtype)
    for g in range(groups):
        wm = w[g * og:(g + 1) * og][:, :, us, vs].transpose(2, 0, 1).reshape(taps * og, cg)
        for a, b in _chunks(n, taps * og, h * width, x.itemsize):
            xg = x[a:b, g * cg:(g + 1) * cg].transpose(1, 0, 2, 3).reshape(cg, (b - a) * h * width)
            prod = (wm @ xg).reshape(taps, og, b - a, h, width)
            acc = np.zeros((og, b - a, ho, wo), dtype)
            for t, (u, v) in enumerate(zip(us, vs)):
                # output row i reads padded row i + u d, i.e. row i + u d - top of x
                r, c = u * dil_h - top, v * dil_w - left
                i0, i1 = max(0, -r), min(ho, h - r)
                j0, j1 = max(0, -c), min(wo, width - c)
                if i0 < i1 and j0 < j1:
                    acc[:, :, i0:i1, j0:j1] += prod[t, :, :, i0 + r:i1 + r, j0 + c:j1 + c]
            y[a:b, g * og:(g + 1) * og] = acc.transpose(1, 0, 2, 3)
    return y


def _weight_grad(x, grad, kernel, stride, pad, dilation, groups):
    """``dW[o, c, u, v] = sum_{n,i,j} G[n, o, i, j] X_pad[n, c, i s + u d, j s + v d]``: the input
    cross-correlated with the output gradient (``G`` is (N, C_out, H_out, W_out))."""
    xp = pad2d(x, pad) if any(pad) else x
    n, c, _, _ = xp.shape
    _, c_out, ho, wo = grad.shape
    kh, kw = kernel
    cg, og = c // groups, c_out // groups
    grad_weight = np.zeros((c_out, cg * kh * kw), np.result_type(xp.dtype, grad.dtype))
    for g in range(groups):
        for a, b in _chunks(n, cg * kh * kw, ho * wo, xp.itemsize):
            # columns laid out (C_g k_h k_w, n h_out w_out) so that one matrix product sums over n, i, j
            view = sliding_windows(xp[a:b, g * cg:(g + 1) * cg], kernel, stride, dilation, (ho, wo))
            cols = view.transpose(1, 2, 3, 0, 4, 5).reshape(cg * kh * kw, (b - a) * ho * wo)
            gm = grad[a:b, g * og:(g + 1) * og].transpose(1, 0, 2, 3).reshape(og, (b - a) * ho * wo)
            grad_weight[g * og:(g + 1) * og] += gm @ cols.T
    return grad_weight.reshape(c_out, cg, kh, kw)


def _pad_or_crop(z, top, bottom, left, right):
    """Zero-pad the last two axes; a negative amount crops that many rows/columns instead."""
    z = z[..., max(0, -top): z.shape[-2] - max(0, -bottom), max(0, -left): z.shape[-1] - max(0, -right)]
    return pad2d(z, (max(0, top), max(0, bottom), max(0, left), max(0, right)))


def _swap_channels(w, groups):
    """(C_a, C_b/g, k_h, k_w) -> (C_b, C_a/g, k_h, k_w): swap in/out channels within each group."""
    ca, cbg, kh, kw = w.shape
    return w.reshape(groups, ca // groups, cbg, kh, kw).transpose(0, 2, 1, 3, 4).reshape(groups * cbg, ca // groups, kh, kw)


def _transposed(y, w, stride, pad, dilation, groups, extra):
    """The transposed convolution, the book's way: zero insertion, full padding, rot180, swapped channels.

    ``y`` (N, C_a, H, W), ``w`` (C_a, C_b/groups, k_h, k_w). With ``d_k = d(k - 1) + 1``:
    ``Z = insert_zeros(y, s)`` padded by ``d_k - 1 - p_top`` above and ``d_k - 1 - p_bottom + extra``
    below (likewise left/right), then ``Z star dilate_kernel(rot180(W_swapped), d)`` with stride 1.
    Output height ``(H - 1) s - p_top - p_bottom + d_k + extra``.
    """
    span_h, span_w = shapes.effective_kernel_size(w.shape[2:], dilation)
    z = insert_zeros(y, stride) if stride != (1, 1) else y
    top, bottom, left, right = pad
    full = (span_h - 1 - top, span_h - 1 - bottom + extra[0], span_w - 1 - left, span_w - 1 - right + extra[1])
    z = _pad_or_crop(z, *(min(0, q) for q in full))      # negative amounts crop
    kernel = rot180(_swap_channels(w, groups))
    if dilation != (1, 1):
        kernel = dilate_kernel(kernel, dilation)
    return _correlate(z, kernel, (1, 1), tuple(max(0, q) for q in full), (1, 1), groups)


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
    return _with_bias(_correlate(a.input, a.weight, a.stride, a.padding, a.dilation, a.groups), a)


def conv1d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1) -> np.ndarray:
    """1-D cross-correlation layer, as ``torch.nn.functional.conv1d`` (conv2d with height 1).

    ``Y[n, o, i] = b[o] + sum_{c, u} X[n, c, i s + u d - p] W[o, c, u]``,
    ``L_out = floor((L + 2p - d(k - 1) - 1) / s) + 1``; input (N, C, L) or (C, L), weight (C_out, C/groups, k).
    """
    a = conv_args(1, input, weight, bias, stride, padding, dilation, groups)
    return _with_bias(_correlate(a.input, a.weight, a.stride, a.padding, a.dilation, a.groups), a)


def _conv_backward(a: ConvArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # the rows/columns of the padded input that no window reached (a.output_padding) get zero gradient
    grad_input = _transposed(a.grad_output, a.weight, a.stride, a.padding, a.dilation, a.groups,
                             a.output_padding)
    grad_weight = _weight_grad(a.input, a.grad_output, a.weight.shape[2:], a.stride, a.padding, a.dilation,
                               a.groups)
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
    Built from the same pieces as ``conv2d_backward``'s ``grad_input``: insert ``s - 1`` zeros between
    input entries, pad ``d(k - 1) - p`` on each side (plus ``output_padding`` at the bottom/right),
    cross-correlate with ``rot180`` of the dilated kernel with in/out channels swapped, stride 1.
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
    y = _transposed(a.input, a.weight, a.stride, a.padding, a.dilation, a.groups, a.output_padding)
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
    grad_input = _correlate(g, a.weight, a.stride, a.padding, a.dilation, a.groups)[:, :, :h, :width]
    grad_weight = _weight_grad(g, a.input, a.weight.shape[2:], a.stride, a.padding, a.dilation, a.groups)
    grad_bias = g.sum(axis=(0, 2, 3))
    return a.finish(np.ascontiguousarray(grad_input)), grad_weight, grad_bias
