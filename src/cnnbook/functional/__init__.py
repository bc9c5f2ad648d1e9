"""The ``torch.nn.functional`` mirror: NumPy arrays in and out, NCHW, torch's names and defaults.

Every operation has a ``*_backward`` taking the upstream gradient first. One module per family:
:mod:`~cnnbook.functional.conv` (convolutions), :mod:`~cnnbook.functional.pooling`,
:mod:`~cnnbook.functional.linear`, :mod:`~cnnbook.functional.activation` (relu, sigmoid, log_softmax)
and :mod:`~cnnbook.functional.loss` (cross-entropy); the family of chapter 9:
:mod:`~cnnbook.functional.fold` (unfold, fold), :mod:`~cnnbook.functional.conv3d`,
:mod:`~cnnbook.functional.fft` (convolution by FFT) and :mod:`~cnnbook.functional.unshared` (locally
connected and tiled convolution); chapter 10's :mod:`~cnnbook.functional.normalization` (batch norm) and
:mod:`~cnnbook.functional.dropout`, and adaptive average pooling in :mod:`~cnnbook.functional.pooling`.
:mod:`cnnbook.reference` has the same modules with the same functions
written as loops.
"""
from .activation import log_softmax, log_softmax_backward, relu, relu_backward, sigmoid, sigmoid_backward
from .conv import conv1d, conv1d_backward, conv2d, conv2d_backward, conv_transpose2d, conv_transpose2d_backward
from .linear import linear, linear_backward
from .loss import cross_entropy, cross_entropy_backward
from .pooling import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward
# chapter 9: the convolution family
from .conv3d import conv3d, conv3d_backward
from .fft import fft_conv2d
from .fold import fold, fold_backward, unfold, unfold_backward
from .unshared import conv2d_tiled, conv2d_tiled_backward, conv2d_unshared, conv2d_unshared_backward
# chapter 10: from LeNet to ResNet
from .dropout import dropout, dropout_backward, dropout_mask
from .normalization import batch_norm, batch_norm_backward
from .pooling import adaptive_avg_pool2d, adaptive_avg_pool2d_backward

__all__ = [
    "conv1d", "conv1d_backward", "conv2d", "conv2d_backward", "conv_transpose2d", "conv_transpose2d_backward",
    "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
    "linear", "linear_backward",
    "relu", "relu_backward", "sigmoid", "sigmoid_backward", "log_softmax", "log_softmax_backward",
    "cross_entropy", "cross_entropy_backward",
    "unfold", "unfold_backward", "fold", "fold_backward", "conv3d", "conv3d_backward", "fft_conv2d",
    "conv2d_unshared", "conv2d_unshared_backward", "conv2d_tiled", "conv2d_tiled_backward",
    "batch_norm", "batch_norm_backward", "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward",
    "dropout", "dropout_backward", "dropout_mask",
]
