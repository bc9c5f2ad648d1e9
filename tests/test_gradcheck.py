"""Backward functions against central finite differences in float64 (small shapes).

For L = sum(G * f(x)) with a random G, dL/dx_i ~ (L(x + h e_i) - L(x - h e_i)) / (2h). Convolutions
and average pooling are linear, so the difference is exact up to roundoff (~1e-16 |L| / h); max
pooling uses tie-free inputs spaced 0.5 apart, so a step h = 1e-6 never changes an arg-max (no kink),
and cross-entropy is smooth (error O(h^2)). Tolerance 1e-6 covers both with a wide margin.
"""
import numpy as np
import pytest

from cnnbook import functional as F
from cnnbook.check import central_difference
from helpers import tie_free

H = 1e-6
TOL = 1e-6


def numeric_grad(fun, x):
    return central_difference(fun, x, eps=H)


def check(analytic, numeric):
    np.testing.assert_allclose(analytic, numeric, rtol=TOL, atol=TOL)


def check_layer(forward, backward, x, w, b, kw):
    """The gradients ``backward`` gives for ``L = sum(G * forward(x, w, b))`` equal finite differences."""
    G = np.random.default_rng(7).standard_normal(forward(x, w, b, **kw).shape)

    def loss():
        return float(np.sum(G * forward(x, w, b, **kw)))

    gi, gw, gb = backward(G, x, w, **kw)
    check(gi, numeric_grad(loss, x))
    check(gw, numeric_grad(loss, w))
    check(gb, numeric_grad(loss, b))


CONV_CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=(2, 1), padding=(1, 0), dilation=1, groups=1),
    dict(stride=2, padding=1, dilation=(1, 2), groups=2),
    dict(stride=1, padding="same", dilation=2, groups=1),
]


@pytest.mark.parametrize("kw", CONV_CASES)
def test_conv2d_backward_finite_differences(kw):
    rng = np.random.default_rng(0)
    groups = kw["groups"]
    x = rng.standard_normal((2, 2 * groups, 5, 6))
    w = rng.standard_normal((2, x.shape[1] // groups, 3, 2))
    check_layer(F.conv2d, F.conv2d_backward, x, w, rng.standard_normal(2), kw)


@pytest.mark.parametrize("kw", [
    dict(stride=1, padding=0, output_padding=0, groups=1, dilation=1),
    dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=1, dilation=1),
    dict(stride=2, padding=1, output_padding=0, groups=2, dilation=(2, 1)),
])
def test_conv_transpose2d_backward_finite_differences(kw):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 3, 4))
    w = rng.standard_normal((2, 4 // kw["groups"], 3, 2))
    b = rng.standard_normal(4 // kw["groups"] * kw["groups"])
    check_layer(F.conv_transpose2d, F.conv_transpose2d_backward, x, w, b, kw)


POOL_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1),
]


@pytest.mark.parametrize("kw", POOL_CASES)
def test_max_pool2d_backward_finite_differences(kw):
    rng = np.random.default_rng(2)
    x = tie_free(rng, (2, 2, 5, 6), np.float64)
    G = rng.standard_normal(F.max_pool2d(x, **kw).shape)
    gi = F.max_pool2d_backward(G, x, **kw)
    check(gi, numeric_grad(lambda: float(np.sum(G * F.max_pool2d(x, **kw))), x))


def test_max_pool2d_backward_dilated_finite_differences():
    rng = np.random.default_rng(3)
    x = tie_free(rng, (1, 2, 6, 7), np.float64)
    kw = dict(kernel_size=2, stride=1, padding=1, dilation=(2, 3))
    G = rng.standard_normal(F.max_pool2d(x, **kw).shape)
    check(F.max_pool2d_backward(G, x, **kw),
          numeric_grad(lambda: float(np.sum(G * F.max_pool2d(x, **kw))), x))


@pytest.mark.parametrize("kw", POOL_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_backward_finite_differences(kw, count_include_pad):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 2, 5, 6))
    kw = dict(kw, count_include_pad=count_include_pad)
    G = rng.standard_normal(F.avg_pool2d(x, **kw).shape)
    check(F.avg_pool2d_backward(G, x, **kw),
          numeric_grad(lambda: float(np.sum(G * F.avg_pool2d(x, **kw))), x))


@pytest.mark.parametrize("n, k", [(1, 2), (4, 3), (5, 6)])
def test_cross_entropy_backward_finite_differences(n, k):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((n, k)) * 3
    target = rng.integers(0, k, size=n)
    check(F.cross_entropy_backward(logits, target),
          numeric_grad(lambda: float(F.cross_entropy(logits, target)), logits))


def test_linear_sigmoid_relu_backward_finite_differences():
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    G = rng.standard_normal((3, 2))

    def loss():
        return float(np.sum(G * F.sigmoid(F.relu(F.linear(x, w, b)))))

    z = F.linear(x, w, b)
    gz = F.relu_backward(F.sigmoid_backward(G, F.relu(z)), z)
    gi, gw, gb = F.linear_backward(gz, x, w)
    check(gi, numeric_grad(loss, x))
    check(gw, numeric_grad(loss, w))
    check(gb, numeric_grad(loss, b))
