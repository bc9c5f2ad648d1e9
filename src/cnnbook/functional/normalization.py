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


def _statistics(a: BatchNormArgs) -> tuple[np.ndarray, np.ndarray]:
    """``(mu, sigma2)`` per channel, shape (C,): the batch's (biased variance) or the running ones."""
    if a.training:
        mean = a.input.mean(axis=(0, 2))
        var = ((a.input - mean[None, :, None]) ** 2).mean(axis=(0, 2))
        return mean, var
    return a.running_mean.astype(a.dtype), a.running_var.astype(a.dtype)


def _normalised(a: BatchNormArgs, mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(X_hat, 1/sqrt(sigma2 + eps))``, shapes (N, C, M) and (C,)."""
    inv_std = (1.0 / np.sqrt(var + a.eps)).astype(a.dtype, copy=False)
    return (a.input - mean[None, :, None]) * inv_std[None, :, None], inv_std


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
    mean, var = _statistics(a)
    x_hat, _ = _normalised(a, mean, var)
    y = x_hat
    if a.weight is not None:
        y = y * a.weight[None, :, None]
    if a.bias is not None:
        y = y + a.bias[None, :, None]
    if a.training and a.running_mean is not None:
        m = a.count
        a.running_mean[...] = (1 - a.momentum) * a.running_mean + a.momentum * mean
        a.running_var[...] = (1 - a.momentum) * a.running_var + a.momentum * var * (m / (m - 1))
    return a.finish(y.astype(a.dtype, copy=False))


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
    mean, var = _statistics(a)
    x_hat, inv_std = _normalised(a, mean, var)
    g = a.grad_output
    grad_bias = g.sum(axis=(0, 2))
    grad_weight = (g * x_hat).sum(axis=(0, 2))
    gamma = np.ones(g.shape[1], a.dtype) if a.weight is None else a.weight
    scale = (gamma * inv_std)[None, :, None]
    if a.training:
        m = a.count
        grad_input = scale / m * (m * g - grad_bias[None, :, None] - x_hat * grad_weight[None, :, None])
    else:
        grad_input = scale * g
    return (a.finish(grad_input.astype(a.dtype, copy=False)), grad_weight.astype(a.dtype, copy=False),
            grad_bias.astype(a.dtype, copy=False))
