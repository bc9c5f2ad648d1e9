"""Dropout, forward and backward, as ``torch.nn.functional.dropout`` but reproducible.

In training mode each value is kept with probability ``1 - p`` and scaled by ``1/(1 - p)``, or set to 0:

    Y = X * M / (1 - p),        M[k] ~ Bernoulli(1 - p) independently      (Y = 0 when p = 1)

so that ``E[Y] = X``; in evaluation mode ``Y = X``. torch draws ``M`` from its own random generator; here
the mask comes from a ``numpy.random.Generator`` (or an int seed) or is passed in, so a run can be
repeated, and compared with torch by giving both the same mask.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import as_generator, dropout_args

__all__ = ["dropout", "dropout_backward", "dropout_mask"]


def dropout_mask(shape: tuple[int, ...], p: float = 0.5,
                 generator: int | np.random.Generator | None = None) -> np.ndarray:
    """A bool mask of ``shape``, True (kept) with probability ``1 - p``: ``U >= p`` for ``U`` uniform in
    [0, 1) drawn by ``generator.random(shape)``."""
    a = dropout_args(np.zeros(shape), p)
    return as_generator(generator).random(a.input.shape) >= a.p


def _scaled(values: np.ndarray, mask: np.ndarray, p: float, dtype: np.dtype) -> np.ndarray:
    if p == 1.0:
        return np.zeros(values.shape, dtype)
    return (np.where(mask, values, 0) / (1.0 - p)).astype(dtype, copy=False)


def dropout(input: ArrayLike, p: float = 0.5, training: bool = True, *, mask: ArrayLike | None = None,
            generator: int | np.random.Generator | None = None) -> np.ndarray:
    """Dropout, like ``torch.nn.functional.dropout``: ``Y = X * M / (1 - p)`` in training mode, ``Y = X``
    in evaluation mode (or with ``p = 0``).

    Parameters
    ----------
    input : ndarray, any shape
    p : float in [0, 1]
        The probability of dropping a value.
    training : bool
    mask : bool ndarray of the input's shape, optional
        ``M`` (True = kept). Without it a mask is drawn with :func:`dropout_mask` from ``generator``.
    generator : int, numpy.random.Generator or None
        Where the mask comes from (a Generator advances; None draws fresh entropy).

    Returns
    -------
    output : ndarray, the input's shape. Keep ``mask`` for :func:`dropout_backward`.
    """
    a = dropout_args(input, p, training, mask)
    if not a.training or a.p == 0.0:
        return a.input.copy()
    m = a.mask if a.mask is not None else dropout_mask(a.input.shape, a.p, generator)
    return _scaled(a.input, m, a.p, a.dtype)


def dropout_backward(grad_output: ArrayLike, mask: ArrayLike, p: float = 0.5, training: bool = True) -> np.ndarray:
    """Gradient of :func:`dropout`: ``dL/dX = G * M / (1 - p)`` (``G`` itself in evaluation mode).

    Dropout is linear in ``X``, so its backward needs the forward's mask ``M``, not its input: it takes
    ``mask`` second (torch's ``native_dropout_backward(grad_output, mask, scale)`` likewise).
    """
    g = np.asarray(grad_output)
    a = dropout_args(g, p, training, mask)
    if not a.training or a.p == 0.0:
        return a.input.copy()
    return _scaled(a.input, a.mask, a.p, a.dtype)
