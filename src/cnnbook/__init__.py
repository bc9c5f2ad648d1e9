"""cnnbook: the NumPy package behind the cnnbook textbook on convolutional neural networks.

* ``cnnbook.functional``: the ``torch.nn.functional`` mirror (vectorised forward and backward);
* ``cnnbook.reference``: the same operations as explicit loops, for reading (the same modules);
* ``cnnbook.shapes``: output sizes, receptive fields and the size captions;
* ``cnnbook.arguments``: argument checks and the argument records both of them share;
* ``fft_conv2d`` (convolution by the FFT, chapter 9), also as ``cnnbook.functional.fft_conv2d``;
* the teaching primitives below (``corr2d``, ``rot180``, ``im2col``, ...), importable from here.
"""
from . import functional, primitives, reference, shapes
from .primitives import (col2im, conv_matrix, convolve1d, convolve2d, corr2d, correlate1d, correlate2d,
                         dilate_kernel, frequency_response, im2col, insert_zeros, pad2d, rot180)
from .functional.fft import fft_conv2d

__version__ = "0.1.0"

__all__ = ["functional", "reference", "shapes", "fft_conv2d", *primitives.__all__]
