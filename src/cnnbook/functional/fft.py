"""Convolution through the Fourier transform: the convolution theorem used for speed.

The discrete Fourier transform turns a *circular* convolution into a product, frequency by frequency:
``DFT(X ∗_circ K) = DFT(X) · DFT(K)`` for arrays of the same size. A cross-correlation is a convolution
with the kernel rotated by 180 degrees, shifted: ``(X ⋆ W)[i, j] = (X ∗ rot180(W))[i + k_h - 1, j + k_w - 1]``.
With ``X`` the padded input (H_p x W_p) and ``rot180(W)`` zero-padded to the same size, the circular
convolution wraps around only in its first ``k - 1`` rows and columns, which the shift drops, so

    Y[n, o] = IDFT( sum_c DFT(X_pad[n, c]) · DFT(rot180(W[o, c])) )[k_h - 1 :, k_w - 1 :]

cropped to ``H_out x W_out = (H_p - k_h + 1) x (W_p - k_w + 1)``. Cost: ``O(N C H_p W_p log(H_p W_p))``
for the transforms of the inputs, the same per (o, c) pair for the kernels, and ``N C_out C H_p W_p / 2``
complex products, independent of the kernel size; the direct sum costs ``N C_out C H_out W_out k_h k_w``.
Real inputs use the half-spectrum transforms ``numpy.fft.rfft2`` / ``irfft2``.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..arguments import Padding, conv_args
from ..primitives import pad2d, rot180

__all__ = ["fft_conv2d"]


def fft_conv2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
               padding: Padding = 0) -> np.ndarray:
    """2-D cross-correlation computed with FFTs; equals :func:`cnnbook.functional.conv2d` with stride 1,
    dilation 1 and one group, up to round-off.

    ``Y[n, o] = b[o] + IDFT(sum_c DFT(X_pad[n, c]) DFT(rot180(W[o, c])))`` shifted by ``(k_h - 1, k_w - 1)``
    and cropped to the output size (see the module notes).

    Parameters
    ----------
    input : array (N, C, H, W) or (C, H, W)
    weight : array (C_out, C, k_h, k_w)
    bias : array (C_out,), optional
    padding : int, pair, 'valid' or 'same'

    Returns
    -------
    array (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) for an unbatched input), ``H_out = H + 2p - k_h + 1``.
    """
    a = conv_args(2, input, weight, bias, 1, padding, 1, 1)
    xp = pad2d(a.input, a.padding) if any(a.padding) else a.input
    size = xp.shape[-2:]
    (kh, kw), (ho, wo) = a.weight.shape[2:], a.out_size
    spectrum_x = np.fft.rfft2(xp, s=size)                            # (N, C, H_p, W_p/2 + 1)
    spectrum_w = np.fft.rfft2(rot180(a.weight), s=size)              # (C_out, C, H_p, W_p/2 + 1)
    # the sum over c, frequency by frequency: (f, N, C) @ (f, C, C_out), a batch of small matrix products
    product = np.matmul(spectrum_x.transpose(2, 3, 0, 1), spectrum_w.transpose(2, 3, 1, 0))
    full = np.fft.irfft2(product.transpose(2, 3, 0, 1), s=size)      # (N, C_out, H_p, W_p)
    y = np.ascontiguousarray(full[:, :, kh - 1:kh - 1 + ho, kw - 1:kw - 1 + wo], dtype=a.dtype)
    if a.bias is not None:
        y += a.bias[:, None, None]
    return a.finish(y)
