"""The ``torch.nn.functional`` mirror: NumPy arrays in and out, NCHW, torch's names and defaults.

Every operation has a ``*_backward`` taking the upstream gradient first. This module only re-exports:
convolutions from :mod:`cnnbook.conv`, pooling from :mod:`cnnbook.pooling`, the rest from
:mod:`cnnbook.activations`.
"""
from .activations import (
    cross_entropy,
    cross_entropy_backward,
    linear,
    linear_backward,
    log_softmax,
    log_softmax_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
)
from .conv import (
    conv1d,
    conv1d_backward,
    conv2d,
    conv2d_backward,
    conv_transpose2d,
    conv_transpose2d_backward,
)
from .pooling import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

__all__ = [
    "conv1d",
    "conv1d_backward",
    "conv2d",
    "conv2d_backward",
    "conv_transpose2d",
    "conv_transpose2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "linear",
    "linear_backward",
    "relu",
    "relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "log_softmax",
    "log_softmax_backward",
    "cross_entropy",
    "cross_entropy_backward",
]
