"""The fully connected layer as explicit loops, one line per symbol of the formulas.

The loop version of :mod:`cnnbook.functional.linear`, with the same argument checks
(:func:`cnnbook.arguments.linear_args`). Leading axes ``*`` of the input are flattened into the rows
``n`` of a batch and restored at the end.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import linear_args

__all__ = ["linear", "linear_backward"]


def linear(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.linear`: ``Y[n, o] = b[o] + sum_i X[n, i] W[o, i]``."""
    a = linear_args(input, weight, bias)
    out_features, in_features = a.weight.shape
    x = a.input.reshape(-1, in_features)
    y = np.zeros((x.shape[0], out_features), a.dtype)
    for n in range(x.shape[0]):
        for o in range(out_features):
            total = 0.0 if a.bias is None else a.bias[o]
            for i in range(in_features):
                total += x[n, i] * a.weight[o, i]
            y[n, o] = total
    return y.reshape(a.input.shape[:-1] + (out_features,))


def linear_backward(grad_output: ArrayLike, input: ArrayLike,
                    weight: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of :func:`cnnbook.functional.linear_backward`.

    ``Y[n, o]`` was ``b[o] + sum_i X[n, i] W[o, i]``, so its gradient ``G[n, o]`` adds ``G W[o, i]`` to
    ``dX[n, i]``, ``G X[n, i]`` to ``dW[o, i]`` and ``G`` to ``db[o]``.
    """
    a = linear_args(input, weight, grad_output=grad_output)
    out_features, in_features = a.weight.shape
    x, g = a.input.reshape(-1, in_features), a.grad_output.reshape(-1, out_features)
    grad_input = np.zeros(x.shape, a.dtype)
    grad_weight = np.zeros(a.weight.shape, a.dtype)
    grad_bias = np.zeros(out_features, a.dtype)
    for n in range(x.shape[0]):
        for o in range(out_features):
            grad_bias[o] += g[n, o]
            for i in range(in_features):
                grad_input[n, i] += g[n, o] * a.weight[o, i]
                grad_weight[o, i] += g[n, o] * x[n, i]
    return grad_input.reshape(a.input.shape), grad_weight, grad_bias
