"""max_pool2d, avg_pool2d and their backward functions against torch.nn.functional / autograd.

Inputs for max pooling are tie-free (a shuffled ramp), so the arg-max -- and hence the indices and the
gradient routing -- is unique and must equal torch's. Configurations cover non-square kernels,
per-axis stride/padding/dilation, stride=None (= kernel_size), ceil_mode, count_include_pad, batch
sizes 1..3, unbatched (C, H, W) inputs and float32/float64.
"""
import numpy as np
import pytest
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from cnnbook import functional as F
from helpers import (BOTH_TREES, assert_close, avg_pool_kwargs, max_pool_kwargs, pool_configs, randn, tie_free,
                     to_torch)



def _input(cfg, tie_free_values=True, unbatched=False):
    rng = np.random.default_rng(cfg["seed"])
    shape = (cfg["n"], cfg["c"], *cfg["size"])
    x = tie_free(rng, shape, cfg["dtype"]) if tie_free_values else randn(rng, shape, cfg["dtype"])
    return rng, (x[0] if unbatched else x)


# ------------------------------------------------------------------------------------------------
# max pooling
# ------------------------------------------------------------------------------------------------
@given(cfg=pool_configs(), unbatched=st.booleans())
def test_max_pool2d_forward_and_indices_match_torch(cfg, unbatched):
    _, x = _input(cfg, unbatched=unbatched)
    y, idx = F.max_pool2d(x, **max_pool_kwargs(cfg), return_indices=True)
    yt, it = TF.max_pool2d(to_torch(x), **max_pool_kwargs(cfg), return_indices=True)
    assert_close(y, yt, cfg["dtype"], "max_pool2d")
    assert idx.shape == tuple(it.shape)
    assert idx.dtype == np.int64  # torch's indices are int64
    np.testing.assert_array_equal(idx, it.numpy())
    # return_indices=False returns the values alone
    assert_close(F.max_pool2d(x, **max_pool_kwargs(cfg)), yt, cfg["dtype"], "max_pool2d no indices")


@given(cfg=pool_configs(), unbatched=st.booleans())
def test_max_pool2d_backward_matches_autograd(cfg, unbatched):
    """(pool_configs leaves out windows lying entirely in the padding: see helpers.window_hits_input.)"""
    rng, x = _input(cfg, unbatched=unbatched)
    xt = to_torch(x, True)
    y = TF.max_pool2d(xt, **max_pool_kwargs(cfg))
    g = randn(rng, tuple(y.shape), cfg["dtype"])  # random upstream gradient
    y.backward(to_torch(g))
    gi = F.max_pool2d_backward(g, x, **max_pool_kwargs(cfg))
    assert_close(gi, xt.grad, cfg["dtype"], "max_pool2d grad_input")


@BOTH_TREES
@pytest.mark.parametrize("x, kw", [
    (np.array([[[[3.0]]]]), dict(kernel_size=(1, 2), padding=(0, 1), dilation=(1, 2))),
    (np.arange(5.0).reshape(1, 1, 5, 1), dict(kernel_size=(1, 2), stride=(2, 1), padding=(0, 1),
                                              dilation=(1, 2), ceil_mode=True)),
    # the dilated window (5) is longer than the padded input (3), yet ceil_mode keeps one window
    (np.ones((1, 1, 1, 1)), dict(kernel_size=3, stride=3, padding=1, dilation=2, ceil_mode=True)),
], ids=["one-pixel", "column", "window-longer-than-input"])
def test_max_pool2d_window_entirely_in_padding_matches_torch_forward(module, x, kw):
    """torch accepts padding <= kernel_size // 2 with dilation, so a window can see only padding:
    size 1, kernel 2, padding 1, dilation 2 has taps at -1 and 1. torch returns -inf and index 1;
    cnnbook returns the same, and its backward sends that output's gradient nowhere (torch's backward
    would write outside the input there, so it is not called)."""
    y, idx = module.max_pool2d(x, **kw, return_indices=True)
    yt, it = TF.max_pool2d(to_torch(x), **kw, return_indices=True)
    np.testing.assert_array_equal(y, yt.numpy())
    np.testing.assert_array_equal(idx, it.numpy())
    assert np.isneginf(y).any()
    np.testing.assert_array_equal(module.max_pool2d_backward(np.ones(y.shape), x, **kw), np.zeros_like(x))


def test_max_pool2d_backward_overlapping_windows_accumulate():
    """stride < kernel: one input can be the max of several windows; its gradient is the sum."""
    x = np.array([[[[0., 1., 0.], [1., 9., 1.], [0., 1., 0.]]]])
    g = np.array([[[[1., 2.], [3., 4.]]]])
    gi = F.max_pool2d_backward(g, x, 2, stride=1)
    xt = to_torch(x, True)
    TF.max_pool2d(xt, 2, stride=1).backward(to_torch(g))
    assert_close(gi, xt.grad, np.float64)
    assert gi[0, 0, 1, 1] == 10.0


@BOTH_TREES
def test_max_pool2d_ties_take_first_max_like_torch(module):
    """With ties torch routes the gradient to the first maximum in scan order; so must we."""
    x = np.ones((1, 1, 4, 4))
    g = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    xt = to_torch(x, True)
    y, it = TF.max_pool2d(xt, 2, return_indices=True)
    y.backward(to_torch(g))
    _, idx = module.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(idx, it.numpy())
    assert_close(module.max_pool2d_backward(g, x, 2), xt.grad, np.float64)
    np.testing.assert_array_equal(xt.grad.numpy()[0, 0, :2, :2], [[1, 0], [0, 0]])  # the top-left one


@BOTH_TREES
@given(cfg=pool_configs(max_spatial=8), specials=st.sampled_from(["ties", "nan", "-inf", "all"]))
def test_max_pool2d_ties_nan_and_minus_inf_match_torch(module, cfg, specials):
    """Values drawn from {-1, 0, 1} (many ties), with NaN and/or -inf sprinkled in: the values, the
    indices (first maximum in scan order; the last NaN of a window) and the gradient routing equal
    torch's. (pool_configs leaves out windows lying entirely in the padding.)"""
    rng = np.random.default_rng(cfg["seed"])
    shape = (cfg["n"], cfg["c"], *cfg["size"])
    x = rng.integers(-1, 2, shape).astype(cfg["dtype"])
    if specials in ("nan", "all"):
        x[rng.random(shape) < 0.2] = np.nan
    if specials in ("-inf", "all"):
        x[rng.random(shape) < 0.3] = -np.inf
    kw = max_pool_kwargs(cfg)
    xt = to_torch(x, True)
    yt, it = TF.max_pool2d(xt, **kw, return_indices=True)
    y, idx = module.max_pool2d(x, **kw, return_indices=True)
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(idx, it.numpy())
    np.testing.assert_array_equal(module.max_pool2d(x, **kw), yt.detach().numpy())
    g = randn(rng, tuple(yt.shape), cfg["dtype"])
    yt.backward(to_torch(g))
    assert_close(module.max_pool2d_backward(g, x, **kw), xt.grad, cfg["dtype"], "grad_input")


@BOTH_TREES
@given(cfg=pool_configs(max_spatial=8))
def test_max_pool2d_backward_nonfinite_gradient_reaches_only_the_argmax(module, cfg):
    """An infinite or NaN upstream gradient goes to its window's arg-max alone, as in torch: every other
    cell of the window gets 0 (a routing by multiplication, ``G * 0``, would spread NaN over the window)."""
    rng, x = _input(cfg)
    kw = max_pool_kwargs(cfg)
    xt = to_torch(x, True)
    yt = TF.max_pool2d(xt, **kw)
    g = randn(rng, tuple(yt.shape), cfg["dtype"])
    g[rng.random(g.shape) < 0.3] = np.inf
    g[rng.random(g.shape) < 0.3] = np.nan
    yt.backward(to_torch(g))
    got, want = module.max_pool2d_backward(g, x, **kw), xt.grad.numpy()
    finite = np.isfinite(want)
    np.testing.assert_array_equal(np.isfinite(got), finite)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    assert_close(np.where(finite, got, 0), np.where(finite, want, 0), cfg["dtype"], "finite cells")


# ------------------------------------------------------------------------------------------------
# average pooling
# ------------------------------------------------------------------------------------------------
@given(cfg=pool_configs(with_dilation=False), count_include_pad=st.booleans(), unbatched=st.booleans())
def test_avg_pool2d_forward_matches_torch(cfg, count_include_pad, unbatched):
    _, x = _input(cfg, tie_free_values=False, unbatched=unbatched)
    got = F.avg_pool2d(x, **avg_pool_kwargs(cfg, count_include_pad))
    want = TF.avg_pool2d(to_torch(x), **avg_pool_kwargs(cfg, count_include_pad))
    assert_close(got, want, cfg["dtype"], "avg_pool2d")


@given(cfg=pool_configs(with_dilation=False), count_include_pad=st.booleans(), unbatched=st.booleans())
def test_avg_pool2d_backward_matches_autograd(cfg, count_include_pad, unbatched):
    rng, x = _input(cfg, tie_free_values=False, unbatched=unbatched)
    xt = to_torch(x, True)
    y = TF.avg_pool2d(xt, **avg_pool_kwargs(cfg, count_include_pad))
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    gi = F.avg_pool2d_backward(g, x, **avg_pool_kwargs(cfg, count_include_pad))
    assert_close(gi, xt.grad, cfg["dtype"], "avg_pool2d grad_input")


@BOTH_TREES
@given(cfg=pool_configs(with_dilation=False, max_spatial=8), count_include_pad=st.booleans(),
       divisor=st.integers(-3, 10).filter(lambda d: d != 0))
def test_avg_pool2d_divisor_override_matches_torch_forward_and_autograd(module, cfg, count_include_pad, divisor):
    """divisor_override replaces every window's divisor (also the clipped ceil_mode ones); torch accepts
    any nonzero int, a negative one too."""
    rng, x = _input(cfg, tie_free_values=False)
    kw = dict(avg_pool_kwargs(cfg, count_include_pad), divisor_override=divisor)
    xt = to_torch(x, True)
    y = TF.avg_pool2d(xt, **kw)
    assert_close(module.avg_pool2d(x, **kw), y, cfg["dtype"], "avg_pool2d divisor_override")
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    assert_close(module.avg_pool2d_backward(g, x, **kw), xt.grad, cfg["dtype"], "grad divisor_override")


def test_avg_pool2d_divisor_override_worked_example():
    """A 4x4 ramp, 2x2 windows, divisor 3: the top-left window sums 0 + 1 + 4 + 5 = 10, so 10/3."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_allclose(F.avg_pool2d(x, 2, divisor_override=3)[0, 0], [[10 / 3, 18 / 3], [42 / 3, 50 / 3]])
    np.testing.assert_allclose(F.avg_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2, divisor_override=3),
                               np.full((1, 1, 4, 4), 1 / 3))


def test_avg_pool2d_ceil_mode_divisor_edge_case():
    """ceil_mode with padding: the last window hangs over the padded border; torch divides by the
    window clipped to the padded input (count_include_pad=True) or by the real cells (False)."""
    x = np.arange(1.0, 26.0).reshape(1, 1, 5, 5)
    for cip in (True, False):
        kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=cip)
        assert_close(F.avg_pool2d(x, **kw), TF.avg_pool2d(to_torch(x), **kw), np.float64, f"cip={cip}")
    kw = dict(kernel_size=2, stride=2, padding=0, ceil_mode=True)
    x6 = np.arange(1.0, 31.0).reshape(1, 1, 5, 6)
    assert_close(F.avg_pool2d(x6, **kw), TF.avg_pool2d(to_torch(x6), **kw), np.float64, "ceil no pad")


@pytest.mark.parametrize("split", ["threads", "chunks", "threads and chunks"])
@given(cfg=pool_configs(), acfg=pool_configs(with_dilation=False), count_include_pad=st.booleans())
def test_pooling_split_between_threads_matches_torch(split, cfg, acfg, count_include_pad):
    """Large inputs split their samples between threads (two here, as if every input were large), and a
    thread's part larger than the cache is pooled in chunks of samples (one sample each here)."""
    from contextlib import ExitStack
    from unittest import mock

    from threadpoolctl import threadpool_limits

    from cnnbook.functional import pooling as pooling_module

    rng, x = _input(cfg)
    _, xa = _input(acfg, tie_free_values=False)
    kw, akw = max_pool_kwargs(cfg), avg_pool_kwargs(acfg, count_include_pad)
    xt, xat = to_torch(x, True), to_torch(xa, True)
    yt, it = TF.max_pool2d(xt, **kw, return_indices=True)
    g = randn(rng, tuple(yt.shape), cfg["dtype"])
    yt.backward(to_torch(g))
    yat = TF.avg_pool2d(xat, **akw)
    ga = randn(rng, tuple(yat.shape), acfg["dtype"])
    yat.backward(to_torch(ga))
    with ExitStack() as patches:
        patches.enter_context(threadpool_limits(limits=2, user_api="blas"))
        if "threads" in split:
            patches.enter_context(mock.patch.object(pooling_module, "_PARALLEL_WORK", 0))
        if "chunks" in split:
            patches.enter_context(mock.patch.object(pooling_module, "_CHUNK_BYTES", 1))
        y, idx = F.max_pool2d(x, **kw, return_indices=True)
        values = F.max_pool2d(x, **kw)
        gi = F.max_pool2d_backward(g, x, **kw)
        saved_values, arg = pooling_module._max_pool2d_saving(x, **kw)
        saved_gi = pooling_module._max_pool2d_backward_saved(g, x, arg, **kw)
        ya = F.avg_pool2d(xa, **akw)
        gai = F.avg_pool2d_backward(ga, xa, **akw)
    assert_close(y, yt, cfg["dtype"], "max_pool2d")
    assert_close(values, yt, cfg["dtype"], "max_pool2d values")
    np.testing.assert_array_equal(idx, it.numpy())
    assert_close(gi, xt.grad, cfg["dtype"], "max_pool2d grad_input")
    assert_close(saved_values, yt, cfg["dtype"], "max_pool2d values, arg-max saved")
    assert_close(saved_gi, xt.grad, cfg["dtype"], "max_pool2d grad_input from the saved arg-max")
    assert_close(ya, yat, acfg["dtype"], "avg_pool2d")
    assert_close(gai, xat.grad, acfg["dtype"], "avg_pool2d grad_input")


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_of_an_empty_batch_matches_torch(kind):
    """A batch of no samples pools to no samples (forward and backward), as in torch."""
    import torch

    x = np.zeros((0, 3, 6, 6), np.float32)
    kw = dict(kernel_size=3, stride=2, padding=1)
    fwd, bwd, tfwd = ((F.max_pool2d, F.max_pool2d_backward, TF.max_pool2d) if kind == "max"
                      else (F.avg_pool2d, F.avg_pool2d_backward, TF.avg_pool2d))
    xt = torch.zeros(x.shape, requires_grad=True)
    yt = tfwd(xt, **kw)
    yt.backward(torch.zeros(yt.shape))
    y = fwd(x, **kw)
    assert y.shape == tuple(yt.shape)
    assert bwd(np.zeros(y.shape, np.float32), x, **kw).shape == tuple(xt.grad.shape)
