"""unfold / fold and their backward functions against torch.nn.functional.unfold / fold and autograd.

Hypothesis draws non-square kernels, per-axis stride, padding and dilation, batch sizes 1..2, channels
1..3, float32/float64, batched and unbatched inputs. Both trees (the fast path and the loops) run every
test. The backward passes use a random upstream gradient.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

from helpers import BOTH_TREES, assert_close, dtypes, randn, seeds, to_torch

BATCH = pytest.mark.parametrize("unbatched", [False, True], ids=["batched", "unbatched"])


@st.composite
def fold_configs(draw, max_spatial: int = 7):
    """Window arguments torch accepts (at least one window) and an image size, as ints or pairs."""
    k = tuple(draw(st.integers(1, 3)) for _ in range(2))
    s = tuple(draw(st.integers(1, 3)) for _ in range(2))
    d = tuple(draw(st.integers(1, 2)) for _ in range(2))
    p = tuple(draw(st.integers(0, 2)) for _ in range(2))
    size = tuple(draw(st.integers(max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i]), max_spatial)) for i in range(2))

    def maybe_int(t):
        return t[0] if len(set(t)) == 1 and draw(st.booleans()) else t
    return dict(kernel_size=maybe_int(k), dilation=maybe_int(d), padding=maybe_int(p), stride=maybe_int(s),
                size=size, n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)), dtype=draw(dtypes),
                seed=draw(seeds))


def _window(cfg):
    return {k: cfg[k] for k in ("kernel_size", "dilation", "padding", "stride")}


def _image(cfg, rng, unbatched):
    x = randn(rng, (cfg["n"], cfg["c"], *cfg["size"]), cfg["dtype"])
    return x[0] if unbatched else x


@BOTH_TREES
@BATCH
@settings(max_examples=25)
@given(cfg=fold_configs())
def test_unfold_and_its_backward_match_torch(module, unbatched, cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = _image(cfg, rng, unbatched)
    xt = to_torch(x, True)
    cols = TF.unfold(xt, **_window(cfg))
    assert_close(module.unfold(x, **_window(cfg)), cols, cfg["dtype"], "unfold")
    g = randn(rng, tuple(cols.shape), cfg["dtype"])
    cols.backward(to_torch(g))
    assert_close(module.unfold_backward(g, x, **_window(cfg)), xt.grad, cfg["dtype"], "unfold_backward")


@BOTH_TREES
@BATCH
@settings(max_examples=25)
@given(cfg=fold_configs())
def test_fold_and_its_backward_match_torch(module, unbatched, cfg):
    rng = np.random.default_rng(cfg["seed"])
    shape = tuple(TF.unfold(torch.zeros(1, cfg["c"], *cfg["size"]), **_window(cfg)).shape[1:])
    cols = randn(rng, (cfg["n"], *shape), cfg["dtype"])
    cols = cols[0] if unbatched else cols
    ct = to_torch(cols, True)
    y = TF.fold(ct, cfg["size"], **_window(cfg))
    assert_close(module.fold(cols, cfg["size"], **_window(cfg)), y, cfg["dtype"], "fold")
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    assert_close(module.fold_backward(g, cols, cfg["size"], **_window(cfg)), ct.grad, cfg["dtype"],
                 "fold_backward")


def test_fold_counts_the_windows_covering_each_cell():
    """A worked example: 3x3 windows with stride 1 on a 4x4 image; fold(unfold(ones)) counts, per cell,
    the windows that cover it (corners 1, edges 2, the middle 4)."""
    from cnnbook import functional as F

    counts = F.fold(F.unfold(np.ones((1, 4, 4)), 3), 4, 3)[0]
    assert counts.tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]


def test_unfold_is_the_primitive_im2col():
    """The functional form and the teaching primitive give the same columns (torch's argument order)."""
    import cnnbook
    from cnnbook import functional as F

    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5))
    kw = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    np.testing.assert_array_equal(F.unfold(x, (2, 2), **kw), cnnbook.im2col(x, (2, 2), **kw))


# (id, our call, torch's call, exception, message): the same rejections as torch
CASES = [
    ("unfold_2d_input", lambda m: m.unfold(np.zeros((4, 4)), 2),
     lambda: TF.unfold(torch.zeros(4, 4), 2), ValueError, r"input must be 3-D or 4-D"),
    ("unfold_window_too_large", lambda m: m.unfold(np.zeros((1, 1, 3, 3)), 4),
     lambda: TF.unfold(torch.zeros(1, 1, 3, 3), 4), ValueError,
     r"kernel size 4 can't be greater than the padded input size 3"),
    ("unfold_negative_padding", lambda m: m.unfold(np.zeros((1, 1, 3, 3)), 2, padding=-1),
     lambda: TF.unfold(torch.zeros(1, 1, 3, 3), 2, padding=-1), ValueError, r"padding must be >= 0"),
    ("unfold_stride_0", lambda m: m.unfold(np.zeros((1, 1, 3, 3)), 2, stride=(1, 0)),
     lambda: TF.unfold(torch.zeros(1, 1, 3, 3), 2, stride=(1, 0)), ValueError, r"stride must be >= 1"),
    ("fold_rows_not_a_multiple_of_the_kernel", lambda m: m.fold(np.zeros((1, 5, 9)), 4, 2),
     lambda: TF.fold(torch.zeros(1, 5, 9), 4, 2), ValueError,
     r"divisible by the product of kernel_size 2 \* 2 = 4, got 5"),
    ("fold_wrong_number_of_blocks", lambda m: m.fold(np.zeros((1, 4, 8)), 4, 2),
     lambda: TF.fold(torch.zeros(1, 4, 8), 4, 2), ValueError,
     r"number of sliding blocks H_out \* W_out = 3 \* 3 = 9 .* got 8"),
    ("fold_4d_input", lambda m: m.fold(np.zeros((1, 1, 4, 9)), 4, 2),
     lambda: TF.fold(torch.zeros(1, 1, 4, 9), 4, 2), ValueError, r"input must be 2-D or 3-D"),
]


@BOTH_TREES
@pytest.mark.parametrize("ours, theirs, exc, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_like_torch(module, ours, theirs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        ours(module)
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)):
        theirs()


@BOTH_TREES
def test_backward_checks_the_shape_of_grad_output(module):
    with pytest.raises(ValueError, match=r"grad_output must have the shape of the unfold output \(1, 4, 9\)"):
        module.unfold_backward(np.zeros((1, 4, 8)), np.zeros((1, 1, 4, 4)), 2)
    with pytest.raises(ValueError, match=r"grad_output must have the shape of the fold output \(1, 1, 4, 4\)"):
        module.fold_backward(np.zeros((1, 1, 4, 3)), np.zeros((1, 4, 9)), 4, 2)


@settings(max_examples=15)
@given(cfg=fold_configs())
def test_reference_loops_equal_the_fast_path(cfg):
    """The loops of cnnbook.reference and the fast path (im2col/col2im) give the same arrays."""
    from cnnbook import functional as F
    from cnnbook import reference as R

    rng = np.random.default_rng(cfg["seed"])
    x = _image(cfg, rng, False)
    cols = F.unfold(x, **_window(cfg))
    assert_close(R.unfold(x, **_window(cfg)), cols, cfg["dtype"], "unfold")
    g = randn(rng, cols.shape, cfg["dtype"])
    assert_close(R.fold(g, cfg["size"], **_window(cfg)), F.fold(g, cfg["size"], **_window(cfg)), cfg["dtype"], "fold")
    assert_close(R.unfold_backward(g, x, **_window(cfg)), F.unfold_backward(g, x, **_window(cfg)), cfg["dtype"])
