"""The fully connected layer, forward and backward, as ``torch.nn.functional.linear``.

The backward function takes the upstream gradient ``G = dL/dY`` first.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import linear_args
from .conv import _by_samples

__all__ = ["linear", "linear_backward"]

#: Work (floating-point operations) from which the products of a layer run on all of BLAS's threads: a
#: single product of 20 MFLOP, (64 x 800) @ (800 x 200), runs 1.3x faster on two threads than on one; one
#: of 6 MFLOP gains nothing. (A convolution's products are many and small, and it splits its samples
#: itself: :data:`cnnbook.functional.conv._PARALLEL_WORK`.)
_PARALLEL_WORK = 10e6


def linear(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None) -> np.ndarray:
    """Fully connected layer, like ``torch.nn.functional.linear``.

    .. math:: Y = X W^\\top + b, \\qquad Y[n,o] = b[o] + \\sum_i X[n,i]\\, W[o,i]

    Parameters
    ----------
    input : ndarray, shape (*, in_features)
    weight : ndarray, shape (out_features, in_features)
    bias : ndarray, shape (out_features,), optional

    Returns
    -------
    ndarray, shape (*, out_features)
    """
    a = linear_args(input, weight, bias)
    y = _products(2.0 * a.input.size * a.weight.shape[0], lambda: a.input @ a.weight.T)
    if a.bias is not None:
        y += a.bias
    return y


def linear_backward(grad_output: ArrayLike, input: ArrayLike,
                    weight: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`linear`.

    .. math:: \\frac{\\partial L}{\\partial X} = G W, \\quad
              \\frac{\\partial L}{\\partial W} = G^\\top X, \\quad
              \\frac{\\partial L}{\\partial b} = \\sum_n G[n,:]

    with ``G`` of shape (*, out_features); leading axes ``*`` are flattened into the batch for the
    weight and bias gradients.

    Returns
    -------
    grad_input : ndarray, shape of ``input``
    grad_weight : ndarray, shape (out_features, in_features)
    grad_bias : ndarray, shape (out_features,)
        Returned even when the forward pass had no bias.
    """
    a = linear_args(input, weight, grad_output=grad_output)
    out_features, in_features = a.weight.shape
    g2 = a.grad_output.reshape(-1, out_features)
    grad_input, grad_weight = _products(4.0 * a.input.size * out_features, lambda: (
        a.grad_output @ a.weight, g2.T @ a.input.reshape(-1, in_features)))
    grad_bias = g2.sum(axis=0)
    return grad_input, grad_weight, grad_bias


def _products(work: float, fn):
    """``fn()``; products of less than :data:`_PARALLEL_WORK` run on a single-threaded BLAS
    (:func:`cnnbook.functional.conv._by_samples`), whose threads would mostly wait for each other."""
    if work >= _PARALLEL_WORK:
        return fn()
    return _by_samples(1, work, lambda n0, n1: fn())[0]
