"""The cross-entropy loss and its gradient as explicit loops over the batch and the classes.

The loop versions of :mod:`cnnbook.functional.loss`, with the same argument checks
(:func:`cnnbook.arguments.cross_entropy_args`).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import cross_entropy_args
from .activation import log_softmax

__all__ = ["cross_entropy", "cross_entropy_backward"]


def cross_entropy(input: ArrayLike, target: ArrayLike) -> np.floating:
    """Loop version of :func:`cnnbook.functional.cross_entropy`:
    ``L = -(1/N) sum_n log softmax(X[n, :])[t_n]``."""
    a = cross_entropy_args(input, target)
    log_p = log_softmax(a.input, dim=1)
    n_batch = a.input.shape[0]
    total = 0.0
    for n in range(n_batch):
        total -= float(log_p[n, a.target[n]])
    return a.input.dtype.type(total / n_batch)


def cross_entropy_backward(input: ArrayLike, target: ArrayLike) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.cross_entropy_backward`:
    ``dL/dX[n, k] = (p[n, k] - [k = t_n]) / N`` with ``p[n, :] = softmax(X[n, :])``."""
    a = cross_entropy_args(input, target)
    p = np.exp(log_softmax(a.input, dim=1))
    n_batch, classes = a.input.shape
    grad = np.zeros(a.input.shape, a.input.dtype)
    for n in range(n_batch):
        for k in range(classes):
            grad[n, k] = (p[n, k] - (k == a.target[n])) / n_batch
    return grad
