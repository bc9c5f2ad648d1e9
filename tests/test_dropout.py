"""dropout and dropout_backward (fast path and loops): against torch given the same mask (the mask torch
drew, read off its output), reproducible masks, the keep rate, evaluation mode, p = 0 and 1, bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from cnnbook import functional as F
from cnnbook import reference as R
from helpers import BOTH_TREES, assert_close, dtypes, randn, seeds, to_torch


@BOTH_TREES
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple),
       p=st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]), dtype=dtypes, seed=seeds)
def test_dropout_equals_torch_with_the_same_mask(module, shape, p, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (np.abs(randn(rng, shape, dtype)) + 0.5).astype(dtype)      # no zeros: the kept values show in y
    torch.manual_seed(seed % 2**31)
    xt = to_torch(x, True)
    yt = TF.dropout(xt, p=p, training=True)
    mask = yt.detach().numpy() != 0                                  # the mask torch drew
    y = module.dropout(x, p, mask=mask)
    assert_close(y, yt, dtype, "dropout")
    g = randn(rng, shape, dtype)
    yt.backward(to_torch(g))
    assert_close(module.dropout_backward(g, mask, p), xt.grad, dtype, "grad_input")


@BOTH_TREES
def test_dropout_evaluation_mode_is_the_identity(module):
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(module.dropout(x, 0.5, training=False), TF.dropout(torch.from_numpy(x), 0.5,
                                                                                     training=False).numpy())
    g = np.ones((3, 4))
    np.testing.assert_array_equal(module.dropout_backward(g, np.zeros((3, 4), bool), 0.5, training=False), g)


def test_masks_are_reproducible_and_the_same_in_both_trees():
    m1 = F.dropout_mask((4, 5, 6), 0.3, generator=42)
    m2 = R.dropout_mask((4, 5, 6), 0.3, generator=np.random.default_rng(42))
    np.testing.assert_array_equal(m1, m2)
    x = np.ones((4, 5, 6))
    np.testing.assert_array_equal(F.dropout(x, 0.3, generator=42), R.dropout(x, 0.3, generator=42))
    np.testing.assert_array_equal(F.dropout(x, 0.3, generator=42), np.where(m1, 1 / 0.7, 0.0))


def test_keep_rate_and_mean_are_preserved():
    """About 1 - p of 100,000 values kept; the mean of the output stays that of the input (E[Y] = X)."""
    x = np.ones(100_000)
    y = F.dropout(x, 0.25, generator=0)
    assert abs(np.mean(y != 0) - 0.75) < 0.01                      # 5 standard deviations: 0.0069
    assert abs(y.mean() - 1.0) < 0.02


def test_dropout_bad_arguments():
    with pytest.raises(ValueError, match=r"dropout probability p must be in \[0, 1\], got 1.5"):
        F.dropout(np.ones(3), 1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        TF.dropout(torch.ones(3), 1.5)
    with pytest.raises(ValueError, match=r"mask must have the input's shape \(3,\), got \(2,\)"):
        F.dropout(np.ones(3), 0.5, mask=np.ones(2, bool))
    with pytest.raises(TypeError, match="mask must be a bool array"):
        F.dropout(np.ones(3), 0.5, mask=np.ones(3))
    with pytest.raises(TypeError, match="generator must be None, an int seed or a numpy.random.Generator"):
        F.dropout(np.ones(3), 0.5, generator="seed")
