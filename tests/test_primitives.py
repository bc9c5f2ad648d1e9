"""Teaching primitives against scipy.signal, numpy and torch: correlate/convolve 1-D and 2-D, rot180,
pad2d, insert_zeros, dilate_kernel, im2col/col2im and conv_matrix."""
import numpy as np
import scipy.signal
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import cnnbook
from helpers import assert_close, dtypes, randn, seeds, to_torch

modes = st.sampled_from(["valid", "same", "full"])


@given(h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 5), kw=st.integers(1, 5), mode=modes,
       seed=seeds)
def test_correlate2d_convolve2d_match_scipy(h, w, kh, kw, mode, seed):
    kh, kw = min(kh, h), min(kw, w)  # scipy 'valid' needs the kernel to fit
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
    assert_close(cnnbook.correlate2d(x, k, mode=mode), scipy.signal.correlate2d(x, k, mode=mode), np.float64)
    assert_close(cnnbook.convolve2d(x, k, mode=mode), scipy.signal.convolve2d(x, k, mode=mode), np.float64)


@given(h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 5), kw=st.integers(1, 5), seed=seeds)
def test_corr2d_is_valid_cross_correlation_like_torch(h, w, kh, kw, seed):
    kh, kw = min(kh, h), min(kw, w)
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
    want = TF.conv2d(to_torch(x)[None, None], to_torch(k)[None, None])[0, 0]
    assert_close(cnnbook.corr2d(x, k), want, np.float64)


@given(n=st.integers(1, 12), m=st.integers(1, 12), mode=modes, seed=seeds)
def test_correlate1d_convolve1d_match_numpy(n, m, mode, seed):
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal(n), rng.standard_normal(m)
    assert_close(cnnbook.correlate1d(x, k, mode=mode), np.correlate(x, k, mode=mode), np.float64)
    assert_close(cnnbook.convolve1d(x, k, mode=mode), np.convolve(x, k, mode=mode), np.float64)


def test_1d_defaults_are_numpys():
    x, k = np.arange(5.0), np.array([1.0, 2.0, 4.0])
    assert_close(cnnbook.correlate1d(x, k), np.correlate(x, k), np.float64)  # numpy default 'valid'
    assert_close(cnnbook.convolve1d(x, k), np.convolve(x, k), np.float64)    # numpy default 'full'


@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple), dtype=dtypes, seed=seeds)
def test_rot180_flips_the_last_two_axes(shape, dtype, seed):
    k = randn(np.random.default_rng(seed), shape, dtype)
    np.testing.assert_array_equal(cnnbook.rot180(k), np.rot90(k, 2, axes=(-2, -1)))


def test_pad2d_forms():
    x = np.arange(6.0).reshape(1, 2, 3)
    np.testing.assert_array_equal(cnnbook.pad2d(x, 1), np.pad(x, ((0, 0), (1, 1), (1, 1))))
    np.testing.assert_array_equal(cnnbook.pad2d(x, (2, 1)), np.pad(x, ((0, 0), (2, 2), (1, 1))))
    np.testing.assert_array_equal(cnnbook.pad2d(x, (1, 0, 2, 3), value=-1),
                                  np.pad(x, ((0, 0), (1, 0), (2, 3)), constant_values=-1))


@given(h=st.integers(1, 5), w=st.integers(1, 5), s=st.integers(1, 4), seed=seeds)
def test_insert_zeros_size_and_placement(h, w, s, seed):
    x = np.random.default_rng(seed).standard_normal((2, h, w)) + 5.0  # never zero
    z = cnnbook.insert_zeros(x, s)
    assert z.shape == (2, (h - 1) * s + 1, (w - 1) * s + 1)
    np.testing.assert_array_equal(z[..., ::s, ::s], x)
    mask = np.ones(z.shape, bool)
    mask[..., ::s, ::s] = False
    assert np.all(z[mask] == 0)


@given(kh=st.integers(1, 4), kw=st.integers(1, 4), dh=st.integers(1, 3), dw=st.integers(1, 3),
       seed=seeds)
def test_dilate_kernel_size_and_equivalence_with_torch_dilation(kh, kw, dh, dw, seed):
    rng = np.random.default_rng(seed)
    k = rng.standard_normal((kh, kw))
    kd = cnnbook.dilate_kernel(k, (dh, dw))
    assert kd.shape == (kh + (kh - 1) * (dh - 1), kw + (kw - 1) * (dw - 1))  # K + (K-1)(D-1)
    x = rng.standard_normal((kd.shape[0] + 3, kd.shape[1] + 2))
    want = TF.conv2d(to_torch(x)[None, None], to_torch(k)[None, None], dilation=(dh, dw))[0, 0]
    assert_close(cnnbook.corr2d(x, kd), want, np.float64)
    if dh == dw:
        assert cnnbook.dilate_kernel(k, dh).shape == kd.shape  # int dilation


def _im2col_cfg(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = tuple(draw(st.integers(max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i]), 8)) for i in range(2))
    return k, s, d, p, size


@given(data=st.data(), n=st.integers(1, 2), c=st.integers(1, 3), seed=seeds)
def test_col2im_is_the_adjoint_of_im2col(data, n, c, seed):
    """<im2col(x), cols> == <x, col2im(cols)> for random x and cols; col2im equals torch's fold."""
    k, s, d, p, size = _im2col_cfg(data.draw)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *size))
    cols_x = cnnbook.im2col(x, k, stride=s, padding=p, dilation=d)
    cols = rng.standard_normal(cols_x.shape)
    back = cnnbook.col2im(cols, x.shape, k, stride=s, padding=p, dilation=d)
    assert back.shape == x.shape
    assert_close(back, TF.fold(to_torch(cols), size, k, dilation=d, padding=p, stride=s), np.float64, "fold")
    lhs, rhs = float(np.sum(cols_x * cols)), float(np.sum(x * back))
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


@given(data=st.data(), n=st.integers(1, 2), c=st.integers(1, 3), cout=st.integers(1, 3), dtype=dtypes,
       seed=seeds)
def test_im2col_times_weight_is_torch_conv2d(data, n, c, cout, dtype, seed):
    """Documented layout: rows (c, u, v) channel-major, columns the output positions row-major;
    W.reshape(C_out, -1) @ cols is the convolution. Also equals torch's unfold."""
    k, s, d, p, size = _im2col_cfg(data.draw)
    rng = np.random.default_rng(seed)
    x, w = randn(rng, (n, c, *size), dtype), randn(rng, (cout, c, *k), dtype)
    cols = cnnbook.im2col(x, k, stride=s, padding=p, dilation=d)
    assert_close(cols, TF.unfold(to_torch(x), k, dilation=d, padding=p, stride=s), dtype, "unfold")
    want = TF.conv2d(to_torch(x), to_torch(w), stride=s, padding=p, dilation=d)
    got = (w.reshape(cout, -1) @ cols).reshape(want.shape)
    assert_close(got, want, dtype, "im2col conv")


@given(h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 4), kw=st.integers(1, 4), seed=seeds)
def test_conv_matrix_and_its_transpose_match_torch(h, w, kh, kw, seed):
    kh, kw = min(kh, h), min(kw, w)
    rng = np.random.default_rng(seed)
    k, x = rng.standard_normal((kh, kw)), rng.standard_normal((h, w))
    C = cnnbook.conv_matrix(k, (h, w))
    ho, wo = h - kh + 1, w - kw + 1
    assert C.shape == (ho * wo, h * w)
    want = TF.conv2d(to_torch(x)[None, None], to_torch(k)[None, None])[0, 0]
    assert_close((C @ x.ravel()).reshape(ho, wo), want, np.float64, "C x")
    y = rng.standard_normal((ho, wo))
    want_t = TF.conv_transpose2d(to_torch(y)[None, None], to_torch(k)[None, None])[0, 0]
    assert_close((C.T @ y.ravel()).reshape(h, w), want_t, np.float64, "C^T y")
