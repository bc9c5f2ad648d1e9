"""linear, relu, sigmoid, log_softmax, cross_entropy and their backward functions against torch."""
import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from cnnbook import functional as F
from helpers import assert_close, dtypes, randn, seeds, to_torch

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)


@given(lead=st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple), fin=st.integers(1, 6),
       fout=st.integers(1, 6), use_bias=st.booleans(), dtype=dtypes, seed=seeds)
def test_linear_forward_and_backward_match_torch(lead, fin, fout, use_bias, dtype, seed):
    """y = x W^T + b for input (*, in_features); backward with a random upstream gradient."""
    rng = np.random.default_rng(seed)
    x = randn(rng, (*lead, fin), dtype)
    w = randn(rng, (fout, fin), dtype)
    b = randn(rng, (fout,), dtype)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    yt = TF.linear(xt, wt, bt if use_bias else None)
    assert_close(F.linear(x, w, b if use_bias else None), yt, dtype, "linear")
    g = randn(rng, tuple(yt.shape), dtype)  # random upstream gradient
    yb = TF.linear(xt, wt, bt)  # backward always through the biased layer so that b has a gradient
    yb.backward(to_torch(g))
    gi, gw, gb = F.linear_backward(g, x, w)
    assert_close(gi, xt.grad, dtype, "grad_input")
    assert_close(gw, wt.grad, dtype, "grad_weight")
    assert_close(gb, bt.grad, dtype, "grad_bias")


@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_relu_forward_and_backward_match_torch(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = randn(rng, shape, dtype)  # continuous values: never exactly at the kink 0
    xt = to_torch(x, True)
    yt = TF.relu(xt)
    assert_close(F.relu(x), yt, dtype, "relu")
    g = randn(rng, shape, dtype)
    yt.backward(to_torch(g))
    assert_close(F.relu_backward(g, x), xt.grad, dtype, "relu grad")


def test_relu_backward_at_zero_is_zero_like_torch():
    x = np.array([-1.0, 0.0, 2.0])
    xt = to_torch(x, True)
    TF.relu(xt).backward(torch.ones(3, dtype=torch.float64))
    assert_close(F.relu_backward(np.ones(3), x), xt.grad, np.float64)


@given(shape=shapes, dtype=dtypes, seed=seeds, scale=st.sampled_from([1.0, 10.0, 60.0]))
def test_sigmoid_forward_and_backward_match_torch(shape, dtype, seed, scale):
    """Large |x| (scale 60) checks the numerically stable branch: no overflow warnings, no NaN."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    xt = to_torch(x, True)
    yt = torch.sigmoid(xt)
    with np.errstate(over="raise", invalid="raise"):
        assert_close(F.sigmoid(x), yt, dtype, "sigmoid")
        g = randn(rng, shape, dtype)
        yt.backward(to_torch(g))
        assert_close(F.sigmoid_backward(g, x), xt.grad, dtype, "sigmoid grad (takes the input)")


@given(shape=shapes, dtype=dtypes, seed=seeds, data=st.data())
def test_log_softmax_and_backward_match_torch(shape, dtype, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    xt = to_torch(x, True)
    yt = TF.log_softmax(xt, dim=dim)
    assert_close(F.log_softmax(x, dim=dim), yt, dtype, "log_softmax")
    g = randn(rng, shape, dtype)
    yt.backward(to_torch(g))
    assert_close(F.log_softmax_backward(g, x, dim=dim), xt.grad, dtype, "log_softmax grad")


def test_log_softmax_default_dim_is_last_and_stable():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])
    assert_close(F.log_softmax(x), TF.log_softmax(to_torch(x), dim=-1), np.float64)


@given(n=st.integers(1, 6), k=st.integers(1, 7), dtype=dtypes, seed=seeds,
       scale=st.sampled_from([1.0, 30.0]))
def test_cross_entropy_and_backward_match_torch(n, k, dtype, seed, scale):
    """Mean loss over the batch and its gradient w.r.t. the logits, as torch's autograd."""
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((n, k)) * scale).astype(dtype)
    target = rng.integers(0, k, size=n)
    lt = to_torch(logits, True)
    loss = TF.cross_entropy(lt, torch.from_numpy(target))
    loss.backward()
    got = F.cross_entropy(logits, target)
    assert np.ndim(got) == 0
    rtol, atol = (1e-9, 1e-10) if dtype == np.float64 else (1e-4, 1e-5)  # see helpers.tolerances
    np.testing.assert_allclose(float(got), loss.item(), rtol=rtol, atol=atol * max(1, abs(loss.item())))
    assert_close(F.cross_entropy_backward(logits, target), lt.grad, dtype, "cross_entropy grad")
