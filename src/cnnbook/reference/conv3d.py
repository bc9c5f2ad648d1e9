"""3-D convolution as explicit loops over every term of the sum (the loop versions of
:mod:`cnnbook.functional.conv3d`; the same arguments, checked by the same record).

``Y[n, o, i, j, l] = b[o] + sum_{c, u, v, w} X[n, c', i s_d + u d_d - p_d, j s_h + v d_h - p_h,
l s_w + w d_w - p_w] W[o, c, u, v, w]`` with ``c'`` the channel of group member ``c``; terms that fall
on the zero padding are skipped.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import Conv3dArgs, IntOrTuple, Padding, conv3d_args

__all__ = ["conv3d", "conv3d_backward"]


def _terms(a: Conv3dArgs) -> Iterator[tuple]:
    """Every term ``W[o, c, u] X[n, c', cell]`` of every output ``Y[n, o, i]``, in loop order:
    ``(n, o, i, c, c', u, cell)`` with ``i``, ``u``, ``cell`` triples."""
    n_batch = a.input.shape[0]
    c_out, per_group, kd, kh, kw = a.weight.shape
    size = a.input.shape[2:]
    before = tuple(pair[0] for pair in a.padding)
    for n in range(n_batch):
        for o in range(c_out):
            group = o // (c_out // a.groups)
            for i in np.ndindex(*a.out_size):
                for c in range(per_group):
                    channel = group * per_group + c
                    for u in np.ndindex(kd, kh, kw):
                        cell = tuple(i[t] * a.stride[t] + u[t] * a.dilation[t] - before[t] for t in range(3))
                        if all(0 <= cell[t] < size[t] for t in range(3)):
                            yield n, o, i, c, channel, u, cell


def conv3d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.conv3d` (same arguments, same result)."""
    a = conv3d_args(input, weight, bias, stride, padding, dilation, groups)
    x, w = a.input, a.weight
    y = np.zeros((x.shape[0], a.out_channels, *a.out_size), a.dtype)
    for n, o, i, c, channel, u, cell in _terms(a):
        y[(n, o, *i)] += x[(n, channel, *cell)] * w[(o, c, *u)]
    if a.bias is not None:
        y += a.bias[:, None, None, None]
    return a.finish(y)


def conv3d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1,
                    groups: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of :func:`cnnbook.functional.conv3d_backward`.

    Every output-gradient entry ``G[n, o, i]`` sends ``G * W[o, c, u]`` back to the input cell its
    window read with tap ``u`` and ``G * X[n, c', cell]`` to ``dW[o, c, u]``; ``db[o]`` sums ``G[n, o]``.
    """
    a = conv3d_args(input, weight, None, stride, padding, dilation, groups, grad_output=grad_output)
    x, w, g = a.input, a.weight, a.grad_output
    grad_input = np.zeros(x.shape, a.dtype)
    grad_weight = np.zeros(w.shape, a.dtype)
    for n, o, i, c, channel, u, cell in _terms(a):
        grad_input[(n, channel, *cell)] += g[(n, o, *i)] * w[(o, c, *u)]
        grad_weight[(o, c, *u)] += g[(n, o, *i)] * x[(n, channel, *cell)]
    grad_bias = np.zeros(a.out_channels, a.dtype)
    for n in range(g.shape[0]):
        for o in range(a.out_channels):
            for i in np.ndindex(*a.out_size):
                grad_bias[o] += g[(n, o, *i)]
    return a.finish(grad_input), grad_weight, grad_bias
