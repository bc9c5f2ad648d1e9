"""The loop implementations in cnnbook.reference equal torch and the vectorised fast path.

Shapes are kept small (spatial <= 6, channels <= 4, batch <= 2) because the loops run in Python."""
import importlib
from pathlib import Path

import numpy as np
import pytest
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from cnnbook import functional as F
from cnnbook import reference as R
from helpers import (assert_close, avg_pool_kwargs, conv_arrays, conv_configs, conv_kwargs,
                     conv_transpose_configs, conv_transpose_kwargs, dtypes,
                     max_pool_kwargs, pool_configs, randn, seeds, tie_free, to_torch)

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")

SMALL = dict(max_spatial=6, max_batch=2, max_kernel=3)
NDIM = pytest.mark.parametrize("ndim", [1, 2], ids=["conv1d", "conv2d"])
TORCH_CONV = {1: TF.conv1d, 2: TF.conv2d}


def test_reference_mirrors_functional_file_for_file():
    """The same modules with the same public functions, so a chapter can point at two files."""
    def modules(package):
        return sorted(p.name for p in Path(package.__file__).parent.glob("*.py"))

    assert modules(R) == modules(F) == ["__init__.py", "activation.py", "conv.py", "conv3d.py", "dropout.py",
                                        "fft.py", "fold.py", "linear.py", "loss.py", "normalization.py", "pooling.py",
                                        "unshared.py"]
    assert sorted(R.__all__) == sorted(F.__all__)
    for name in ("conv", "pooling", "linear", "activation", "loss", "fold", "conv3d", "fft", "unshared",
                 "normalization", "dropout"):
        ref, fast = (importlib.import_module(f"cnnbook.{tree}.{name}") for tree in ("reference", "functional"))
        assert ref.__all__ == fast.__all__, name


# ------------------------------------------------------------------------------------------------
# convolutions
# ------------------------------------------------------------------------------------------------
@NDIM
@given(data=st.data())
def test_reference_conv_and_backward_equal_torch_and_fast_path(ndim, data):
    cfg = data.draw(conv_configs(ndim=ndim, max_groups=2, **SMALL))
    name, kw = f"conv{ndim}d", conv_kwargs(cfg)
    rng, x, w, b = conv_arrays(cfg)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = TORCH_CONV[ndim](xt, wt, bt, **kw)
    ref = getattr(R, name)(x, w, b, **kw)
    assert_close(ref, y, cfg["dtype"], "vs torch")
    assert_close(ref, getattr(F, name)(x, w, b, **kw), cfg["dtype"], "vs fast path")
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    ref = getattr(R, name + "_backward")(g, x, w, **kw)
    fast = getattr(F, name + "_backward")(g, x, w, **kw)
    for r, f, want, grad in zip(ref, fast, (xt.grad, wt.grad, bt.grad), ("gi", "gw", "gb")):
        assert_close(r, want, cfg["dtype"], grad + " vs torch")
        assert_close(r, f, cfg["dtype"], grad + " vs fast path")


@given(cfg=conv_transpose_configs(max_spatial=5, max_batch=2, max_kernel=3))
def test_reference_conv_transpose2d_and_backward_equal_torch_and_fast_path(cfg):
    rng, x, w, b = conv_arrays(cfg, transposed=True)
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
# linear, activations, loss (each also against torch, for both trees, in test_linear.py,
# test_activation.py and test_loss.py)
# ------------------------------------------------------------------------------------------------
@given(batch=st.integers(1, 3), features=st.integers(1, 5), classes=st.integers(1, 5), dtype=dtypes,
       seed=seeds)
def test_reference_linear_activation_loss_equal_the_fast_path(batch, features, classes, dtype, seed):
    """Every function of linear.py, activation.py and loss.py: the loops give the fast path's results."""
    rng = np.random.default_rng(seed)
    x, w, b = (randn(rng, shape, dtype) for shape in ((batch, features), (classes, features), (classes,)))
    g, logits = randn(rng, (batch, classes), dtype), randn(rng, (batch, classes), dtype) * 5
    target = rng.integers(0, classes, size=batch)
    calls = {
        "linear": (x, w, b), "linear_backward": (g, x, w),
        "relu": (logits,), "relu_backward": (g, logits), "sigmoid": (logits,), "sigmoid_backward": (g, logits),
        "log_softmax": (logits, 0), "log_softmax_backward": (g, logits, -1),
        "cross_entropy": (logits, target), "cross_entropy_backward": (logits, target),
    }
    for name, args in calls.items():
        ref, fast = getattr(R, name)(*args), getattr(F, name)(*args)
        if not isinstance(ref, tuple):  # one array (or a scalar loss) instead of several gradients
            ref, fast = (ref,), (fast,)
        assert len(ref) == len(fast), name
        for r, f in zip(ref, fast):
            assert_close(np.asarray(r), np.asarray(f), dtype, name)
