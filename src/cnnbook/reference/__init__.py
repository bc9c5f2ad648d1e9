"""Loop implementations that mirror the formulas line by line (slow; for reading and for testing the
vectorised versions in :mod:`cnnbook.functional`)."""
from .conv import conv1d, conv1d_backward, conv2d, conv2d_backward, conv_transpose2d, conv_transpose2d_backward
from .pooling import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

__all__ = [
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "conv1d_backward",
    "conv2d_backward",
    "conv_transpose2d_backward",
    "max_pool2d",
    "avg_pool2d",
    "max_pool2d_backward",
    "avg_pool2d_backward",
]
