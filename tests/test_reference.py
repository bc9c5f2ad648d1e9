"""The loop implementations in cnnbook.reference equal torch and the vectorised fast path.

Shapes are kept small (spatial <= 6, channels <= 4, batch <= 2) because the loops run in Python."""
import importlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from cnnbook import functional as F
from cnnbook import reference as R
from helpers import (assert_close, avg_pool_kwargs, conv_arrays, conv_configs, conv_kwargs,
                     conv_transpose_arrays, conv_transpose_configs, conv_transpose_kwargs, dtypes,
                     max_pool_kwargs, pool_configs, randn, seeds, tie_free, to_torch)

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")

SMALL = dict(max_spatial=6, max_batch=2, max_kernel=3)
NDIM = pytest.mark.parametrize("ndim", [1, 2], ids=["conv1d", "conv2d"])
TORCH_CONV = {1: TF.conv1d, 2: TF.conv2d}


def test_reference_mirrors_functional_file_for_file():
    """The same modules with the same public functions, so a chapter can point at two files."""
    def modules(package):
        return sorted(p.name for p in Path(package.__file__).parent.glob("*.py"))

    assert modules(R) == modules(F) == ["__init__.py", "activation.py", "conv.py", "linear.py", "loss.py",
                                        "pooling.py"]
    assert sorted(R.__all__) == sorted(F.__all__)
    for name in ("conv", "pooling", "linear", "activation", "loss"):
        ref, fast = (importlib.import_module(f"cnnbook.{tree}.{name}") for tree in ("reference", "functional"))
        assert ref.__all__ == fast.__all__, name


# ------------------------------------------------------------------------------------------------
# convolutions
# ------------------------------------------------------------------------------------------------
@NDIM
@given(data=st.data())
def test_reference_conv_equals_torch_and_fast_path(ndim, data):
    cfg = data.draw(conv_configs(ndim=ndim, max_groups=2, **SMALL))
    reference, fast = getattr(R, f"conv{ndim}d"), getattr(F, f"conv{ndim}d")
    _, x, w, b = conv_arrays(cfg)
    ref = reference(x, w, b, **conv_kwargs(cfg))
    want = TORCH_CONV[ndim](to_torch(x), to_torch(w), to_torch(b), **conv_kwargs(cfg))
    assert_close(ref, want, cfg["dtype"], "vs torch")
    assert_close(ref, fast(x, w, b, **conv_kwargs(cfg)), cfg["dtype"], "vs fast path")


@NDIM
@given(data=st.data())
def test_reference_conv_backward_equals_autograd_and_fast_path(ndim, data):
    cfg = data.draw(conv_configs(ndim=ndim, max_groups=2, **SMALL))
    reference, fast = getattr(R, f"conv{ndim}d_backward"), getattr(F, f"conv{ndim}d_backward")
    rng, x, w, b = conv_arrays(cfg)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = TORCH_CONV[ndim](xt, wt, bt, **conv_kwargs(cfg))
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    ref = reference(g, x, w, **conv_kwargs(cfg))
    for r, f, want, name in zip(ref, fast(g, x, w, **conv_kwargs(cfg)), (xt.grad, wt.grad, bt.grad),
                                ("gi", "gw", "gb")):
        assert_close(r, want, cfg["dtype"], name + " vs torch")
        assert_close(r, f, cfg["dtype"], name + " vs fast path")


@given(cfg=conv_transpose_configs(max_spatial=5, max_batch=2, max_kernel=3))
def test_reference_conv_transpose2d_and_backward_equal_torch_and_fast_path(cfg):
    rng, x, w, b = conv_transpose_arrays(cfg)
    kw = conv_transpose_kwargs(cfg)
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


# ------------------------------------------------------------------------------------------------
# pooling
# ------------------------------------------------------------------------------------------------
@given(cfg=pool_configs(max_spatial=7, max_batch=2), unbatched=st.booleans())
def test_reference_max_pool2d_and_backward_equal_torch_and_fast_path(cfg, unbatched):
    rng = np.random.default_rng(cfg["seed"])
    x = tie_free(rng, (cfg["n"], cfg["c"], *cfg["size"]), cfg["dtype"])
    x = x[0] if unbatched else x
    y, idx = R.max_pool2d(x, **max_pool_kwargs(cfg), return_indices=True)
    yt, it = TF.max_pool2d(to_torch(x), **max_pool_kwargs(cfg), return_indices=True)
    assert_close(y, yt, cfg["dtype"], "vs torch")
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx, it.numpy())
    g = randn(rng, y.shape, cfg["dtype"])
    xt = to_torch(x, True)
    TF.max_pool2d(xt, **max_pool_kwargs(cfg)).backward(to_torch(g))
    ref = R.max_pool2d_backward(g, x, **max_pool_kwargs(cfg))
    assert_close(ref, xt.grad, cfg["dtype"], "grad vs torch")
    assert_close(ref, F.max_pool2d_backward(g, x, **max_pool_kwargs(cfg)), cfg["dtype"], "grad vs fast path")


@given(cfg=pool_configs(max_spatial=7, max_batch=2, with_dilation=False), count_include_pad=st.booleans(),
       unbatched=st.booleans())
def test_reference_avg_pool2d_and_backward_equal_torch_and_fast_path(cfg, count_include_pad, unbatched):
    rng = np.random.default_rng(cfg["seed"])
    x = randn(rng, (cfg["n"], cfg["c"], *cfg["size"]), cfg["dtype"])
    x = x[0] if unbatched else x
    kw = avg_pool_kwargs(cfg, count_include_pad)
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


# ------------------------------------------------------------------------------------------------
# linear, activations, loss
# ------------------------------------------------------------------------------------------------
small_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@given(lead=st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple), fin=st.integers(1, 5),
       fout=st.integers(1, 5), use_bias=st.booleans(), dtype=dtypes, seed=seeds)
def test_reference_linear_and_backward_equal_torch_and_fast_path(lead, fin, fout, use_bias, dtype, seed):
    rng = np.random.default_rng(seed)
    x, w, b = randn(rng, (*lead, fin), dtype), randn(rng, (fout, fin), dtype), randn(rng, (fout,), dtype)
    b = b if use_bias else None
    xt, wt = to_torch(x, True), to_torch(w, True)
    bt = None if b is None else to_torch(b, True)
    yt = TF.linear(xt, wt, bt)
    ref = R.linear(x, w, b)
    assert_close(ref, yt, dtype, "vs torch")
    assert_close(ref, F.linear(x, w, b), dtype, "vs fast path")
    g = randn(rng, tuple(yt.shape), dtype)
    yt.backward(to_torch(g))
    ref = R.linear_backward(g, x, w)
    torch_grads = (xt.grad, wt.grad, to_torch(g.reshape(-1, fout).sum(axis=0)) if b is None else bt.grad)
    for r, f, want, name in zip(ref, F.linear_backward(g, x, w), torch_grads, ("gi", "gw", "gb")):
        assert_close(r, want, dtype, name + " vs torch")
        assert_close(r, f, dtype, name + " vs fast path")


@pytest.mark.parametrize("name, torch_forward", [("relu", TF.relu), ("sigmoid", torch.sigmoid)])
@given(shape=small_shapes, dtype=dtypes, seed=seeds)
def test_reference_activation_and_backward_equal_torch_and_fast_path(name, torch_forward, shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    x.flat[0] = 0.0  # relu's kink: the gradient there is 0, as in torch
    xt = to_torch(x, True)
    yt = torch_forward(xt)
    ref = getattr(R, name)(x)
    assert_close(ref, yt, dtype, "vs torch")
    assert_close(ref, getattr(F, name)(x), dtype, "vs fast path")
    g = randn(rng, shape, dtype)
    yt.backward(to_torch(g))
    ref = getattr(R, name + "_backward")(g, x)
    assert_close(ref, xt.grad, dtype, "grad vs torch")
    assert_close(ref, getattr(F, name + "_backward")(g, x), dtype, "grad vs fast path")


@given(shape=small_shapes, dtype=dtypes, seed=seeds, data=st.data())
def test_reference_log_softmax_and_backward_equal_torch_and_fast_path(shape, dtype, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    xt = to_torch(x, True)
    yt = TF.log_softmax(xt, dim=dim)
    ref = R.log_softmax(x, dim)
    assert_close(ref, yt, dtype, "vs torch")
    assert_close(ref, F.log_softmax(x, dim), dtype, "vs fast path")
    g = randn(rng, shape, dtype)
    yt.backward(to_torch(g))
    ref = R.log_softmax_backward(g, x, dim)
    assert_close(ref, xt.grad, dtype, "grad vs torch")
    assert_close(ref, F.log_softmax_backward(g, x, dim), dtype, "grad vs fast path")


@given(n=st.integers(1, 5), k=st.integers(1, 6), dtype=dtypes, seed=seeds)
def test_reference_cross_entropy_and_backward_equal_torch_and_fast_path(n, k, dtype, seed):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((n, k)) * 5).astype(dtype)
    target = rng.integers(0, k, size=n)
    lt = to_torch(logits, True)
    loss = TF.cross_entropy(lt, torch.from_numpy(target))
    loss.backward()
    ref = R.cross_entropy(logits, target)
    assert np.ndim(ref) == 0 and ref.dtype == dtype
    assert_close(np.asarray(ref), loss.detach(), dtype, "vs torch")
    assert_close(np.asarray(ref), np.asarray(F.cross_entropy(logits, target)), dtype, "vs fast path")
    ref = R.cross_entropy_backward(logits, target)
    assert_close(ref, lt.grad, dtype, "grad vs torch")
    assert_close(ref, F.cross_entropy_backward(logits, target), dtype, "grad vs fast path")
