"""relu, sigmoid and log_softmax as explicit loops over the entries (for reading, and for checking).

The loop versions of :mod:`cnnbook.functional.activation`, with the same argument checks. They compute
in Python floats entry by entry and store the results in the input's dtype; the inputs are meant to be
finite (the fast versions also handle rows of ``-inf``).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import activation_args, as_float_array, check_dim

__all__ = ["relu", "relu_backward", "sigmoid", "sigmoid_backward", "log_softmax", "log_softmax_backward"]


def relu(input: ArrayLike) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.relu`: ``Y = X`` where ``X > 0``, else 0."""
    x = as_float_array(input, "input")
    y = np.zeros(x.shape, x.dtype)
    for index in np.ndindex(x.shape):
        y[index] = x[index] if x[index] > 0 else 0.0
    return y


def relu_backward(grad_output: ArrayLike, input: ArrayLike) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.relu_backward`: ``dX = 0`` where ``X <= 0``, else ``G``
    (so a NaN input passes its gradient on, as in torch)."""
    a = activation_args(grad_output, input)
    grad_input = np.zeros(a.input.shape, a.dtype)
    for index in np.ndindex(a.input.shape):
        grad_input[index] = 0.0 if a.input[index] <= 0 else a.grad_output[index]
    return grad_input


def _sigmoid(x: float) -> float:
    """``1 / (1 + e^-x)``, with ``z = e^-|x|`` so that no exponent is positive."""
    z = math.exp(-abs(x))
    return 1 / (1 + z) if x >= 0 else z / (1 + z)


def sigmoid(input: ArrayLike) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.sigmoid`: ``Y = 1 / (1 + exp(-X))`` entry by entry."""
    x = as_float_array(input, "input")
    y = np.zeros(x.shape, x.dtype)
    for index in np.ndindex(x.shape):
        y[index] = _sigmoid(float(x[index]))
    return y


def sigmoid_backward(grad_output: ArrayLike, input: ArrayLike) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.sigmoid_backward`: ``dX = G s (1 - s)``, ``s = sigmoid(X)``."""
    a = activation_args(grad_output, input)
    grad_input = np.zeros(a.input.shape, a.dtype)
    for index in np.ndindex(a.input.shape):
        s = _sigmoid(float(a.input[index]))
        grad_input[index] = a.grad_output[index] * s * (1 - s)
    return grad_input


def _lines(shape: tuple[int, ...], axis: int):
    """For every position of the other axes, the index tuples of the entries along ``axis``."""
    others = shape[:axis] + shape[axis + 1:]
    for rest in np.ndindex(others):
        yield [rest[:axis] + (k,) + rest[axis:] for k in range(shape[axis])]


def log_softmax(input: ArrayLike, dim: int = -1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.log_softmax`: along ``dim``,
    ``log softmax(x)_k = x_k - m - log sum_j exp(x_j - m)`` with ``m = max_j x_j``."""
    x = as_float_array(input, "input")
    axis = check_dim(dim, x.ndim)
    if axis is None:                       # a 0-D input is a line of one entry
        return log_softmax(x[None], 0)[0]
    y = np.zeros(x.shape, x.dtype)
    for line in _lines(x.shape, axis):
        m = max(float(x[k]) for k in line)
        log_sum = math.log(sum(math.exp(float(x[k]) - m) for k in line))
        for k in line:
            y[k] = float(x[k]) - m - log_sum
    return y


def log_softmax_backward(grad_output: ArrayLike, input: ArrayLike, dim: int = -1) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.log_softmax_backward`: along ``dim``,
    ``dX_k = G_k - p_k sum_j G_j`` with ``p = softmax(X)``."""
    a = activation_args(grad_output, input)
    axis = check_dim(dim, a.input.ndim)
    if axis is None:
        return log_softmax_backward(a.grad_output[None], a.input[None], 0)[0]
    p = np.exp(log_softmax(a.input, axis))
    grad_input = np.zeros(a.input.shape, a.dtype)
    for line in _lines(a.input.shape, axis):
        total = sum(float(a.grad_output[j]) for j in line)
        for k in line:
            grad_input[k] = a.grad_output[k] - p[k] * total
    return grad_input
