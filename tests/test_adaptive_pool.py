"""adaptive_avg_pool2d and its backward (fast path and loops) against torch and autograd, for any input
and output sizes (output sizes that do not divide the input, larger than the input, None entries), the
bins of torch's rule as a worked example, and bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from cnnbook import functional as F
from cnnbook.shapes import adaptive_pool_bins, adaptive_pool_output_size
from helpers import BOTH_TREES, assert_close, dtypes, randn, seeds, to_torch


@st.composite
def adaptive_configs(draw):
    size = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    kind = draw(st.sampled_from(["int", "pair", "none-entry"]))
    out = {"int": lambda: draw(st.integers(1, 10)),
           "pair": lambda: (draw(st.integers(1, 10)), draw(st.integers(1, 10))),
           "none-entry": lambda: (None, draw(st.integers(1, 10)))}[kind]()
    return dict(n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)), size=size, output_size=out,
                unbatched=draw(st.booleans()), dtype=draw(dtypes), seed=draw(seeds))


def _input(cfg):
    rng = np.random.default_rng(cfg["seed"])
    shape = (cfg["c"], *cfg["size"]) if cfg["unbatched"] else (cfg["n"], cfg["c"], *cfg["size"])
    return rng, randn(rng, shape, cfg["dtype"])


@BOTH_TREES
@given(cfg=adaptive_configs())
def test_adaptive_avg_pool2d_and_backward_match_torch(module, cfg):
    rng, x = _input(cfg)
    xt = to_torch(x, True)
    yt = TF.adaptive_avg_pool2d(xt, cfg["output_size"])
    y = module.adaptive_avg_pool2d(x, cfg["output_size"])
    assert_close(y, yt, cfg["dtype"], "adaptive_avg_pool2d")
    g = randn(rng, tuple(yt.shape), cfg["dtype"])
    yt.backward(to_torch(g))
    assert_close(module.adaptive_avg_pool2d_backward(g, x, cfg["output_size"]), xt.grad, cfg["dtype"],
                 "grad_input")


def test_bins_of_a_size_that_does_not_divide():
    """H = 5 into 3 bins: [0, 2), [1, 4), [3, 5) -- overlapping by one row; 10 into 4: [0, 3), [2, 5), [5, 8), [7, 10)."""
    assert adaptive_pool_bins(5, 3) == [(0, 2), (1, 4), (3, 5)]
    assert adaptive_pool_bins(10, 4) == [(0, 3), (2, 5), (5, 8), (7, 10)]
    x = np.arange(5.0).reshape(1, 1, 5, 1)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (3, 1)).ravel(), [0.5, 2.0, 3.5])
    np.testing.assert_allclose(TF.adaptive_avg_pool2d(torch.from_numpy(x), (3, 1)).numpy().ravel(),
                               [0.5, 2.0, 3.5])


def test_global_average_pooling_is_the_mean():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 5))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1)[..., 0, 0], x.mean(axis=(2, 3)), rtol=1e-12)


def test_output_size_resolution():
    assert adaptive_pool_output_size((7, 5), (None, None)) == (7, 5)
    assert adaptive_pool_output_size((7, 5), (None, 2)) == (7, 2)
    assert adaptive_pool_output_size((7, 5), 3) == (3, 3)


@pytest.mark.parametrize("output_size, exc, pattern", [
    (0, ValueError, r"output_size must be >= 1 in every dimension, got \(0, 0\)"),
    ((2, 0), ValueError, r"output_size must be >= 1"),
    ((1, 2, 3), TypeError, "output_size must be an int or a pair"),
    ("2", TypeError, "output_size must be an int or a pair"),
    (None, TypeError, "output_size must be an int or a pair"),
])
def test_adaptive_avg_pool2d_bad_output_size(output_size, exc, pattern):
    with pytest.raises(exc, match=pattern):
        F.adaptive_avg_pool2d(np.ones((1, 1, 4, 4)), output_size)


def test_adaptive_avg_pool2d_bad_input():
    with pytest.raises(ValueError, match=r"input must be 3-D or 4-D"):
        F.adaptive_avg_pool2d(np.ones((4, 4)), 2)
    with pytest.raises(RuntimeError):                # torch rejects a 2-D input too
        TF.adaptive_avg_pool2d(torch.ones(1, 4, 4, 4, 4), 2)
    with pytest.raises(ValueError, match=r"grad_output must have the shape of the pooling output \(1, 1, 2, 2\)"):
        F.adaptive_avg_pool2d_backward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)), 2)
