"""relu, sigmoid, log_softmax and their backward functions against torch: the fast path
(cnnbook.functional.activation) and the loops (cnnbook.reference.activation)."""
import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from helpers import BOTH_TREES, assert_close, dtypes, randn, seeds, to_torch

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)


@BOTH_TREES
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_relu_forward_and_backward_match_torch(module, shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = randn(rng, shape, dtype)  # continuous values: never exactly at the kink 0
    xt = to_torch(x, True)
    yt = TF.relu(xt)
    assert_close(module.relu(x), yt, dtype, "relu")
    g = randn(rng, shape, dtype)
    yt.backward(to_torch(g))
    assert_close(module.relu_backward(g, x), xt.grad, dtype, "relu grad")


@BOTH_TREES
def test_relu_backward_at_zero_is_zero_like_torch(module):
    x = np.array([-1.0, 0.0, 2.0])
    xt = to_torch(x, True)
    TF.relu(xt).backward(torch.ones(3, dtype=torch.float64))
    assert_close(module.relu_backward(np.ones(3), x), xt.grad, np.float64)


@BOTH_TREES
def test_relu_backward_with_nan_and_infinity_is_torchs(module):
    """torch's rule is ``0 if X <= 0 else G``: a NaN input passes its gradient on, and a NaN or infinite
    gradient where the input is negative gives 0 (not NaN, as G times a 0/1 mask would)."""
    for dtype in (np.float32, np.float64):
        x = np.array([np.nan, -1.0, 2.0, 0.0, -0.0, np.inf, -np.inf, 3.0], dtype)
        g = np.array([1.0, np.nan, np.inf, 5.0, -np.inf, 7.0, np.nan, -2.0], dtype)
        xt = torch.tensor(x, requires_grad=True)
        TF.relu(xt).backward(torch.tensor(g))
        got = module.relu_backward(g, x)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, xt.grad.numpy())
        np.testing.assert_array_equal(np.signbit(got), np.signbit(xt.grad.numpy()))


@BOTH_TREES
@given(shape=shapes, dtype=dtypes, seed=seeds, scale=st.sampled_from([1.0, 10.0, 60.0]))
def test_sigmoid_forward_and_backward_match_torch(module, shape, dtype, seed, scale):
    """Large |x| (scale 60) checks the numerically stable branch: no overflow warnings, no NaN."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    xt = to_torch(x, True)
    yt = torch.sigmoid(xt)
    with np.errstate(over="raise", invalid="raise"):
        assert_close(module.sigmoid(x), yt, dtype, "sigmoid")
        g = randn(rng, shape, dtype)
        yt.backward(to_torch(g))
        assert_close(module.sigmoid_backward(g, x), xt.grad, dtype, "sigmoid grad (takes the input)")


@BOTH_TREES
@given(shape=shapes, dtype=dtypes, seed=seeds, data=st.data())
def test_log_softmax_and_backward_match_torch(module, shape, dtype, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    xt = to_torch(x, True)
    yt = TF.log_softmax(xt, dim=dim)
    assert_close(module.log_softmax(x, dim=dim), yt, dtype, "log_softmax")
    g = randn(rng, shape, dtype)
    yt.backward(to_torch(g))
    assert_close(module.log_softmax_backward(g, x, dim=dim), xt.grad, dtype, "log_softmax grad")


@BOTH_TREES
def test_log_softmax_default_dim_is_last_and_stable(module):
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])
    assert_close(module.log_softmax(x), TF.log_softmax(to_torch(x), dim=-1), np.float64)


@BOTH_TREES
def test_huge_inputs_give_exact_limits(module):
    """No overflow at +-1000: sigmoid gives exactly 1, 1/2, 0 and log_softmax x - max(x) (the other
    exponentials vanish next to e^0 = 1); the loss of such logits is finite."""
    x = np.array([[1000.0, 0.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise"):
        np.testing.assert_array_equal(module.sigmoid(x), [[1.0, 0.5, 0.0]])
        np.testing.assert_array_equal(module.log_softmax(x), [[0.0, -1000.0, -2000.0]])
        assert np.isfinite(module.cross_entropy(x, np.array([2])))
