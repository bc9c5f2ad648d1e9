"""The loop implementations in cnnbook.reference equal torch and the vectorised fast path.

Shapes are kept small (spatial <= 6, channels <= 4, batch <= 2) because the loops run in Python."""
import numpy as np
import pytest
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from cnnbook import functional as F
from cnnbook import reference as R
from helpers import (assert_close, conv_configs, conv_transpose_configs, pool_configs, randn, tie_free,
                     to_torch)

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")

SMALL = dict(max_spatial=6, max_batch=2, max_kernel=3)


def _conv_arrays(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = randn(rng, (cfg["n"], cfg["c_in"], *cfg["size"]), cfg["dtype"])
    w = randn(rng, (cfg["c_out"], cfg["c_in"] // cfg["groups"], *cfg["kernel"]), cfg["dtype"])
    b = randn(rng, (cfg["c_out"],), cfg["dtype"])
    return rng, x, w, b


def _kw(cfg):
    return dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"])


@given(cfg=conv_configs(ndim=2, max_groups=2, **SMALL))
def test_reference_conv2d_equals_torch_and_fast_path(cfg):
    _, x, w, b = _conv_arrays(cfg)
    ref = R.conv2d(x, w, b, **_kw(cfg))
    assert_close(ref, TF.conv2d(to_torch(x), to_torch(w), to_torch(b), **_kw(cfg)), cfg["dtype"], "vs torch")
    assert_close(ref, F.conv2d(x, w, b, **_kw(cfg)), cfg["dtype"], "vs fast path")


@given(cfg=conv_configs(ndim=1, max_groups=2, **SMALL))
def test_reference_conv1d_equals_torch_and_fast_path(cfg):
    _, x, w, b = _conv_arrays(cfg)
    ref = R.conv1d(x, w, b, **_kw(cfg))
    assert_close(ref, TF.conv1d(to_torch(x), to_torch(w), to_torch(b), **_kw(cfg)), cfg["dtype"], "vs torch")
    assert_close(ref, F.conv1d(x, w, b, **_kw(cfg)), cfg["dtype"], "vs fast path")


@pytest.mark.parametrize("ndim", [1, 2])
@given(data=st.data())
def test_reference_conv_backward_equals_autograd_and_fast_path(ndim, data):
    cfg = data.draw(conv_configs(ndim=ndim, max_groups=2, **SMALL))
    reference_backward, fast_backward, torch_forward = {
        1: (R.conv1d_backward, F.conv1d_backward, TF.conv1d),
        2: (R.conv2d_backward, F.conv2d_backward, TF.conv2d)}[ndim]
    rng, x, w, b = _conv_arrays(cfg)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = torch_forward(xt, wt, bt, **_kw(cfg))
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    ref = reference_backward(g, x, w, **_kw(cfg))
    fast = fast_backward(g, x, w, **_kw(cfg))
    for r, f, want, name in zip(ref, fast, (xt.grad, wt.grad, bt.grad), ("gi", "gw", "gb")):
        assert_close(r, want, cfg["dtype"], name + " vs torch")
        assert_close(r, f, cfg["dtype"], name + " vs fast path")


@given(cfg=conv_transpose_configs(max_spatial=5, max_batch=2, max_kernel=3))
def test_reference_conv_transpose2d_and_backward_equal_torch_and_fast_path(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = randn(rng, (cfg["n"], cfg["c_in"], *cfg["size"]), cfg["dtype"])
    w = randn(rng, (cfg["c_in"], cfg["c_out"] // cfg["groups"], *cfg["kernel"]), cfg["dtype"])
    b = randn(rng, (cfg["c_out"],), cfg["dtype"])
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], output_padding=cfg["output_padding"],
              groups=cfg["groups"], dilation=cfg["dilation"])
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = TF.conv_transpose2d(xt, wt, bt, **kw)
    ref = R.conv_transpose2d(x, w, b, **kw)
    assert_close(ref, y, cfg["dtype"], "vs torch")
    assert_close(ref, F.conv_transpose2d(x, w, b, **kw), cfg["dtype"], "vs fast path")
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    ref = R.conv_transpose2d_backward(g, x, w, **kw)
    fast = F.conv_transpose2d_backward(g, x, w, **kw)
    for r, f, want, name in zip(ref, fast, (xt.grad, wt.grad, bt.grad), ("gi", "gw", "gb")):
        assert_close(r, want, cfg["dtype"], name + " vs torch")
        assert_close(r, f, cfg["dtype"], name + " vs fast path")


def _pkw(cfg):
    return dict(kernel_size=cfg["kernel"], stride=cfg["stride"], padding=cfg["padding"],
                dilation=cfg["dilation"], ceil_mode=cfg["ceil_mode"])


@given(cfg=pool_configs(max_spatial=7, max_batch=2))
def test_reference_max_pool2d_and_backward_equal_torch_and_fast_path(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = tie_free(rng, (cfg["n"], cfg["c"], *cfg["size"]), cfg["dtype"])
    y, idx = R.max_pool2d(x, **_pkw(cfg), return_indices=True)
    yt, it = TF.max_pool2d(to_torch(x), **_pkw(cfg), return_indices=True)
    assert_close(y, yt, cfg["dtype"], "vs torch")
    np.testing.assert_array_equal(idx, it.numpy())
    g = randn(rng, y.shape, cfg["dtype"])
    xt = to_torch(x, True)
    TF.max_pool2d(xt, **_pkw(cfg)).backward(to_torch(g))
    ref = R.max_pool2d_backward(g, x, **_pkw(cfg))
    assert_close(ref, xt.grad, cfg["dtype"], "grad vs torch")
    assert_close(ref, F.max_pool2d_backward(g, x, **_pkw(cfg)), cfg["dtype"], "grad vs fast path")


@given(cfg=pool_configs(max_spatial=7, max_batch=2, with_dilation=False), count_include_pad=st.booleans())
def test_reference_avg_pool2d_and_backward_equal_torch_and_fast_path(cfg, count_include_pad):
    rng = np.random.default_rng(cfg["seed"])
    x = randn(rng, (cfg["n"], cfg["c"], *cfg["size"]), cfg["dtype"])
    kw = dict(kernel_size=cfg["kernel"], stride=cfg["stride"], padding=cfg["padding"],
              ceil_mode=cfg["ceil_mode"], count_include_pad=count_include_pad)
    xt = to_torch(x, True)
    yt = TF.avg_pool2d(xt, **kw)
    ref = R.avg_pool2d(x, **kw)
    assert_close(ref, yt, cfg["dtype"], "vs torch")
    assert_close(ref, F.avg_pool2d(x, **kw), cfg["dtype"], "vs fast path")
    g = randn(rng, ref.shape, cfg["dtype"])
    yt.backward(to_torch(g))
    gref = R.avg_pool2d_backward(g, x, **kw)
    assert_close(gref, xt.grad, cfg["dtype"], "grad vs torch")
    assert_close(gref, F.avg_pool2d_backward(g, x, **kw), cfg["dtype"], "grad vs fast path")
