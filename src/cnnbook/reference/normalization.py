"""Batch normalization as explicit loops over channels and values (for reading, and for checking).

The loop versions of :mod:`cnnbook.functional.normalization`, with the same argument checks
(:func:`cnnbook.arguments.batch_norm_args`). Each channel ``c`` is handled on its own: its ``m`` values
``X[n, c, k]`` (``k`` runs over the spatial positions), their mean and variance, then one line per value.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import BatchNormArgs, batch_norm_args

__all__ = ["batch_norm", "batch_norm_backward"]


def _channel_statistics(a: BatchNormArgs, c: int) -> tuple[float, float]:
    """``(mu_c, sigma2_c)``: the batch mean and biased variance of channel ``c`` in training mode, else
    the running statistics."""
    if not a.training:
        return float(a.running_mean[c]), float(a.running_var[c])
    N, _, M = a.input.shape
    total = 0.0
    for n in range(N):
        for k in range(M):
            total += a.input[n, c, k]
    mean = total / (N * M)
    squares = 0.0
    for n in range(N):
        for k in range(M):
            squares += (a.input[n, c, k] - mean) ** 2
    return mean, squares / (N * M)


def batch_norm(input: ArrayLike, running_mean: np.ndarray | None, running_var: np.ndarray | None,
               weight: ArrayLike | None = None, bias: ArrayLike | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.batch_norm`.

    ``Y[n,c,k] = gamma_c (X[n,c,k] - mu_c) / sqrt(sigma2_c + eps) + beta_c``; in training mode the
    running statistics move by ``momentum`` towards the batch's (unbiased variance), in place.
    """
    a = batch_norm_args(input, running_mean, running_var, weight, bias, training, momentum, eps)
    N, C, M = a.input.shape
    Y = np.empty(a.input.shape, a.dtype)
    for c in range(C):
        mean, var = _channel_statistics(a, c)
        gamma = 1.0 if a.weight is None else float(a.weight[c])
        beta = 0.0 if a.bias is None else float(a.bias[c])
        std = math.sqrt(var + a.eps)
        for n in range(N):
            for k in range(M):
                Y[n, c, k] = gamma * (a.input[n, c, k] - mean) / std + beta
        if a.training and a.running_mean is not None:
            m = N * M
            a.running_mean[c] = (1 - a.momentum) * a.running_mean[c] + a.momentum * mean
            a.running_var[c] = (1 - a.momentum) * a.running_var[c] + a.momentum * var * m / (m - 1)
    return a.finish(Y)


def batch_norm_backward(grad_output: ArrayLike, input: ArrayLike, running_mean: ArrayLike | None,
                        running_var: ArrayLike | None, weight: ArrayLike | None = None,
                        bias: ArrayLike | None = None, training: bool = False,
                        eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of :func:`cnnbook.functional.batch_norm_backward`.

    Per channel: ``dbeta = sum G``, ``dgamma = sum G X_hat``; ``dX = gamma s G`` in evaluation mode and
    ``dX = gamma s / m (m G - dbeta - X_hat dgamma)`` in training mode, ``s = 1/sqrt(sigma2 + eps)``.
    """
    a = batch_norm_args(input, running_mean, running_var, weight, bias, training, 0.1, eps,
                        grad_output=grad_output)
    X, G = a.input, a.grad_output
    N, C, M = X.shape
    dX = np.empty(X.shape, a.dtype)
    dgamma, dbeta = np.zeros(C, a.dtype), np.zeros(C, a.dtype)
    for c in range(C):
        mean, var = _channel_statistics(a, c)
        s = 1.0 / math.sqrt(var + a.eps)
        gamma = 1.0 if a.weight is None else float(a.weight[c])
        sum_g, sum_gx = 0.0, 0.0
        for n in range(N):
            for k in range(M):
                sum_g += G[n, c, k]
                sum_gx += G[n, c, k] * (X[n, c, k] - mean) * s
        dbeta[c], dgamma[c] = sum_g, sum_gx
        m = N * M
        for n in range(N):
            for k in range(M):
                if a.training:
                    x_hat = (X[n, c, k] - mean) * s
                    dX[n, c, k] = gamma * s / m * (m * G[n, c, k] - sum_g - x_hat * sum_gx)
                else:
                    dX[n, c, k] = gamma * s * G[n, c, k]
    return a.finish(dX), dgamma, dbeta
