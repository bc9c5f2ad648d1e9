"""Batch normalization, forward and backward, as ``torch.nn.functional.batch_norm``.

Notation: the input ``X`` is (N, C), (N, C, L) or (N, C, H, W); channel ``c`` is normalised over its
``m = N L`` (or ``N H W``) values. In training mode with the batch statistics

    mu_c = (1/m) sum X[:, c],      sigma2_c = (1/m) sum (X[:, c] - mu_c)^2       (biased)

and in evaluation mode with the running statistics ``mu_c = running_mean[c]``,
``sigma2_c = running_var[c]``:

    X_hat = (X - mu_c) / sqrt(sigma2_c + eps),      Y = gamma_c X_hat + beta_c

``gamma`` is ``weight`` and ``beta`` ``bias`` (1 and 0 when None). A training step also moves the running
statistics, in place, towards the batch's (the variance with Bessel's correction ``m / (m - 1)``, as torch):

    running_mean = (1 - momentum) running_mean + momentum mu
    running_var  = (1 - momentum) running_var  + momentum sigma2 m / (m - 1)

The loop versions are in :mod:`cnnbook.reference.normalization`.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import BatchNormArgs, batch_norm_args

__all__ = ["batch_norm", "batch_norm_backward"]


def _channel_sum(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """``sum_{n, m} A[n, c, m]`` (or of ``A B``) per channel, shape (C,): one pass over the operands
    (``np.einsum``; ``a.sum(axis=(0, 2))`` is about twice as slow, and ``(a * b).sum(...)`` also writes
    the product)."""
    return np.einsum("ncm->c", a) if b is None else np.einsum("ncm,ncm->c", a, b)


def _centred(a: BatchNormArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X - mu_c, 1/sqrt(sigma2_c + eps), mu, sigma2)``, shapes (N, C, M), (C,), (C,), (C,): the batch's
    statistics (biased variance) or the running ones. The first is a new array, which the callers scale
    in place. The batch variance is the mean of the squared deviations from the mean (two passes over
    the input: more accurate than ``E[X^2] - mu^2``)."""
    if a.training:
        mean = _channel_sum(a.input) / a.count
        centred = a.input - mean[None, :, None]
        var = _channel_sum(centred, centred) / a.count
    else:
        mean, var = a.running_mean.astype(a.dtype), a.running_var.astype(a.dtype)
        centred = a.input - mean[None, :, None]
    inv_std = (1.0 / np.sqrt(var + a.eps)).astype(a.dtype, copy=False)
    return centred, inv_std, mean, var


def batch_norm(input: ArrayLike, running_mean: np.ndarray | None, running_var: np.ndarray | None,
               weight: ArrayLike | None = None, bias: ArrayLike | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> np.ndarray:
    """Batch normalization, like ``torch.nn.functional.batch_norm``.

    .. math:: Y = \\gamma_c \\frac{X - \\mu_c}{\\sqrt{\\sigma^2_c + \\epsilon}} + \\beta_c

    with the batch mean and (biased) variance of channel ``c`` in training mode, the running ones in
    evaluation mode.

    Parameters
    ----------
    input : ndarray, shape (N, C), (N, C, L) or (N, C, H, W)
    running_mean, running_var : ndarray (C,) or None
        Read in evaluation mode; in training mode updated **in place** (if given):
        ``r = (1 - momentum) r + momentum b`` with the batch mean, and the batch variance times
        ``m/(m - 1)`` (unbiased), ``m`` the values per channel.
    weight, bias : ndarray (C,), optional
        ``gamma`` and ``beta`` (1 and 0 when None).
    training : bool
        Use (and record) the batch statistics.
    momentum : float in [0, 1]
    eps : float > 0
        Added to the variance before the square root.

    Returns
    -------
    output : ndarray, the input's shape
    """
    a = batch_norm_args(input, running_mean, running_var, weight, bias, training, momentum, eps)
    y, inv_std, mean, var = _centred(a)
    # Y = (X - mu) (gamma s) + beta with s = 1/sqrt(sigma2 + eps), in place on the new array X - mu
    y *= (inv_std if a.weight is None else a.weight * inv_std)[None, :, None]
    if a.bias is not None:
        y += a.bias[None, :, None]
    if a.training and a.running_mean is not None:
        m = a.count
        a.running_mean[...] = (1 - a.momentum) * a.running_mean + a.momentum * mean
        a.running_var[...] = (1 - a.momentum) * a.running_var + a.momentum * var * (m / (m - 1))
    return a.finish(y)


def batch_norm_backward(grad_output: ArrayLike, input: ArrayLike, running_mean: ArrayLike | None,
                        running_var: ArrayLike | None, weight: ArrayLike | None = None,
                        bias: ArrayLike | None = None, training: bool = False,
                        eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`batch_norm`: ``(grad_input, grad_weight, grad_bias)``.

    With ``G = dL/dY``, sums over the ``m`` values of channel ``c``, and ``s = 1/sqrt(sigma2_c + eps)``:

    .. math::
        \\frac{\\partial L}{\\partial \\beta_c} = \\sum G, \\qquad
        \\frac{\\partial L}{\\partial \\gamma_c} = \\sum G \\hat X

    Evaluation mode (the statistics are constants): ``dL/dX = gamma_c s G``. Training mode (the
    statistics depend on every value of the channel):

    .. math::
        \\frac{\\partial L}{\\partial X} = \\frac{\\gamma_c s}{m}
        \\Big(m G - \\sum G - \\hat X \\sum G \\hat X\\Big)

    The running statistics are read in evaluation mode only and never changed. ``grad_weight`` and
    ``grad_bias`` (shape (C,)) are returned also when ``weight`` / ``bias`` is None (they are what the
    scale and shift would receive); ``bias`` itself does not enter any gradient.

    Parameters
    ----------
    grad_output : ndarray, the input's shape
    input : ndarray, shape (N, C), (N, C, L) or (N, C, H, W)
        The forward input; the other arguments are those of :func:`batch_norm`.
    """
    a = batch_norm_args(input, running_mean, running_var, weight, bias, training, 0.1, eps,
                        grad_output=grad_output)
    d, inv_std, _, _ = _centred(a)           # D = X - mu, and X_hat = s D
    g = a.grad_output
    grad_bias = _channel_sum(g)
    grad_weight = _channel_sum(g, d) * inv_std
    scale = inv_std if a.weight is None else a.weight * inv_std        # gamma s
    grad_input = g * scale[None, :, None]
    if a.training:
        # gamma s / m (m G - sum G - X_hat sum G X_hat) = gamma s G - (gamma s^2 sum G X_hat / m) D
        # - gamma s sum G / m: in place on D, one pass for each term
        m = a.count
        d *= (-scale * inv_std * grad_weight / m)[None, :, None]
        grad_input += d
        grad_input += (-scale * grad_bias / m)[None, :, None]
    return (a.finish(grad_input), grad_weight.astype(a.dtype, copy=False), grad_bias.astype(a.dtype, copy=False))
