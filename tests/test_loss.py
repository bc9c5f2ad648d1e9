"""cross_entropy and cross_entropy_backward against torch and a worked example: the fast path
(cnnbook.functional.loss) and the loops (cnnbook.reference.loss)."""
import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from helpers import BOTH_TREES, assert_close, dtypes, seeds, to_torch


@BOTH_TREES
@given(n=st.integers(1, 6), k=st.integers(1, 7), dtype=dtypes, seed=seeds,
       scale=st.sampled_from([1.0, 30.0]))
def test_cross_entropy_and_backward_match_torch(module, n, k, dtype, seed, scale):
    """Mean loss over the batch and its gradient w.r.t. the logits, as torch's autograd."""
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((n, k)) * scale).astype(dtype)
    target = rng.integers(0, k, size=n)
    lt = to_torch(logits, True)
    loss = TF.cross_entropy(lt, torch.from_numpy(target))
    loss.backward()
    got = module.cross_entropy(logits, target)
    assert np.ndim(got) == 0 and got.dtype == dtype
    rtol, atol = (1e-9, 1e-10) if dtype == np.float64 else (1e-4, 1e-5)  # see helpers.tolerances
    np.testing.assert_allclose(float(got), loss.item(), rtol=rtol, atol=atol * max(1, abs(loss.item())))
    assert_close(module.cross_entropy_backward(logits, target), lt.grad, dtype, "cross_entropy grad")


@BOTH_TREES
def test_cross_entropy_of_two_equal_logits_is_log_2(module):
    """Two equal logits: softmax (1/2, 1/2), so the loss is -log(1/2) = log 2 and the gradient
    (1/2 - 1, 1/2) / N with N = 1."""
    np.testing.assert_allclose(module.cross_entropy(np.zeros((1, 2)), np.array([0])), np.log(2))
    np.testing.assert_allclose(module.cross_entropy_backward(np.zeros((1, 2)), np.array([0])), [[-0.5, 0.5]])
