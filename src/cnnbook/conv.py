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

from types import SimpleNamespace

import numpy as np

from ._checks import as_float_array, check_groups, common_dtype, nonnegative_tuple, positive_tuple
from .primitives import _windows, dilate_kernel, insert_zeros, pad2d, rot180

__all__ = [
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "conv1d_backward",
    "conv2d_backward",
    "conv_transpose2d_backward",
]

# Largest im2col block (bytes) built at once; bigger batches are processed in chunks of samples.
_COLS_BUDGET = 64 * 2**20


# --------------------------------------------------------------------------------------------------
# argument parsing (shared by forward and backward)
# --------------------------------------------------------------------------------------------------

def _lift(t, nd, fill):
    """A 1-D tuple (l,) becomes the 2-D (fill, l); 2-D tuples are unchanged."""
    return t if nd == 2 else (fill, t[0])


def _padding(padding, kernel, stride, dilation, nd):
    """(top, bottom, left, right) in 2-D terms from an int/tuple or 'valid'/'same' (torch's rules)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"padding must be 'valid', 'same', an int or a tuple of ints, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"padding='same' is not supported for strided convolutions (stride={stride})")
        pads = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]        # odd total: the extra one goes right/bottom
        return tuple(pads) if nd == 2 else (0, 0, *pads)
    p = nonnegative_tuple(padding, "padding", nd)
    p = _lift(p, nd, 0)
    return (p[0], p[0], p[1], p[1])


def _conv_sizes(nd, x, w, s, padding, d, groups):
    """Channel/group checks and output size of a convolution (torch's rules)."""
    c_in, c_out, kernel = x.shape[1], w.shape[0], w.shape[2:]
    groups = check_groups(groups, c_in, c_out)
    if c_in != w.shape[1] * groups:
        raise ValueError(
            f"channel mismatch: input has {c_in} channels but weight.shape[1] * groups = "
            f"{w.shape[1]} * {groups} = {w.shape[1] * groups}"
        )
    pad = _padding(padding, kernel[-nd:], s[-nd:], d[-nd:], nd)
    out = []
    for n, k, si, di, (pa, pb) in zip(x.shape[2:], kernel, s, d, (pad[:2], pad[2:])):
        span = di * (k - 1) + 1
        if span > n + pa + pb:
            raise ValueError(
                f"weight: kernel size can't be greater than the padded input size: (dilated) kernel "
                f"size {span} > input size {n} + padding {pa + pb} = {n + pa + pb}"
            )
        out.append((n + pa + pb - span) // si + 1)
    return groups, c_out, pad, (0, 0), tuple(out)


def _transposed_sizes(nd, x, w, s, padding, d, groups, output_padding):
    """Channel/group checks and output size of a transposed convolution (torch's rules)."""
    c_in, kernel = x.shape[1], w.shape[2:]
    if isinstance(padding, str):
        raise TypeError(f"padding of a transposed convolution must be an int or a tuple of ints, got {padding!r}")
    if c_in != w.shape[0]:
        raise ValueError(
            f"channel mismatch: input has {c_in} channels but weight.shape[0] = {w.shape[0]} "
            f"(weight is (C_in, C_out/groups, ...))"
        )
    groups = check_groups(groups, c_in, c_in)
    pad = _padding(padding, kernel[-nd:], s[-nd:], d[-nd:], nd)
    op = _lift(nonnegative_tuple(output_padding, "output_padding", nd), nd, 0)
    if any(o >= si and o >= di for o, si, di in zip(op, s, d)):
        raise ValueError(
            f"output_padding must be smaller than either stride or dilation, got "
            f"output_padding={op[-nd:]}, stride={s[-nd:]}, dilation={d[-nd:]}"
        )
    out = tuple((n - 1) * si - pa - pb + di * (k - 1) + o + 1
                for n, si, (pa, pb), di, k, o in zip(x.shape[2:], s, (pad[:2], pad[2:]), d, kernel, op))
    if min(out) < 1:
        raise ValueError(
            f"input: the transposed convolution's output size {out[-nd:]} is too small for input size "
            f"{x.shape[2:][-nd:]} (kernel {kernel[-nd:]}, stride {s[-nd:]}, padding {pad[::2][-nd:]}, "
            f"dilation {d[-nd:]})"
        )
    return groups, w.shape[1] * groups, pad, op, out


def _parse(nd, input, weight, bias, stride, padding, dilation, groups, transposed=False, output_padding=0):
    """Check and normalise the arguments of a convolution; 1-D problems become 2-D with height 1."""
    spatial = "(N, C, L) or (C, L)" if nd == 1 else "(N, C, H, W) or (C, H, W)"
    x = as_float_array(input, "input", ndim=(nd + 1, nd + 2), layout=spatial)
    wl = ("(C_in, C_out/groups, " if transposed else "(C_out, C_in/groups, ") + ("k)" if nd == 1 else "k_h, k_w)")
    w = as_float_array(weight, "weight", ndim=nd + 2, layout=wl)
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]
    if nd == 1:
        x, w = x[:, :, None, :], w[:, :, None, :]
    s = _lift(positive_tuple(stride, "stride", nd), nd, 1)
    d = _lift(positive_tuple(dilation, "dilation", nd), nd, 1)
    kernel = w.shape[2:]
    if min(kernel) < 1:
        raise ValueError(f"weight must have a non-empty kernel, got weight of shape {w.shape}")
    c_in = x.shape[1]
    if transposed:
        groups, c_out, pad, op, out = _transposed_sizes(nd, x, w, s, padding, d, groups, output_padding)
    else:
        groups, c_out, pad, op, out = _conv_sizes(nd, x, w, s, padding, d, groups)
    if bias is not None:
        bias = as_float_array(bias, "bias", ndim=1, layout="(C_out,)")
        if bias.shape[0] != c_out:
            raise ValueError(f"bias must have length C_out = {c_out}, got shape {bias.shape}")
    return SimpleNamespace(x=x, w=w, bias=bias, stride=s, pad=pad, dilation=d, groups=groups, op=op,
                           out=out, unbatched=unbatched, nd=nd, c_out=c_out)


def _check_grad_output(grad_output, a, dtype):
    """grad_output must have the forward output's shape; return it as (N, C_out, H_out, W_out)."""
    want = (a.x.shape[0], a.c_out, *a.out)
    shown = want[1:] if a.unbatched else want
    if a.nd == 1:
        shown = shown[:-2] + shown[-1:]
    g = as_float_array(grad_output, "grad_output")
    if g.shape != tuple(shown):
        raise ValueError(f"grad_output must have the output's shape {tuple(shown)}, got {g.shape}")
    return g.reshape(want).astype(dtype, copy=False)


def _finish(y, a):
    """Undo the 1-D lift and the batch axis added for unbatched inputs."""
    if a.nd == 1:
        y = y[:, :, 0, :]
    return y[0] if a.unbatched else y


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
    n, _, hp, wp = x.shape
    hp, wp = hp + pad[0] + pad[1], wp + pad[2] + pad[3]
    c_out, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    og = c_out // groups
    us, vs = np.nonzero(np.any(w != 0, axis=(0, 1)))     # taps that matter
    if len(us) == 0:
        us, vs = np.array([0]), np.array([0])
    taps = len(us)
    dtype = np.result_type(x.dtype, w.dtype)
    if og < cg and (sh, sw) == (1, 1):
        return _correlate_scatter(x, w, pad, us, vs, (dh, dw), groups, (ho, wo), dtype)
    xp = pad2d(x, pad) if any(pad) else x
    y = np.empty((n, c_out, ho * wo), dtype)
    for g in range(groups):
        wg = w[g * og:(g + 1) * og]
        wm = wg.reshape(og, cg * kh * kw) if taps == kh * kw else wg[:, :, us, vs].reshape(og, cg * taps)
        for a, b in _chunks(n, cg * taps, ho * wo, xp.itemsize):
            view = _windows(xp[a:b, g * cg:(g + 1) * cg], (kh, kw), stride, dilation, (ho, wo))
            cols = view.reshape(b - a, cg * kh * kw, ho * wo) if taps == kh * kw else view[:, :, us, vs]
            y[a:b, g * og:(g + 1) * og] = wm @ cols.reshape(b - a, cg * taps, ho * wo)
    return y.reshape(n, c_out, ho, wo)


def _correlate_scatter(x, w, pad, us, vs, dilation, groups, out, dtype):
    """Stride-1 correlation as "multiply every tap, then add the shifted products" (see _correlate).

    The zero padding is not materialised: each product is added only where it overlaps the output.
    """
    n, _, h, width = x.shape
    c_out, cg, _, _ = w.shape
    og, (ho, wo), (dh, dw), (top, _, left, _) = c_out // groups, out, dilation, pad
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
                r, c = u * dh - top, v * dw - left
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
    dw = np.zeros((c_out, cg * kh * kw), np.result_type(xp.dtype, grad.dtype))
    for g in range(groups):
        for a, b in _chunks(n, cg * kh * kw, ho * wo, xp.itemsize):
            # columns laid out (C_g k_h k_w, n h_out w_out) so that one matrix product sums over n, i, j
            view = _windows(xp[a:b, g * cg:(g + 1) * cg], kernel, stride, dilation, (ho, wo))
            cols = view.transpose(1, 2, 3, 0, 4, 5).reshape(cg * kh * kw, (b - a) * ho * wo)
            gm = grad[a:b, g * og:(g + 1) * og].transpose(1, 0, 2, 3).reshape(og, (b - a) * ho * wo)
            dw[g * og:(g + 1) * og] += gm @ cols.T
    return dw.reshape(c_out, cg, kh, kw)


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
    kh, kw = w.shape[2:]
    (sh, sw), (dh, dw) = stride, dilation
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    z = insert_zeros(y, (sh, sw)) if (sh, sw) != (1, 1) else y
    top, bottom, left, right = pad
    full = (span_h - 1 - top, span_h - 1 - bottom + extra[0], span_w - 1 - left, span_w - 1 - right + extra[1])
    z = _pad_or_crop(z, *(min(0, q) for q in full))      # negative amounts crop
    kernel = rot180(_swap_channels(w, groups))
    if (dh, dw) != (1, 1):
        kernel = dilate_kernel(kernel, (dh, dw))
    return _correlate(z, kernel, (1, 1), tuple(max(0, q) for q in full), (1, 1), groups)


# --------------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------------

def _forward(a, dtype):
    y = _correlate(a.x.astype(dtype, copy=False), a.w.astype(dtype, copy=False), a.stride, a.pad,
                   a.dilation, a.groups)
    if a.bias is not None:
        y += a.bias.astype(dtype, copy=False)[:, None, None]
    return _finish(y, a)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
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
    a = _parse(2, input, weight, bias, stride, padding, dilation, groups)
    return _forward(a, common_dtype(a.x, a.w, a.bias))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation layer, as ``torch.nn.functional.conv1d`` (conv2d with height 1).

    ``Y[n, o, i] = b[o] + sum_{c, u} X[n, c, i s + u d - p] W[o, c, u]``,
    ``L_out = floor((L + 2p - d(k - 1) - 1) / s) + 1``; input (N, C, L) or (C, L), weight (C_out, C/groups, k).
    """
    a = _parse(1, input, weight, bias, stride, padding, dilation, groups)
    return _forward(a, common_dtype(a.x, a.w, a.bias))


def _conv_backward(nd, grad_output, input, weight, stride, padding, dilation, groups):
    a = _parse(nd, input, weight, None, stride, padding, dilation, groups)
    g0 = as_float_array(grad_output, "grad_output")
    dtype = common_dtype(a.x, a.w, g0)
    g = _check_grad_output(g0, a, dtype)
    x, w = a.x.astype(dtype, copy=False), a.w.astype(dtype, copy=False)
    top, bottom, left, right = a.pad
    (sh, sw), (dh, dw) = a.stride, a.dilation
    kh, kw = w.shape[2:]
    # rows/columns of the padded input that no window reached: they get zero gradient
    extra = ((x.shape[2] + top + bottom - dh * (kh - 1) - 1) % sh,
             (x.shape[3] + left + right - dw * (kw - 1) - 1) % sw)
    grad_input = _transposed(g, w, a.stride, a.pad, a.dilation, a.groups, extra)
    grad_weight = _weight_grad(x, g, (kh, kw), a.stride, a.pad, a.dilation, a.groups)
    grad_bias = g.sum(axis=(0, 2, 3))
    if nd == 1:
        grad_weight = grad_weight[:, :, 0, :]
    return _finish(grad_input, a), grad_weight, grad_bias


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
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
    return _conv_backward(2, grad_output, input, weight, stride, padding, dilation, groups)


def conv1d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of :func:`conv1d`: ``(grad_input, grad_weight, grad_bias)``, as :func:`conv2d_backward`
    with height 1."""
    return _conv_backward(1, grad_output, input, weight, stride, padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
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
    """
    a = _parse(2, input, weight, bias, stride, padding, dilation, groups, True, output_padding)
    dtype = common_dtype(a.x, a.w, a.bias)
    y = _transposed(a.x.astype(dtype, copy=False), a.w.astype(dtype, copy=False), a.stride, a.pad,
                    a.dilation, a.groups, a.op)
    if a.bias is not None:
        y += a.bias.astype(dtype, copy=False)[:, None, None]
    return _finish(y, a)


def conv_transpose2d_backward(grad_output, input, weight, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1):
    """Gradients of :func:`conv_transpose2d`: ``(grad_input, grad_weight, grad_bias)``.

    The adjoint of a transposed convolution is the convolution: ``dX = conv2d(G, W, stride, padding,
    dilation, groups)`` (cropped to X's size); ``dW[c, o, u, v] = sum_{n,i,j} X[n, c, i, j]
    G[n, o, i s + u d - p, j s + v d - p]``; ``db[o] = sum_{n,i,j} G[n, o, i, j]``.
    """
    a = _parse(2, input, weight, None, stride, padding, dilation, groups, True, output_padding)
    g0 = as_float_array(grad_output, "grad_output")
    dtype = common_dtype(a.x, a.w, g0)
    g = _check_grad_output(g0, a, dtype)
    x, w = a.x.astype(dtype, copy=False), a.w.astype(dtype, copy=False)
    h, wd = x.shape[2:]
    grad_input = _correlate(g, w, a.stride, a.pad, a.dilation, a.groups)[:, :, :h, :wd]
    grad_weight = _weight_grad(g, x, w.shape[2:], a.stride, a.pad, a.dilation, a.groups)
    grad_bias = g.sum(axis=(0, 2, 3))
    return _finish(np.ascontiguousarray(grad_input), a), grad_weight, grad_bias
