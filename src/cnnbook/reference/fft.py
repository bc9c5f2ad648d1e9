"""Convolution through the Fourier transform, with the discrete Fourier transform written as its sum
(the loop version of :mod:`cnnbook.functional.fft`; slow, for reading).

``DFT(Z)[f, g] = sum_{r, c} Z[r, c] exp(-2 pi i (f r / H + g c / W))`` and
``IDFT(Z)[r, c] = (1 / (H W)) sum_{f, g} Z[f, g] exp(+2 pi i (f r / H + g c / W))``.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import Padding, conv_args

__all__ = ["fft_conv2d"]


def _dft2(z: np.ndarray, sign: float) -> np.ndarray:
    """The 2-D DFT (``sign=-1``) or the unnormalised inverse (``sign=+1``) of the last two axes, by the sum."""
    height, width = z.shape[-2:]
    out = np.zeros(z.shape, complex)
    for f in range(height):
        for g in range(width):
            for r in range(height):
                for c in range(width):
                    out[..., f, g] += z[..., r, c] * np.exp(sign * 2j * np.pi * (f * r / height + g * c / width))
    return out


def fft_conv2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
               padding: Padding = 0) -> np.ndarray:
    """Loop version of :func:`cnnbook.functional.fft_conv2d`: the convolution theorem with every sum written out.

    The padded input and ``rot180(W)``, zero-padded to the same ``H_p x W_p`` size, are transformed; the
    products of their spectra are summed over the input channels; the inverse transform is the circular
    convolution, read from ``(k_h - 1, k_w - 1)`` on.
    """
    a = conv_args(2, input, weight, bias, 1, padding, 1, 1)
    top, bottom, left, right = a.padding
    n_batch, channels, height, width = a.input.shape
    hp, wp = height + top + bottom, width + left + right
    xp = np.zeros((n_batch, channels, hp, wp))
    xp[:, :, top:top + height, left:left + width] = a.input
    c_out, _, kh, kw = a.weight.shape
    kernel = np.zeros((c_out, channels, hp, wp))
    for u in range(kh):
        for v in range(kw):
            kernel[:, :, u, v] = a.weight[:, :, kh - 1 - u, kw - 1 - v]    # rot180(W), zero-padded
    spectrum_x, spectrum_w = _dft2(xp, -1.0), _dft2(kernel, -1.0)
    product = np.zeros((n_batch, c_out, hp, wp), complex)
    for n in range(n_batch):
        for o in range(c_out):
            for c in range(channels):
                product[n, o] += spectrum_x[n, c] * spectrum_w[o, c]
    full = _dft2(product, +1.0).real / (hp * wp)
    ho, wo = a.out_size
    y = full[:, :, kh - 1:kh - 1 + ho, kw - 1:kw - 1 + wo].astype(a.dtype)
    if a.bias is not None:
        y += a.bias[:, None, None]
    return a.finish(y)
