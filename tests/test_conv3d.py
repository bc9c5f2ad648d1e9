"""conv3d and conv3d_backward against torch.nn.functional.conv3d and autograd.

Hypothesis draws non-cubic inputs and kernels, per-axis stride, padding (ints, 'valid', 'same') and
dilation, groups, batch sizes, float32/float64, batched and unbatched inputs (the same strategy as the
2-D tests, with three spatial axes). The loops of cnnbook.reference run on smaller shapes and are also
compared with the fast path. Backward passes use a random upstream gradient.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings

from cnnbook import functional as F
from cnnbook import reference as R
from helpers import assert_close, conv_arrays, conv_configs, conv_kwargs, randn, to_torch

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")
BATCH = pytest.mark.parametrize("unbatched", [False, True], ids=["batched", "unbatched"])
FAST = dict(ndim=3, max_spatial=7, max_kernel=3, max_stride=2, max_dilation=2, max_padding=2)
SMALL = dict(ndim=3, max_spatial=5, max_batch=2, max_kernel=2, max_stride=2, max_dilation=2, max_padding=1,
             max_groups=2)


def _torch_case(cfg, unbatched):
    """(rng, x, w, b, their output y, and the leaves xt, wt, bt) for a configuration."""
    rng, x, w, b = conv_arrays(cfg)
    x = x[0] if unbatched else x
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    return rng, x, w, b, TF.conv3d(xt, wt, bt, **conv_kwargs(cfg)), (xt, wt, bt)


@BATCH
@settings(max_examples=30)
@given(cfg=conv_configs(**FAST))
def test_conv3d_forward_and_backward_match_torch(unbatched, cfg):
    rng, x, w, b, y, leaves = _torch_case(cfg, unbatched)
    assert_close(F.conv3d(x, w, b, **conv_kwargs(cfg)), y, cfg["dtype"], "conv3d")
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    for got, leaf, what in zip(F.conv3d_backward(g, x, w, **conv_kwargs(cfg)), leaves, ("gi", "gw", "gb")):
        assert_close(got, leaf.grad, cfg["dtype"], what)


@settings(max_examples=12)
@given(cfg=conv_configs(**SMALL))
def test_reference_conv3d_equals_torch_and_the_fast_path(cfg):
    rng, x, w, b, y, leaves = _torch_case(cfg, False)
    ref = R.conv3d(x, w, b, **conv_kwargs(cfg))
    assert_close(ref, y, cfg["dtype"], "vs torch")
    assert_close(ref, F.conv3d(x, w, b, **conv_kwargs(cfg)), cfg["dtype"], "vs fast path")
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    fast = F.conv3d_backward(g, x, w, **conv_kwargs(cfg))
    for r, f, leaf, what in zip(R.conv3d_backward(g, x, w, **conv_kwargs(cfg)), fast, leaves, ("gi", "gw", "gb")):
        assert_close(r, leaf.grad, cfg["dtype"], what + " vs torch")
        assert_close(r, f, cfg["dtype"], what + " vs fast path")


def test_conv1d_and_conv2d_are_conv3d_with_axes_of_length_one(rng):
    """One formula: a 2-D convolution is a 3-D one of depth 1, a 1-D one of depth and height 1."""
    x, w = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3, 2, 3))
    kw = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    deep = F.conv3d(x[:, :, None], w[:, :, None], stride=(1, *kw["stride"]), padding=(0, *kw["padding"]),
                    dilation=(1, *kw["dilation"]))[:, :, 0]
    assert_close(deep, TF.conv2d(to_torch(x), to_torch(w), **kw), np.float64, "conv2d as conv3d")
    x1, w1 = rng.standard_normal((2, 3, 9)), rng.standard_normal((4, 3, 3))
    line = F.conv3d(x1[:, :, None, None], w1[:, :, None, None], stride=2, padding=(0, 0, 1))[:, :, 0, 0]
    assert_close(line, TF.conv1d(to_torch(x1), to_torch(w1), stride=2, padding=1), np.float64, "conv1d as conv3d")


def test_conv3d_of_integer_input_is_float64():
    x = np.arange(2 * 4 * 4 * 4).reshape(1, 2, 4, 4, 4)
    w = np.ones((1, 2, 2, 2, 2), dtype=np.int64)
    y = F.conv3d(x, w)
    assert y.dtype == np.float64
    assert_close(y, TF.conv3d(torch.tensor(x, dtype=torch.float64), torch.ones(1, 2, 2, 2, 2, dtype=torch.float64)),
                 np.float64)


def z(*shape):
    return np.zeros(shape)


# (id, our call, torch's call, message)
CASES = [
    ("kernel_larger_than_input", lambda m: m.conv3d(z(1, 1, 3, 5, 5), z(1, 1, 4, 3, 3)),
     lambda: TF.conv3d(torch.zeros(1, 1, 3, 5, 5), torch.zeros(1, 1, 4, 3, 3)),
     r"kernel size 4 can't be greater than the padded input size 3"),
    ("channel_mismatch", lambda m: m.conv3d(z(1, 3, 4, 4, 4), z(2, 2, 2, 2, 2)),
     lambda: TF.conv3d(torch.zeros(1, 3, 4, 4, 4), torch.zeros(2, 2, 2, 2, 2)), r"channel mismatch: input has 3"),
    ("groups_not_dividing", lambda m: m.conv3d(z(1, 4, 4, 4, 4), z(3, 2, 2, 2, 2), groups=2),
     lambda: TF.conv3d(torch.zeros(1, 4, 4, 4, 4), torch.zeros(3, 2, 2, 2, 2), groups=2),
     r"groups=2 must divide the output channels"),
    ("same_with_stride", lambda m: m.conv3d(z(1, 1, 4, 4, 4), z(1, 1, 3, 3, 3), stride=2, padding="same"),
     lambda: TF.conv3d(torch.zeros(1, 1, 4, 4, 4), torch.zeros(1, 1, 3, 3, 3), stride=2, padding="same"),
     r"padding='same' is not supported for strided convolutions"),
    ("4d_weight", lambda m: m.conv3d(z(1, 1, 4, 4, 4), z(1, 1, 3, 3)),
     lambda: TF.conv3d(torch.zeros(1, 1, 4, 4, 4), torch.zeros(1, 1, 3, 3)), r"weight must be 5-D"),
    ("stride_pair", lambda m: m.conv3d(z(1, 1, 4, 4, 4), z(1, 1, 2, 2, 2), stride=(1, 2)),
     lambda: TF.conv3d(torch.zeros(1, 1, 4, 4, 4), torch.zeros(1, 1, 2, 2, 2), stride=(1, 2)),
     r"stride must be an int or a tuple of 3 ints"),
    ("bias_wrong_length", lambda m: m.conv3d(z(1, 1, 4, 4, 4), z(2, 1, 2, 2, 2), z(3)),
     lambda: TF.conv3d(torch.zeros(1, 1, 4, 4, 4), torch.zeros(2, 1, 2, 2, 2), torch.zeros(3)),
     r"bias must have length C_out = 2"),
]


@pytest.mark.parametrize("module", [F, R], ids=["functional", "reference"])
@pytest.mark.parametrize("ours, theirs, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_like_torch(module, ours, theirs, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        ours(module)
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)):
        theirs()


def test_backward_checks_the_shape_of_grad_output():
    with pytest.raises(ValueError, match=r"grad_output must have the shape of the output \(1, 1, 3, 3, 3\)"):
        F.conv3d_backward(z(1, 1, 3, 3, 2), z(1, 1, 4, 4, 4), z(1, 1, 2, 2, 2))
