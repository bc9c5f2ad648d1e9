"""Activations, forward and backward: relu, sigmoid and log_softmax, as ``torch.nn.functional``.

Every backward function takes the upstream gradient ``G = dL/dY`` first and the forward *input* ``X``
second.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import activation_args, as_float_array, check_dim

__all__ = ["relu", "relu_backward", "sigmoid", "sigmoid_backward", "log_softmax", "log_softmax_backward"]


# --------------------------------------------------------------------------------------------------
# element-wise activations
# --------------------------------------------------------------------------------------------------
def relu(input: ArrayLike) -> np.ndarray:
    """Rectified linear unit, like ``torch.nn.functional.relu``: ``Y = max(X, 0)`` element-wise."""
    x = as_float_array(input, "input")
    return np.maximum(x, np.zeros((), x.dtype))


def relu_backward(grad_output: ArrayLike, input: ArrayLike) -> np.ndarray:
    """Gradient of :func:`relu`: ``dL/dX = G * [X > 0]``.

    torch's rule exactly: 0 where ``X <= 0`` (the derivative at ``X == 0`` is taken as 0; a NaN or
    infinite ``G`` there gives 0 too), ``G`` elsewhere, including where ``X`` is NaN.
    """
    a = activation_args(grad_output, input)
    return _zero_where(a.input <= 0, a.grad_output)


def _zero_where(mask: np.ndarray, g: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A copy of ``g`` with +0 where ``mask`` is true (into ``out``, of ``g``'s dtype, if given), without
    a branch per element: the bits of ``g`` and-ed with all ones (keep) or all zeros (the bits of +0).
    A NaN or infinity where ``mask`` is true becomes +0 too, as no multiplication by 0 would make it.
    A masked write (``np.where``) branches on every element, and with a mask as unpredictable as the
    signs of activations that is ten times slower here."""
    bits = {4: np.uint32, 8: np.uint64}[g.itemsize]
    # mask true: 1 - 1 = 0; false: 0 - 1 wraps to all ones
    keep = np.subtract(mask, 1, dtype=bits, out=None if out is None else out.view(bits))
    np.bitwise_and(g.view(bits), keep, out=keep)
    return keep.view(g.dtype)


def sigmoid(input: ArrayLike) -> np.ndarray:
    """Logistic sigmoid, like ``torch.sigmoid``: ``Y = 1 / (1 + exp(-X))`` element-wise.

    Computed stably and without a choice per entry: with ``z = exp(-|X|)`` (in (0, 1], never overflows),
    ``Y = exp(min(X, 0)) / (1 + z)``. For ``X >= 0`` the numerator is 1 and this is ``1 / (1 + e^-X)``;
    for ``X < 0`` it is ``z = e^X`` and this is ``e^X / (1 + e^X)``, the same value multiplied above and
    below by ``e^X``. (Choosing between the two forms entry by entry, ``np.where(X >= 0, ...)``, branches
    on every entry and was about five times slower here.)
    """
    x = as_float_array(input, "input")
    denominator = _exp_minus_abs(x)
    np.add(denominator, 1, out=denominator)
    y = np.minimum(x, 0, out=np.empty_like(x))
    np.exp(y, out=y)
    return np.divide(y, denominator, out=y)


def sigmoid_backward(grad_output: ArrayLike, input: ArrayLike) -> np.ndarray:
    """Gradient of :func:`sigmoid`: ``dL/dX = G * sigma(X) * (1 - sigma(X))``.

    Note: takes the forward *input* ``X`` (like the other backward functions), not the output.
    Evaluated as ``G z / (1 + z)^2`` with ``z = exp(-|X|)``: the same value (``sigma(X) (1 - sigma(X))
    = e^-X / (1 + e^-X)^2``, which is even in ``X``), without computing ``1 - sigma(X)``, which for
    large ``X`` loses every digit to rounding.
    """
    a = activation_args(grad_output, input)
    z = _exp_minus_abs(a.input)
    denominator = np.add(z, 1)
    np.multiply(denominator, denominator, out=denominator)
    np.divide(z, denominator, out=z)
    return np.multiply(a.grad_output, z, out=z).astype(a.dtype, copy=False)


def _exp_minus_abs(x: np.ndarray) -> np.ndarray:
    """``exp(-|x|)``, a new array of ``x``'s shape and dtype."""
    z = np.abs(x, out=np.empty_like(x))
    np.negative(z, out=z)
    return np.exp(z, out=z)


# --------------------------------------------------------------------------------------------------
# log-softmax
# --------------------------------------------------------------------------------------------------
def log_softmax(input: ArrayLike, dim: int = -1) -> np.ndarray:
    """Logarithm of the softmax along ``dim``, like ``torch.nn.functional.log_softmax``.

    .. math:: \\log\\operatorname{softmax}(x)_k = x_k - m - \\log \\sum_j e^{x_j - m},
              \\qquad m = \\max_j x_j

    Subtracting the maximum ``m`` keeps every exponent <= 0, so nothing overflows.
    """
    x = as_float_array(input, "input")
    axis = check_dim(dim, x.ndim)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # a row of -inf stays -inf/nan as in torch, no warnings
    shifted = x - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def log_softmax_backward(grad_output: ArrayLike, input: ArrayLike, dim: int = -1) -> np.ndarray:
    """Gradient of :func:`log_softmax` along ``dim``: ``(grad_input)``.

    With ``Z = log_softmax(X)`` and ``p = softmax(X) = exp(Z)``, ``dZ_j/dX_k = [j = k] - p_k``, so

    .. math:: \\frac{\\partial L}{\\partial X_k} = G_k - p_k \\sum_j G_j

    for the upstream gradient ``G`` (sums along ``dim``). Shapes: ``grad_output`` and ``input`` alike.
    """
    a = activation_args(grad_output, input)
    axis = check_dim(dim, a.input.ndim)
    p = np.exp(log_softmax(a.input, dim=dim))
    return (a.grad_output - p * np.sum(a.grad_output, axis=axis, keepdims=True)).astype(a.dtype, copy=False)
