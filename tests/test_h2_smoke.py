"""Smoke tests for pooling.py, activations.py and reference/pooling.py (helper H2's own checks).

Every check compares with torch, with central finite differences, or with hand-computed numbers.
The full property-based suite lives in the test_functional* files.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnbook import activations as A
from cnnbook import pooling as P
from cnnbook.reference import pooling as R

# (kernel_size, stride, padding, dilation, ceil_mode): includes ceil-mode windows that overhang the
# padded border (torch's clipped divisor), stride > kernel, per-axis values and dilation.
CONFIGS = [
    (2, None, 0, 1, False),
    (3, 2, 1, 1, True),
    (3, 2, 0, 1, True),
    ((2, 3), (1, 2), (1, 0), 1, False),
    (2, 3, 1, 1, True),
    ((3, 2), 2, (1, 1), (2, 1), True),
    (3, 1, 1, 2, False),
]


def _x(shape, dtype, rng):
    """Tie-free input (a random permutation), so the arg-max is unique."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) / 10.0).astype(dtype)


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 7, 6), (3, 5, 8)])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_max_pool_matches_torch(cfg, shape, dtype, rng):
    k, s, p, d, ceil = cfg
    x = _x(shape, dtype, rng)
    xt = torch.tensor(x, requires_grad=True)
    yt, it = F.max_pool2d(xt, k, s, p, d, ceil, return_indices=True)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(g))
    for mod in (P, R):
        y, i = mod.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
        gi = mod.max_pool2d_backward(g, x, k, s, p, d, ceil)
        assert y.dtype == gi.dtype == dtype and i.dtype == np.int64
        np.testing.assert_allclose(y, yt.detach().numpy(), **_tol(dtype))
        np.testing.assert_array_equal(i, it.numpy())
        np.testing.assert_allclose(gi, xt.grad.numpy(), **_tol(dtype))


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cfg", [c for c in CONFIGS if c[3] == 1])
def test_avg_pool_matches_torch(cfg, dtype, count_include_pad, rng):
    k, s, p, _, ceil = cfg
    x = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = F.avg_pool2d(xt, k, s, p, ceil, count_include_pad)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(g))
    for mod in (P, R):
        y = mod.avg_pool2d(x, k, s, p, ceil, count_include_pad)
        gi = mod.avg_pool2d_backward(g, x, k, s, p, ceil, count_include_pad)
        assert y.dtype == gi.dtype == dtype
        np.testing.assert_allclose(y, yt.detach().numpy(), **_tol(dtype))
        np.testing.assert_allclose(gi, xt.grad.numpy(), **_tol(dtype))


def test_worked_example_pooling():
    x = np.arange(9).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(P.max_pool2d(x, 2, 1), [[[[4, 5], [7, 8]]]])
    np.testing.assert_array_equal(P.avg_pool2d(x, 2, 1), [[[[2, 3], [5, 6]]]])
    np.testing.assert_array_equal(R.max_pool2d(x, 2, 1), [[[[4, 5], [7, 8]]]])
    np.testing.assert_array_equal(R.avg_pool2d(x, 2, 1), [[[[2, 3], [5, 6]]]])
    # max: 4 wins one window, 5 two... each window's gradient 1 goes to its maximum
    np.testing.assert_array_equal(P.max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2, 1),
                                  [[[[0, 0, 0], [0, 1, 1], [0, 1, 1]]]])
    # avg: every cell receives 1/4 from each window it belongs to
    np.testing.assert_array_equal(P.avg_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2, 1) * 4,
                                  [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]])


def test_ties_go_to_first_maximum_like_torch():
    x = np.array([[[[1.0, 1.0], [1.0, 0.0]]]])
    g = np.array([[[[3.0]]]])
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt, 2).backward(torch.tensor(g))
    for mod in (P, R):
        np.testing.assert_array_equal(mod.max_pool2d_backward(g, x, 2), [[[[3, 0], [0, 0]]]])
    np.testing.assert_array_equal(xt.grad.numpy(), [[[[3, 0], [0, 0]]]])


def test_window_of_padding_only_matches_torch_forward():
    # W=1, k=2, d=2, p=1: the window's taps are columns -1 and 1, both outside the input.
    x = np.arange(5.0).reshape(1, 1, 5, 1)
    yt, it = F.max_pool2d(torch.tensor(x), (1, 2), (2, 1), (0, 1), (1, 2), True, return_indices=True)
    for mod in (P, R):
        y, i = mod.max_pool2d(x, (1, 2), (2, 1), (0, 1), (1, 2), True, return_indices=True)
        np.testing.assert_array_equal(y, yt.numpy())
        np.testing.assert_array_equal(i, it.numpy())
        gi = mod.max_pool2d_backward(np.ones(y.shape), x, (1, 2), (2, 1), (0, 1), (1, 2), True)
        np.testing.assert_array_equal(gi, np.zeros_like(x))


def test_ceil_mode_window_longer_than_padded_input_is_accepted_like_torch():
    # size 1, k=3, s=3, p=1, d=2, ceil_mode: the dilated window (5) exceeds the padded input (3),
    # yet torch's output size is 1 (one window of padding only), so it is not an error.
    x = np.ones((1, 1, 1, 1))
    yt, it = F.max_pool2d(torch.tensor(x), 3, 3, 1, 2, True, return_indices=True)
    for mod in (P, R):
        y, i = mod.max_pool2d(x, 3, 3, 1, 2, True, return_indices=True)
        np.testing.assert_array_equal(y, yt.numpy())
        np.testing.assert_array_equal(i, it.numpy())


def _fd_grad(f, x, g, eps=1e-6):
    """Central finite differences of sum(f(x) * g)."""
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = eps
        out[idx] = (np.sum(f(x + e) * g) - np.sum(f(x - e) * g)) / (2 * eps)
    return out


def test_pool_backward_finite_differences(rng):
    x = _x((1, 2, 5, 4), np.float64, rng)
    args = (3, 2, 1, 1, True)
    g = rng.standard_normal(P.max_pool2d(x, *args).shape)
    np.testing.assert_allclose(P.max_pool2d_backward(g, x, *args),
                               _fd_grad(lambda z: P.max_pool2d(z, *args), x, g), atol=1e-7)
    a_args = (3, 2, 1, True, False)
    g = rng.standard_normal(P.avg_pool2d(x, *a_args).shape)
    np.testing.assert_allclose(P.avg_pool2d_backward(g, x, *a_args),
                               _fd_grad(lambda z: P.avg_pool2d(z, *a_args), x, g), atol=1e-7)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(kernel_size=0), ValueError, "kernel_size"),
        (dict(kernel_size=2, stride=0), ValueError, "stride"),
        (dict(kernel_size=2, dilation=0), ValueError, "dilation"),
        (dict(kernel_size=3, padding=-1), ValueError, "padding"),
        (dict(kernel_size=3, padding=2), ValueError, "half of kernel_size"),
        (dict(kernel_size=6), ValueError, "larger than the padded input"),
        (dict(kernel_size=2.5), TypeError, "kernel_size"),
        (dict(kernel_size=2, ceil_mode=1), TypeError, "ceil_mode"),
    ],
)
def test_pool_bad_arguments(kwargs, exc, words):
    x = np.zeros((1, 1, 5, 5))
    with pytest.raises(exc, match=words):
        P.max_pool2d(x, **kwargs)
    with pytest.raises(exc, match=words):
        R.max_pool2d(x, **kwargs)
    if "dilation" not in kwargs:
        with pytest.raises(exc, match=words):
            P.avg_pool2d(x, **kwargs)


def test_pool_bad_inputs():
    with pytest.raises(ValueError, match="input must be 3-D or 4-D"):
        P.max_pool2d(np.zeros((5, 5)), 2)
    with pytest.raises(TypeError, match="input must be a real numeric array"):
        P.avg_pool2d(np.full((1, 1, 4, 4), "a"), 2)
    with pytest.raises(ValueError, match="grad_output must have the pooling output shape"):
        P.max_pool2d_backward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)), 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_match_torch(dtype, rng):
    x = (rng.standard_normal((4, 6)) * 20).astype(dtype)
    x[0, :2] = 0.0  # relu's gradient at 0 is 0, as in torch
    w = rng.standard_normal((3, 6)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = F.linear(xt, wt, bt)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(A.linear(x, w, b), yt.detach().numpy(), **_tol(dtype))
    for ours, theirs in zip(A.linear_backward(g, x, w), (xt.grad, wt.grad, bt.grad)):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-4 if dtype == np.float32 else 1e-12)
    for f, fb, tf in [(A.relu, A.relu_backward, F.relu), (A.sigmoid, A.sigmoid_backward, torch.sigmoid)]:
        xt = torch.tensor(x, requires_grad=True)
        yt = tf(xt)
        g = rng.standard_normal(x.shape).astype(dtype)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(f(x), yt.detach().numpy(), **_tol(dtype))
        np.testing.assert_allclose(fb(g, x), xt.grad.numpy(), **_tol(dtype))
    for dim in (0, 1, -1):
        np.testing.assert_allclose(A.log_softmax(x, dim), F.log_softmax(torch.tensor(x), dim).numpy(),
                                   **_tol(dtype))
    t = rng.integers(0, 6, 4)
    xt = torch.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, torch.tensor(t))
    loss.backward()
    ours = A.cross_entropy(x, t)
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, loss.item(), rtol=1e-6 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(A.cross_entropy_backward(x, t), xt.grad.numpy(), **_tol(dtype))


def test_stable_for_large_logits():
    x = np.array([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(A.log_softmax(x), [[0.0, -1000.0, -2000.0]])
    np.testing.assert_allclose(A.sigmoid(x), [[1.0, 0.5, 0.0]])
    assert np.isfinite(A.cross_entropy(x, np.array([2])))


def test_cross_entropy_worked_example():
    # two equal logits: softmax (1/2, 1/2), loss log 2; gradient (1/2 - 1, 1/2) / N with N = 1
    np.testing.assert_allclose(A.cross_entropy(np.zeros((1, 2)), np.array([0])), np.log(2))
    np.testing.assert_allclose(A.cross_entropy_backward(np.zeros((1, 2)), np.array([0])), [[-0.5, 0.5]])


def test_activation_bad_inputs():
    logits = np.zeros((2, 3))
    with pytest.raises(TypeError, match="target must be an integer array"):
        A.cross_entropy(logits, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target class indices must be in \[0, 2\]"):
        A.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ValueError, match="batch size"):
        A.cross_entropy_backward(logits, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="in_features"):
        A.linear(logits, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="bias must have length"):
        A.linear(logits, np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="dim must be in"):
        A.log_softmax(logits, 2)
