"""The worked examples of the source notes, with their known numbers (computed by hand here)."""
import numpy as np
import torch.nn.functional as TF

import cnnbook
from cnnbook import functional as F
from helpers import BOTH_TREES, assert_close, to_torch


def test_corr2d_3x3_with_2x2_gives_19_25_37_43():
    x = np.arange(9.0).reshape(3, 3)
    k = np.array([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(cnnbook.corr2d(x, k), [[19.0, 25.0], [37.0, 43.0]])
    np.testing.assert_array_equal(F.conv2d(x[None, None], k[None, None])[0, 0], [[19, 25], [37, 43]])


@BOTH_TREES
def test_pooling_0_to_8_with_2x2_window_stride_1(module):
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(module.max_pool2d(x, 2, stride=1)[0, 0], [[4.0, 5.0], [7.0, 8.0]])
    np.testing.assert_array_equal(module.avg_pool2d(x, 2, stride=1)[0, 0], [[2.0, 3.0], [5.0, 6.0]])
    # backward with every upstream gradient 1: max sends each window's 1 to its maximum (4, 5, 7, 8,
    # the bottom-right cell of each window); avg spreads 1/4 over each window, so a cell receives 1/4
    # per window it belongs to (the centre 4 of them)
    ones = np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(module.max_pool2d_backward(ones, x, 2, stride=1)[0, 0],
                                  [[0, 0, 0], [0, 1, 1], [0, 1, 1]])
    np.testing.assert_array_equal(module.avg_pool2d_backward(ones, x, 2, stride=1)[0, 0] * 4,
                                  [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


SIGNAL = np.array([1.0, 1.0, 2.0, 4.0, 2.0, 0.0, 1.0])


def test_decay_filter_1_half_quarter():
    """y_t = x_t + x_{t-1}/2 + x_{t-2}/4 (a mathematical convolution with w = [1, 1/2, 1/4]);
    the outputs from t = K on, i.e. the 'valid' part."""
    w = np.array([1.0, 0.5, 0.25])
    # by hand: 2 + 1/2 + 1/4, 4 + 1 + 1/4, 2 + 2 + 1/2, 0 + 1 + 1, 1 + 0 + 1/2
    want = [2.75, 5.25, 4.5, 2.0, 1.5]
    np.testing.assert_allclose(cnnbook.convolve1d(SIGNAL, w, mode="valid"), want, rtol=0, atol=1e-15)
    # the deep-learning layer is a cross-correlation: it needs the flipped kernel for the same numbers
    np.testing.assert_allclose(F.conv1d(SIGNAL[None, None], w[::-1].copy()[None, None])[0, 0], want,
                               rtol=0, atol=1e-15)


def test_moving_average_filter():
    w = np.full(3, 1 / 3)
    want = [4 / 3, 7 / 3, 8 / 3, 2.0, 1.0]  # (1+1+2)/3, (1+2+4)/3, (2+4+2)/3, (4+2+0)/3, (2+0+1)/3
    np.testing.assert_allclose(cnnbook.convolve1d(SIGNAL, w, mode="valid"), want, rtol=1e-15)
    np.testing.assert_allclose(cnnbook.correlate1d(SIGNAL, w, mode="valid"), want, rtol=1e-15)


def test_second_difference_filter():
    """[1, -2, 1] gives x(t+1) + x(t-1) - 2x(t); symmetric, so convolution == correlation."""
    w = np.array([1.0, -2.0, 1.0])
    want = [1.0, 1.0, -4.0, 0.0, 3.0]  # 1-2+2, 1-4+4, 2-8+2, 4-4+0, 2-0+1
    np.testing.assert_array_equal(cnnbook.convolve1d(SIGNAL, w, mode="valid"), want)
    np.testing.assert_array_equal(cnnbook.correlate1d(SIGNAL, w, mode="valid"), want)


def test_dice_sum_distribution_is_a_convolution():
    die = np.full(6, 1 / 6)  # P(face = 1..6)
    h = cnnbook.convolve1d(die, die, mode="full")  # index i <-> sum i + 2
    assert h.shape == (11,)
    counts = np.array([1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1]) / 36  # ways to throw 2..12
    np.testing.assert_allclose(h, counts, rtol=1e-14)
    np.testing.assert_allclose(h[7 - 2], 6 / 36, rtol=1e-14)  # P(sum = 7)
    np.testing.assert_allclose(h[4 - 2], 3 / 36, rtol=1e-14)  # the notes' f(1)g(3)+f(2)g(2)+f(3)g(1)


def test_fractionally_strided_output_length():
    """Insert D zeros between M inputs, pad K-1 on both sides, slide a K kernel with stride 1:
    (D+1)(M-1) + K outputs, which is torch's conv_transpose with stride D+1."""
    rng = np.random.default_rng(0)
    for M, K, D in [(3, 3, 1), (4, 2, 2), (5, 3, 0), (2, 4, 3)]:
        z, k = rng.standard_normal(M), rng.standard_normal(K)
        zz = cnnbook.insert_zeros(z[None, :], D + 1)[0]
        assert zz.shape == ((M - 1) * (D + 1) + 1,)
        out = cnnbook.convolve1d(zz, k, mode="full")
        assert out.shape == ((D + 1) * (M - 1) + K,)
        t1 = TF.conv_transpose1d(to_torch(z)[None, None], to_torch(k)[None, None], stride=D + 1)[0, 0]
        assert_close(out, t1, np.float64)
        t2 = F.conv_transpose2d(z[None, None, None], k[None, None, None], stride=(1, D + 1))
        assert t2.shape[-1] == (D + 1) * (M - 1) + K


def test_dilated_kernel_size():
    for K, D in [(3, 1), (3, 2), (3, 4), (5, 3), (2, 5)]:
        assert cnnbook.dilate_kernel(np.ones((K, K)), D).shape == (K + (K - 1) * (D - 1),) * 2


def test_backward_10x8_input_5x5_kernel_pad_4_rot180():
    """Forward A(10x8) * W(5x5) = Z(6x4); backward: dZ padded by K-1 = 4 -> 14x12, cross-correlated
    with rot180(W) -> dA (10x8), equal to torch autograd and to conv2d_backward."""
    rng = np.random.default_rng(3)
    a, w = rng.standard_normal((10, 8)), rng.standard_normal((5, 5))
    dz = rng.standard_normal((6, 4))
    at, wt = to_torch(a, True), to_torch(w, True)
    z = TF.conv2d(at[None, None], wt[None, None])
    assert tuple(z.shape[-2:]) == (6, 4)
    z.backward(to_torch(dz)[None, None])
    padded = cnnbook.pad2d(dz, 4)
    assert padded.shape == (14, 12)
    da = cnnbook.corr2d(padded, cnnbook.rot180(w))
    assert_close(da, at.grad, np.float64, "pad 4 + rot180")
    gi, gw, gb = F.conv2d_backward(dz[None, None], a[None, None], w[None, None])
    assert_close(gi[0, 0], at.grad, np.float64, "conv2d_backward grad_input")
    assert_close(gw[0, 0], wt.grad, np.float64, "conv2d_backward grad_weight")
    # dW = dZ (valid cross-correlation) over A
    assert_close(cnnbook.corr2d(a, dz), wt.grad, np.float64, "dW = A corr dZ")
