"""linear and linear_backward against torch: the fast path (cnnbook.functional.linear) and the loops
(cnnbook.reference.linear)."""
import numpy as np
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from helpers import BOTH_TREES, assert_close, dtypes, randn, seeds, to_torch


@BOTH_TREES
@given(lead=st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple), fin=st.integers(1, 6),
       fout=st.integers(1, 6), use_bias=st.booleans(), dtype=dtypes, seed=seeds)
def test_linear_forward_and_backward_match_torch(module, lead, fin, fout, use_bias, dtype, seed):
    """y = x W^T + b for input (*, in_features); backward with a random upstream gradient."""
    rng = np.random.default_rng(seed)
    x = randn(rng, (*lead, fin), dtype)
    w = randn(rng, (fout, fin), dtype)
    b = randn(rng, (fout,), dtype)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    yt = TF.linear(xt, wt, bt if use_bias else None)
    assert_close(module.linear(x, w, b if use_bias else None), yt, dtype, "linear")
    g = randn(rng, tuple(yt.shape), dtype)  # random upstream gradient
    yb = TF.linear(xt, wt, bt)  # backward always through the biased layer so that b has a gradient
    yb.backward(to_torch(g))
    gi, gw, gb = module.linear_backward(g, x, w)
    assert_close(gi, xt.grad, dtype, "grad_input")
    assert_close(gw, wt.grad, dtype, "grad_weight")
    assert_close(gb, bt.grad, dtype, "grad_bias")
