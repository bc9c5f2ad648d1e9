"""Dropout as a loop over the values (for reading, and for checking :mod:`cnnbook.functional.dropout`).

Each value ``k`` draws one uniform number ``U_k`` in [0, 1), in row-major order, and is kept if
``U_k >= p``: the same numbers, in the same order, as the fast path's ``generator.random(shape)``.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import as_generator, dropout_args

__all__ = ["dropout", "dropout_backward", "dropout_mask"]


def dropout_mask(shape: tuple[int, ...], p: float = 0.5,
                 generator: int | np.random.Generator | None = None) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.dropout_mask`: ``M[k] = (U_k >= p)``, one draw per value."""
    a = dropout_args(np.zeros(shape), p)
    rng = as_generator(generator)
    mask = np.empty(a.input.shape, dtype=bool)
    for index in np.ndindex(mask.shape):
        mask[index] = rng.random() >= a.p
    return mask


def dropout(input: ArrayLike, p: float = 0.5, training: bool = True, *, mask: ArrayLike | None = None,
            generator: int | np.random.Generator | None = None) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.dropout`: ``Y[k] = X[k] / (1 - p)`` if ``M[k]``, else 0."""
    a = dropout_args(input, p, training, mask)
    if not a.training or a.p == 0.0:
        return a.input.copy()
    m = a.mask if a.mask is not None else dropout_mask(a.input.shape, a.p, generator)
    y = np.zeros(a.input.shape, a.dtype)
    for index in np.ndindex(y.shape):
        if m[index] and a.p < 1.0:
            y[index] = a.input[index] / (1.0 - a.p)
    return y


def dropout_backward(grad_output: ArrayLike, mask: ArrayLike, p: float = 0.5, training: bool = True) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.dropout_backward`: ``dX[k] = G[k] / (1 - p)`` if ``M[k]``."""
    a = dropout_args(grad_output, p, training, mask)
    if not a.training or a.p == 0.0:
        return a.input.copy()
    dx = np.zeros(a.input.shape, a.dtype)
    for index in np.ndindex(dx.shape):
        if a.mask[index] and a.p < 1.0:
            dx[index] = a.input[index] / (1.0 - a.p)
    return dx
