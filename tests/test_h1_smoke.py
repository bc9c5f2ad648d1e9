"""Smoke tests of the convolution core (H1): primitives, shapes, conv forward/backward vs torch.

The full property-test suite lives in the other test files; these are fixed cases chosen to cover
stride with leftover rows, dilation, groups, 'same' padding, unbatched inputs and dtypes.
"""
import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as TF

import cnnbook
from cnnbook import functional as F
from cnnbook import reference as R
from cnnbook.shapes import (conv_output_size, conv_transpose_output_size, pool_output_size, receptive_field,
                            receptive_fields)

CONV_CASES = [
    dict(),
    dict(stride=2),                                   # (9 - 3) % 2 == 0
    dict(stride=(3, 2), padding=(1, 0)),              # leftover rows and columns
    dict(dilation=(2, 1), padding=2),
    dict(stride=2, dilation=2, padding=(0, 3)),
    dict(padding="same", dilation=(1, 2)),
    dict(padding="valid"),
]


def _torch_grads(fn, x, w, b, kwargs, rng):
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    y = fn(xt, wt, bt, **kwargs)
    g = rng.standard_normal(tuple(y.shape))
    y.backward(torch.tensor(g))
    return y.detach().numpy(), g, xt.grad.numpy(), wt.grad.numpy(), None if b is None else bt.grad.numpy()


def test_corr2d_worked_example():
    np.testing.assert_array_equal(cnnbook.corr2d([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]]),
                                  [[19, 25], [37, 43]])


@pytest.mark.parametrize("kwargs", CONV_CASES)
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_forward_backward_vs_torch(kwargs, groups, rng):
    x = rng.standard_normal((2, 2 * groups, 9, 8))
    w = rng.standard_normal((3 * groups, 2, 3, 2))
    b = rng.standard_normal(3 * groups)
    kw = dict(kwargs, groups=groups)
    y, g, gx, gw, gb = _torch_grads(TF.conv2d, x, w, b, kw, rng)
    np.testing.assert_allclose(F.conv2d(x, w, b, **kw), y, atol=1e-10)
    ours = F.conv2d_backward(g, x, w, **kw)
    for a, t in zip(ours, (gx, gw, gb)):
        np.testing.assert_allclose(a, t, atol=1e-10)
    np.testing.assert_allclose(R.conv2d(x, w, b, **kw), y, atol=1e-10)
    for a, t in zip(R.conv2d_backward(g, x, w, **kw), (gx, gw, gb)):
        np.testing.assert_allclose(a, t, atol=1e-10)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(dilation=3, padding="same"),
                                    dict(stride=3, groups=2)])
def test_conv1d_vs_torch(kwargs, rng):
    x, w, b = rng.standard_normal((3, 4, 11)), rng.standard_normal((6, 4 // kwargs.get("groups", 1), 3)), None
    y, g, gx, gw, gb = _torch_grads(TF.conv1d, x, w, b, kwargs, rng)
    np.testing.assert_allclose(F.conv1d(x, w, **kwargs), y, atol=1e-10)
    np.testing.assert_allclose(R.conv1d(x, w, **kwargs), y, atol=1e-10)
    for a, t in zip(F.conv1d_backward(g, x, w, **kwargs), (gx, gw, g.sum(axis=(0, 2)))):
        np.testing.assert_allclose(a, t, atol=1e-10)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, output_padding=1), dict(stride=(3, 2), padding=(2, 1)),
                                    dict(dilation=2, output_padding=1, groups=2), dict(padding=3, stride=2)])
def test_conv_transpose2d_vs_torch(kwargs, rng):
    x = rng.standard_normal((2, 4, 5, 4))
    w = rng.standard_normal((4, 3, 3, 4))
    b = rng.standard_normal(3 * kwargs.get("groups", 1))
    y, g, gx, gw, gb = _torch_grads(TF.conv_transpose2d, x, w, b, kwargs, rng)
    np.testing.assert_allclose(F.conv_transpose2d(x, w, b, **kwargs), y, atol=1e-10)
    np.testing.assert_allclose(R.conv_transpose2d(x, w, b, **kwargs), y, atol=1e-10)
    for a, t in zip(F.conv_transpose2d_backward(g, x, w, **kwargs), (gx, gw, gb)):
        np.testing.assert_allclose(a, t, atol=1e-10)


def test_transpose_is_grad_input(rng):
    """conv_transpose2d(G, W) is conv2d_backward's grad_input (output_padding = leftover rows)."""
    x, w = rng.standard_normal((1, 2, 10, 9)), rng.standard_normal((3, 2, 3, 3))
    g = rng.standard_normal(F.conv2d(x, w, stride=2, padding=1).shape)
    grad_input = F.conv2d_backward(g, x, w, stride=2, padding=1)[0]
    np.testing.assert_allclose(F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=(1, 0)), grad_input)


def test_unbatched_and_dtypes(rng):
    x, w = rng.standard_normal((3, 6, 7)).astype(np.float32), rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (2, 6, 7) and y.dtype == np.float32
    np.testing.assert_allclose(y, TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy(),
                               rtol=1e-5, atol=1e-5)
    gi, gw, gb = F.conv2d_backward(np.ones_like(y), x, w, padding=1)
    assert gi.shape == x.shape and gi.dtype == gw.dtype == gb.dtype == np.float32
    assert F.conv2d(x, w.astype(np.float64)).dtype == np.float64
    assert F.conv_transpose2d(x, np.ones((3, 2, 2, 2), np.float32)).shape == (2, 7, 8)


def test_backward_example_10x8_kernel_5x5(rng):
    """The notes' example: dX = full correlation of G (6x4) padded by 4 with rot180(K)."""
    x, k = rng.standard_normal((10, 8)), rng.standard_normal((5, 5))
    g = rng.standard_normal((6, 4))
    gi, gw, _ = F.conv2d_backward(g[None, None], x[None, None], k[None, None])
    np.testing.assert_allclose(gi[0, 0], cnnbook.corr2d(cnnbook.pad2d(g, 4), cnnbook.rot180(k)))
    np.testing.assert_allclose(gw[0, 0], cnnbook.corr2d(x, g))


def test_primitives_vs_numpy_scipy_torch(rng):
    for n, m in [(7, 3), (6, 4), (2, 5), (3, 6)]:
        a, v = rng.standard_normal(n), rng.standard_normal(m)
        for mode in ("full", "same", "valid"):
            np.testing.assert_allclose(cnnbook.correlate1d(a, v, mode), np.correlate(a, v, mode))
            np.testing.assert_allclose(cnnbook.convolve1d(a, v, mode), np.convolve(a, v, mode))
    x = rng.standard_normal((6, 5))
    for shape in [(3, 3), (2, 4), (1, 2)]:
        k = rng.standard_normal(shape)
        for mode in ("full", "same", "valid"):
            np.testing.assert_allclose(cnnbook.correlate2d(x, k, mode), scipy.signal.correlate2d(x, k, mode))
            np.testing.assert_allclose(cnnbook.convolve2d(x, k, mode), scipy.signal.convolve2d(x, k, mode))
    xb = rng.standard_normal((2, 3, 7, 6))
    args = dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    cols = cnnbook.im2col(xb, **args)
    np.testing.assert_allclose(cols, TF.unfold(torch.from_numpy(xb), **args).numpy())
    np.testing.assert_allclose(cnnbook.col2im(cols, xb.shape, **args),
                               TF.fold(torch.from_numpy(cols), (7, 6), **args).numpy())
    k = rng.standard_normal((2, 3))
    c = cnnbook.conv_matrix(k, (4, 5))
    np.testing.assert_allclose(c @ x[:4].ravel(), cnnbook.corr2d(x[:4], k).ravel())
    y = rng.standard_normal((3, 3))
    np.testing.assert_allclose((c.T @ y.ravel()).reshape(4, 5),
                               TF.conv_transpose2d(torch.from_numpy(y)[None, None],
                                                   torch.from_numpy(k)[None, None]).numpy()[0, 0])
    np.testing.assert_array_equal(cnnbook.insert_zeros(np.ones((2, 2)), 3), [[1, 0, 0, 1], [0] * 4, [0] * 4, [1, 0, 0, 1]])
    assert cnnbook.dilate_kernel(np.ones((3, 3)), 2).shape == (5, 5)         # K + (K - 1)(D - 1)
    assert cnnbook.pad2d(np.ones((1, 2)), (1, 0, 2, 1)).shape == (2, 5)


def test_shapes():
    assert conv_output_size(28, 5) == 24 and conv_output_size((7, 8), 3, stride=2, padding=1) == (4, 4)
    assert pool_output_size(5, 2, ceil_mode=True) == 3 and pool_output_size(6, 3, 2, 1, ceil_mode=True) == 4
    assert pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3   # the 4th window would start in the padding
    assert conv_transpose_output_size(4, 3, stride=3) == (2 + 1) * (4 - 1) + 3   # (D+1)(M-1)+K with D=2
    assert [r for r, _ in receptive_fields([(3, 1, 1), (3, 1, 2), (3, 1, 4)])] == [3, 7, 15]
    assert receptive_field([(5, 1, 1), (2, 2, 1), (5, 1, 1)]) == 14
    assert receptive_field([dict(kernel_size=3, stride=2), 3]) == 7


@pytest.mark.parametrize("call, exc, match", [
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 4, 7, 7))), ValueError, "kernel size.*padded input"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 3, 3, 3))), ValueError, "channel"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((3, 2, 3, 3)), groups=2), ValueError, "groups"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 4, 3, 3)), stride=0), ValueError, "stride"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 4, 3, 3)), dilation=(1, 0)), ValueError, "dilation"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 4, 3, 3)), padding=-1), ValueError, "padding"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 4, 3, 3)), np.zeros(3)), ValueError, "bias"),
    (lambda: F.conv2d(np.zeros((5, 5)), np.zeros((2, 4, 3, 3))), ValueError, "input must be 3-D or 4-D"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5), bool), np.zeros((2, 4, 3, 3))), TypeError, "input"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 4, 3, 3)), padding="full"), ValueError, "padding"),
    (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 4, 3, 3)), padding="same", stride=2), ValueError,
     "strided"),
    (lambda: F.conv_transpose2d(np.zeros((1, 4, 5, 5)), np.zeros((4, 2, 3, 3)), stride=2, output_padding=2),
     ValueError, "output_padding"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
