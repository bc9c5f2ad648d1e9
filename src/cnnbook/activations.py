"""Fully connected layer, activations and the cross-entropy loss, forward and backward.

Names and arguments follow ``torch.nn.functional``. Every backward function takes the upstream
gradient ``G = dL/dY`` first (except the loss, whose output is the scalar ``L`` itself).
"""
from __future__ import annotations

from numbers import Integral

import numpy as np

from ._checks import as_float_array, common_dtype

__all__ = [
    "linear", "linear_backward", "relu", "relu_backward", "sigmoid", "sigmoid_backward",
    "log_softmax", "log_softmax_backward", "cross_entropy", "cross_entropy_backward",
]


def _same_shape(g, x):
    if g.shape != x.shape:
        raise ValueError(f"grad_output must have the shape of input {x.shape}, got {g.shape}")


# --------------------------------------------------------------------------------------------------
# linear
# --------------------------------------------------------------------------------------------------
def _linear_args(input, weight):
    x = as_float_array(input, "input")
    w = as_float_array(weight, "weight", ndim=2, layout="(out_features, in_features)")
    if x.ndim < 1:
        raise ValueError("input must have at least 1 dimension (*, in_features), got a scalar")
    if x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"input's last dimension ({x.shape[-1]}) must equal weight's in_features ({w.shape[1]}); "
            f"weight has shape (out_features, in_features) = {w.shape}"
        )
    return x, w


def linear(input, weight, bias=None):
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
    x, w = _linear_args(input, weight)
    b = None
    if bias is not None:
        b = as_float_array(bias, "bias", ndim=1, layout="(out_features,)")
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"bias must have length out_features = {w.shape[0]}, got {b.shape[0]}")
    dtype = common_dtype(x, w, b)
    y = x.astype(dtype, copy=False) @ w.astype(dtype, copy=False).T
    if b is not None:
        y = y + b.astype(dtype, copy=False)
    return y


def linear_backward(grad_output, input, weight):
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
    x, w = _linear_args(input, weight)
    g = as_float_array(grad_output, "grad_output")
    want = x.shape[:-1] + (w.shape[0],)
    if g.shape != want:
        raise ValueError(f"grad_output must have the output shape {want}, got {g.shape}")
    dtype = common_dtype(x, w, g)
    x, w, g = (a.astype(dtype, copy=False) for a in (x, w, g))
    g2 = g.reshape(-1, w.shape[0])
    grad_input = g @ w
    grad_weight = g2.T @ x.reshape(-1, w.shape[1])
    grad_bias = g2.sum(axis=0)
    return grad_input, grad_weight, grad_bias


# --------------------------------------------------------------------------------------------------
# element-wise activations
# --------------------------------------------------------------------------------------------------
def relu(input):
    """Rectified linear unit, like ``torch.nn.functional.relu``: ``Y = max(X, 0)`` element-wise."""
    x = as_float_array(input, "input")
    return np.maximum(x, np.zeros((), x.dtype))


def relu_backward(grad_output, input):
    """Gradient of :func:`relu`: ``dL/dX = G * [X > 0]``.

    The derivative at ``X == 0`` is taken as 0, as torch does.
    """
    x = as_float_array(input, "input")
    g = as_float_array(grad_output, "grad_output")
    _same_shape(g, x)
    dtype = common_dtype(x, g)
    return np.where(x > 0, g, 0).astype(dtype, copy=False)


def sigmoid(input):
    """Logistic sigmoid, like ``torch.sigmoid``: ``Y = 1 / (1 + exp(-X))`` element-wise.

    Computed stably: with ``z = exp(-|X|)`` (never overflows), ``Y = 1/(1+z)`` for ``X >= 0`` and
    ``Y = z/(1+z)`` for ``X < 0``.
    """
    x = as_float_array(input, "input")
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


def sigmoid_backward(grad_output, input):
    """Gradient of :func:`sigmoid`: ``dL/dX = G * sigma(X) * (1 - sigma(X))``.

    Note: takes the forward *input* ``X`` (like the other backward functions), not the output.
    """
    x = as_float_array(input, "input")
    g = as_float_array(grad_output, "grad_output")
    _same_shape(g, x)
    dtype = common_dtype(x, g)
    s = sigmoid(x.astype(dtype, copy=False))
    return (g * s * (1 - s)).astype(dtype, copy=False)


# --------------------------------------------------------------------------------------------------
# softmax and cross-entropy
# --------------------------------------------------------------------------------------------------
def _axis(dim, ndim):
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, Integral):
        raise TypeError(f"dim must be an int, got {dim!r}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise ValueError(f"dim must be in [{-n}, {n - 1}] for a {ndim}-D input, got {dim}")
    return int(dim) % n if ndim else None


def log_softmax(input, dim=-1):
    """Logarithm of the softmax along ``dim``, like ``torch.nn.functional.log_softmax``.

    .. math:: \\log\\operatorname{softmax}(x)_k = x_k - m - \\log \\sum_j e^{x_j - m},
              \\qquad m = \\max_j x_j

    Subtracting the maximum ``m`` keeps every exponent <= 0, so nothing overflows.
    """
    x = as_float_array(input, "input")
    axis = _axis(dim, x.ndim)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # a row of -inf stays -inf/nan as in torch, no warnings
    shifted = x - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def log_softmax_backward(grad_output, input, dim=-1):
    """Gradient of :func:`log_softmax` along ``dim``: ``(grad_input)``.

    With ``Z = log_softmax(X)`` and ``p = softmax(X) = exp(Z)``, ``dZ_j/dX_k = [j = k] - p_k``, so

    .. math:: \\frac{\\partial L}{\\partial X_k} = G_k - p_k \\sum_j G_j

    for the upstream gradient ``G`` (sums along ``dim``). Shapes: ``grad_output`` and ``input`` alike.
    """
    x = as_float_array(input, "input")
    g = as_float_array(grad_output, "grad_output")
    _same_shape(g, x)
    dtype = common_dtype(x, g)
    axis = _axis(dim, x.ndim)
    p = np.exp(log_softmax(x.astype(dtype, copy=False), dim=dim))
    return (g - p * np.sum(g, axis=axis, keepdims=True)).astype(dtype, copy=False)


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _ce_args(input, target):
    x = as_float_array(input, "input", ndim=2, layout="(N, K) of logits")
    t = np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"target must be an integer array of class indices, got dtype {t.dtype} "
            "(class probabilities are not supported)"
        )
    if t.shape != (x.shape[0],):
        raise ValueError(
            f"target must have shape (N,) = ({x.shape[0]},) to match input's batch size, got {t.shape}"
        )
    K = x.shape[1]
    if t.size and (t.min() < 0 or t.max() >= K):
        raise ValueError(f"target class indices must be in [0, {K - 1}] (K = {K} classes), "
                         f"got values in [{t.min()}, {t.max()}]")
    return x, t.astype(np.intp)


def cross_entropy(input, target):
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
    x, t = _ce_args(input, target)
    logp = log_softmax(x, dim=1)
    return -logp[np.arange(x.shape[0]), t].mean()


def cross_entropy_backward(input, target):
    """Gradient of :func:`cross_entropy` with respect to the logits.

    .. math:: \\frac{\\partial L}{\\partial X[n,k]} = \\frac{\\operatorname{softmax}(X[n,:])_k - [k = t_n]}{N}

    Returns
    -------
    ndarray, shape (N, K)
    """
    x, t = _ce_args(input, target)
    p = _softmax(x)
    p[np.arange(x.shape[0]), t] -= 1
    return p / x.shape[0]
