"""The cross-entropy loss and its gradient, as ``torch.nn.functional.cross_entropy`` (mean over the batch,
class-index targets).

The loss is the last step, so its backward function needs no upstream gradient: ``dL/dL = 1``.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import cross_entropy_args
from .activation import log_softmax

__all__ = ["cross_entropy", "cross_entropy_backward"]


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(input: ArrayLike, target: ArrayLike) -> np.floating:
    """Mean cross-entropy loss, like ``torch.nn.functional.cross_entropy`` with its defaults.

    .. math:: L = -\\frac{1}{N} \\sum_{n=0}^{N-1} \\log\\operatorname{softmax}(X[n,:])[t_n]

    Parameters
    ----------
    input : ndarray, shape (N, K)
        Logits (unnormalised scores) for ``K`` classes.
    target : ndarray of int, shape (N,)
        Class indices in ``[0, K)``. (torch's ``ignore_index=-100`` is not supported: negative
        indices are rejected.)

    Returns
    -------
    numpy scalar of the input dtype
    """
    a = cross_entropy_args(input, target)
    logp = log_softmax(a.input, dim=1)
    return -logp[np.arange(a.input.shape[0]), a.target].mean()


def cross_entropy_backward(input: ArrayLike, target: ArrayLike) -> np.ndarray:
    """Gradient of :func:`cross_entropy` with respect to the logits.

    .. math:: \\frac{\\partial L}{\\partial X[n,k]} = \\frac{\\operatorname{softmax}(X[n,:])_k - [k = t_n]}{N}

    Returns
    -------
    ndarray, shape (N, K)
    """
    a = cross_entropy_args(input, target)
    p = _softmax(a.input)
    p[np.arange(a.input.shape[0]), a.target] -= 1
    return p / a.input.shape[0]
