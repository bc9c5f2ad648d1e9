"""conv1d, conv2d, conv_transpose2d and their backward functions against torch.nn.functional / autograd.

Hypothesis draws non-square inputs and kernels, per-axis stride/padding/dilation, groups, batch sizes
1..3, 'valid'/'same' padding and float32/float64; every configuration is one torch accepts.
Backward passes use a random upstream gradient (not ones), so a transposed/misplaced index shows up.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from cnnbook import functional as F
from helpers import assert_close, conv_configs, conv_transpose_configs, randn, to_torch

# torch warns that it copies the input for "same" padding with even kernels; irrelevant to the values
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")


def _conv_arrays(cfg, ndim):
    rng = np.random.default_rng(cfg["seed"])
    dt = cfg["dtype"]
    x = randn(rng, (cfg["n"], cfg["c_in"], *cfg["size"]), dt)
    w = randn(rng, (cfg["c_out"], cfg["c_in"] // cfg["groups"], *cfg["kernel"]), dt)
    b = randn(rng, (cfg["c_out"],), dt)
    return rng, x, w, b


def _kw(cfg):
    return dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
                groups=cfg["groups"])


# ------------------------------------------------------------------------------------------------
# conv2d
# ------------------------------------------------------------------------------------------------
@given(cfg=conv_configs(ndim=2), use_bias=st.booleans())
def test_conv2d_forward_matches_torch(cfg, use_bias):
    _, x, w, b = _conv_arrays(cfg, 2)
    b = b if use_bias else None
    got = F.conv2d(x, w, b, **_kw(cfg))
    want = TF.conv2d(to_torch(x), to_torch(w), None if b is None else to_torch(b), **_kw(cfg))
    assert_close(got, want, cfg["dtype"], "conv2d")


@given(cfg=conv_configs(ndim=2))
def test_conv2d_backward_matches_autograd(cfg):
    rng, x, w, b = _conv_arrays(cfg, 2)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = TF.conv2d(xt, wt, bt, **_kw(cfg))
    g = randn(rng, tuple(y.shape), cfg["dtype"])  # random upstream gradient
    y.backward(to_torch(g))
    gi, gw, gb = F.conv2d_backward(g, x, w, **_kw(cfg))
    assert_close(gi, xt.grad, cfg["dtype"], "grad_input")
    assert_close(gw, wt.grad, cfg["dtype"], "grad_weight")
    assert_close(gb, bt.grad, cfg["dtype"], "grad_bias")


@given(cfg=conv_configs(ndim=2, max_batch=1))
def test_conv2d_unbatched_matches_torch(cfg):
    """torch accepts (C, H, W) inputs and returns (C_out, H_out, W_out)."""
    rng, x, w, b = _conv_arrays(cfg, 2)
    x = x[0]
    got = F.conv2d(x, w, b, **_kw(cfg))
    want = TF.conv2d(to_torch(x), to_torch(w), to_torch(b), **_kw(cfg))
    assert_close(got, want, cfg["dtype"], "conv2d unbatched")


@given(cfg=conv_configs(ndim=2, max_batch=1))
def test_conv2d_backward_unbatched_matches_autograd(cfg):
    rng, x, w, b = _conv_arrays(cfg, 2)
    x = x[0]
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = TF.conv2d(xt, wt, bt, **_kw(cfg))
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    gi, gw, gb = F.conv2d_backward(g, x, w, **_kw(cfg))
    assert_close(gi, xt.grad, cfg["dtype"], "grad_input")
    assert_close(gw, wt.grad, cfg["dtype"], "grad_weight")
    assert_close(gb, bt.grad, cfg["dtype"], "grad_bias")


def test_conv2d_defaults_and_integer_input():
    """Defaults are torch's (stride 1, no padding); integer arrays are accepted and give float64."""
    x = np.arange(2 * 3 * 5 * 6).reshape(2, 3, 5, 6)
    w = np.arange(4 * 3 * 2 * 3).reshape(4, 3, 2, 3) % 5 - 2
    got = F.conv2d(x, w)
    want = TF.conv2d(torch.tensor(x, dtype=torch.float64), torch.tensor(w, dtype=torch.float64))
    assert_close(got, want, np.float64, "conv2d int input")


def test_conv2d_mixed_dtypes_promote_to_float64():
    """float32 input with a float64 weight: the result is float64 (numpy promotion), values as torch."""
    rng = np.random.default_rng(1)
    x = randn(rng, (1, 2, 5, 5), np.float32)
    w = randn(rng, (3, 2, 3, 3), np.float64)
    got = F.conv2d(x, w)
    want = TF.conv2d(to_torch(x).double(), to_torch(w))
    assert_close(got, want, np.float64, "conv2d mixed dtypes")


# ------------------------------------------------------------------------------------------------
# conv1d
# ------------------------------------------------------------------------------------------------
@given(cfg=conv_configs(ndim=1), use_bias=st.booleans())
def test_conv1d_forward_matches_torch(cfg, use_bias):
    _, x, w, b = _conv_arrays(cfg, 1)
    b = b if use_bias else None
    got = F.conv1d(x, w, b, **_kw(cfg))
    want = TF.conv1d(to_torch(x), to_torch(w), None if b is None else to_torch(b), **_kw(cfg))
    assert_close(got, want, cfg["dtype"], "conv1d")


@given(cfg=conv_configs(ndim=1))
def test_conv1d_backward_matches_autograd(cfg):
    rng, x, w, b = _conv_arrays(cfg, 1)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = TF.conv1d(xt, wt, bt, **_kw(cfg))
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    gi, gw, gb = F.conv1d_backward(g, x, w, **_kw(cfg))
    assert_close(gi, xt.grad, cfg["dtype"], "grad_input")
    assert_close(gw, wt.grad, cfg["dtype"], "grad_weight")
    assert_close(gb, bt.grad, cfg["dtype"], "grad_bias")


# ------------------------------------------------------------------------------------------------
# conv_transpose2d
# ------------------------------------------------------------------------------------------------
def _convt_arrays(cfg):
    rng = np.random.default_rng(cfg["seed"])
    dt = cfg["dtype"]
    x = randn(rng, (cfg["n"], cfg["c_in"], *cfg["size"]), dt)
    w = randn(rng, (cfg["c_in"], cfg["c_out"] // cfg["groups"], *cfg["kernel"]), dt)
    b = randn(rng, (cfg["c_out"],), dt)
    return rng, x, w, b


def _tkw(cfg):
    return dict(stride=cfg["stride"], padding=cfg["padding"], output_padding=cfg["output_padding"],
                groups=cfg["groups"], dilation=cfg["dilation"])


@given(cfg=conv_transpose_configs(), use_bias=st.booleans())
def test_conv_transpose2d_forward_matches_torch(cfg, use_bias):
    _, x, w, b = _convt_arrays(cfg)
    b = b if use_bias else None
    got = F.conv_transpose2d(x, w, b, **_tkw(cfg))
    want = TF.conv_transpose2d(to_torch(x), to_torch(w), None if b is None else to_torch(b), **_tkw(cfg))
    assert_close(got, want, cfg["dtype"], "conv_transpose2d")


@given(cfg=conv_transpose_configs())
def test_conv_transpose2d_backward_matches_autograd(cfg):
    rng, x, w, b = _convt_arrays(cfg)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = TF.conv_transpose2d(xt, wt, bt, **_tkw(cfg))
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    gi, gw, gb = F.conv_transpose2d_backward(g, x, w, **_tkw(cfg))
    assert_close(gi, xt.grad, cfg["dtype"], "grad_input")
    assert_close(gw, wt.grad, cfg["dtype"], "grad_weight")
    assert_close(gb, bt.grad, cfg["dtype"], "grad_bias")


@given(cfg=conv_transpose_configs(max_batch=1))
def test_conv_transpose2d_unbatched_matches_torch(cfg):
    _, x, w, b = _convt_arrays(cfg)
    got = F.conv_transpose2d(x[0], w, b, **_tkw(cfg))
    want = TF.conv_transpose2d(to_torch(x[0]), to_torch(w), to_torch(b), **_tkw(cfg))
    assert_close(got, want, cfg["dtype"], "conv_transpose2d unbatched")


@given(cfg=conv_configs(ndim=2, allow_string_padding=False))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(cfg):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)>: the transposed convolution is the transpose
    (adjoint) of the convolution with the same weight, stride, padding, dilation and groups (with the
    output_padding that restores the input size)."""
    rng, x, w, _ = _conv_arrays(cfg, 2)
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    y_shape = F.conv2d(x, w, **_kw(cfg)).shape
    y = rng.standard_normal(y_shape)
    s = np.broadcast_to(cfg["stride"], 2)
    p = np.broadcast_to(cfg["padding"], 2)
    d = np.broadcast_to(cfg["dilation"], 2)
    op = tuple(int(cfg["size"][i] - ((y_shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (w.shape[2 + i] - 1) + 1))
               for i in range(2))
    # torch only accepts output_padding < stride or < dilation; skip the others by construction
    if any(op[i] >= max(s[i], d[i]) for i in range(2)):
        return
    xt = F.conv_transpose2d(y, w, stride=cfg["stride"], padding=cfg["padding"], output_padding=op,
                            groups=cfg["groups"], dilation=cfg["dilation"])
    assert xt.shape == x.shape
    lhs = float(np.sum(F.conv2d(x, w, **_kw(cfg)) * y))
    rhs = float(np.sum(x * xt))
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs))
