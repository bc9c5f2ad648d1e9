"""conv1d, conv2d, conv_transpose2d and their backward functions against torch.nn.functional / autograd.

Hypothesis draws non-square inputs and kernels, per-axis stride/padding/dilation, groups, batch sizes
1..3, 'valid'/'same' padding and float32/float64; every configuration is one torch accepts. conv1d and
conv2d run through the same tests (parametrized over the number of spatial dimensions).
Backward passes use a random upstream gradient (not ones), so a transposed/misplaced index shows up.
"""
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, strategies as st

from cnnbook import functional as F
from cnnbook import shapes
from helpers import (assert_close, conv_arrays, conv_configs, conv_kwargs,
                     conv_transpose_configs, conv_transpose_kwargs, randn, to_torch)

# torch warns that it copies the input for "same" padding with even kernels; irrelevant to the values
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")

# (cnnbook forward, cnnbook backward, torch forward) per number of spatial dimensions
CONV = {1: (F.conv1d, F.conv1d_backward, TF.conv1d), 2: (F.conv2d, F.conv2d_backward, TF.conv2d)}
NDIM = pytest.mark.parametrize("ndim", [1, 2], ids=["conv1d", "conv2d"])
BATCH = pytest.mark.parametrize("unbatched", [False, True], ids=["batched", "unbatched"])


# ------------------------------------------------------------------------------------------------
# conv1d and conv2d
# ------------------------------------------------------------------------------------------------
@NDIM
@BATCH
@given(data=st.data(), use_bias=st.booleans())
def test_conv_forward_matches_torch(ndim, data, use_bias, unbatched):
    """Batched and unbatched inputs ((C, H, W), or (C, L) in 1-D, give unbatched results as torch)."""
    cfg = data.draw(conv_configs(ndim=ndim, max_batch=1 if unbatched else 3))
    forward, _, torch_forward = CONV[ndim]
    _, x, w, b = conv_arrays(cfg)
    x = x[0] if unbatched else x
    b = b if use_bias else None
    got = forward(x, w, b, **conv_kwargs(cfg))
    want = torch_forward(to_torch(x), to_torch(w), None if b is None else to_torch(b), **conv_kwargs(cfg))
    assert_close(got, want, cfg["dtype"], f"conv{ndim}d")


@NDIM
@BATCH
@given(data=st.data())
def test_conv_backward_matches_autograd(ndim, data, unbatched):
    cfg = data.draw(conv_configs(ndim=ndim, max_batch=1 if unbatched else 3))
    _, backward, torch_forward = CONV[ndim]
    rng, x, w, b = conv_arrays(cfg)
    x = x[0] if unbatched else x
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = torch_forward(xt, wt, bt, **conv_kwargs(cfg))
    g = randn(rng, tuple(y.shape), cfg["dtype"])  # random upstream gradient
    y.backward(to_torch(g))
    gi, gw, gb = backward(g, x, w, **conv_kwargs(cfg))
    assert_close(gi, xt.grad, cfg["dtype"], "grad_input")
    assert_close(gw, wt.grad, cfg["dtype"], "grad_weight")
    assert_close(gb, bt.grad, cfg["dtype"], "grad_bias")


MASKS = [(False, True, True), (False, True, False), (True, False, False), (True, True, False), (False, False, True)]


@NDIM
@pytest.mark.parametrize("mask", MASKS, ids=lambda m: "".join("xwb"[i] if on else "-" for i, on in enumerate(m)))
@given(data=st.data())
def test_conv_backward_output_mask_matches_autograd(ndim, mask, data):
    """``output_mask`` as in ``torch.ops.aten.convolution_backward``: the gradients asked for equal
    torch's autograd, the others are None (a first layer's weight gradient without its dX)."""
    cfg = data.draw(conv_configs(ndim=ndim, max_batch=3))
    _, backward, torch_forward = CONV[ndim]
    rng, x, w, b = conv_arrays(cfg)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = torch_forward(xt, wt, bt, **conv_kwargs(cfg))
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    got = backward(g, x, w, **conv_kwargs(cfg), output_mask=mask)
    for wanted, value, want, what in zip(mask, got, (xt.grad, wt.grad, bt.grad), ("grad_input", "grad_weight", "grad_bias")):
        if wanted:
            assert_close(value, want, cfg["dtype"], what)
        else:
            assert value is None, what


@pytest.mark.parametrize("mask", [(True, True), (1, 1, 1), "xwb", None, (True, False, None)])
def test_conv_backward_output_mask_must_be_three_bools(mask, rng):
    x, w = randn(rng, (1, 1, 4, 4), np.float32), randn(rng, (1, 1, 3, 3), np.float32)
    with pytest.raises(ValueError, match="output_mask must be three bools"):
        F.conv2d_backward(np.ones((1, 1, 2, 2)), x, w, output_mask=mask)


def test_conv2d_defaults_and_integer_input():
    """Defaults are torch's (stride 1, no padding); integer arrays are accepted and give float64."""
    x = np.arange(2 * 3 * 5 * 6).reshape(2, 3, 5, 6)
    w = np.arange(4 * 3 * 2 * 3).reshape(4, 3, 2, 3) % 5 - 2
    got = F.conv2d(x, w)
    want = TF.conv2d(torch.tensor(x, dtype=torch.float64), torch.tensor(w, dtype=torch.float64))
    assert_close(got, want, np.float64, "conv2d int input")


def test_conv2d_mixed_dtypes_promote_to_float64():
    """float32 input with a float64 weight: the result is float64 (numpy promotion), values as torch."""
    rng = np.random.default_rng(1)
    x = randn(rng, (1, 2, 5, 5), np.float32)
    w = randn(rng, (3, 2, 3, 3), np.float64)
    got = F.conv2d(x, w)
    want = TF.conv2d(to_torch(x).double(), to_torch(w))
    assert_close(got, want, np.float64, "conv2d mixed dtypes")


# ------------------------------------------------------------------------------------------------
# conv_transpose2d
# ------------------------------------------------------------------------------------------------
@given(cfg=conv_transpose_configs(), use_bias=st.booleans())
def test_conv_transpose2d_forward_matches_torch(cfg, use_bias):
    _, x, w, b = conv_arrays(cfg, transposed=True)
    b = b if use_bias else None
    got = F.conv_transpose2d(x, w, b, **conv_transpose_kwargs(cfg))
    want = TF.conv_transpose2d(to_torch(x), to_torch(w), None if b is None else to_torch(b),
                               **conv_transpose_kwargs(cfg))
    assert_close(got, want, cfg["dtype"], "conv_transpose2d")


@given(cfg=conv_transpose_configs())
def test_conv_transpose2d_backward_matches_autograd(cfg):
    rng, x, w, b = conv_arrays(cfg, transposed=True)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = TF.conv_transpose2d(xt, wt, bt, **conv_transpose_kwargs(cfg))
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    gi, gw, gb = F.conv_transpose2d_backward(g, x, w, **conv_transpose_kwargs(cfg))
    assert_close(gi, xt.grad, cfg["dtype"], "grad_input")
    assert_close(gw, wt.grad, cfg["dtype"], "grad_weight")
    assert_close(gb, bt.grad, cfg["dtype"], "grad_bias")


@given(cfg=conv_transpose_configs(max_batch=1))
def test_conv_transpose2d_unbatched_matches_torch(cfg):
    _, x, w, b = conv_arrays(cfg, transposed=True)
    got = F.conv_transpose2d(x[0], w, b, **conv_transpose_kwargs(cfg))
    want = TF.conv_transpose2d(to_torch(x[0]), to_torch(w), to_torch(b), **conv_transpose_kwargs(cfg))
    assert_close(got, want, cfg["dtype"], "conv_transpose2d unbatched")


@given(cfg=conv_configs(ndim=2, allow_string_padding=False))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(cfg):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)>: the transposed convolution is the transpose
    (adjoint) of the convolution with the same weight, stride, padding, dilation and groups (with the
    output_padding that restores the input size)."""
    rng, x, w, _ = conv_arrays(cfg)
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    y_shape = F.conv2d(x, w, **conv_kwargs(cfg)).shape
    y = rng.standard_normal(y_shape)
    s = np.broadcast_to(cfg["stride"], 2)
    p = np.broadcast_to(cfg["padding"], 2)
    d = np.broadcast_to(cfg["dilation"], 2)
    op = tuple(int(cfg["size"][i] - ((y_shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (w.shape[2 + i] - 1) + 1))
               for i in range(2))
    # torch only accepts output_padding < stride or < dilation: those are the cases to compare
    assume(all(op[i] < max(s[i], d[i]) for i in range(2)))
    xt = F.conv_transpose2d(y, w, stride=cfg["stride"], padding=cfg["padding"], output_padding=op,
                            groups=cfg["groups"], dilation=cfg["dilation"])
    assert xt.shape == x.shape
    lhs = float(np.sum(F.conv2d(x, w, **conv_kwargs(cfg)) * y))
    rhs = float(np.sum(x * xt))
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs))


def test_transpose_is_grad_input(rng):
    """conv_transpose2d(G, W) is conv2d_backward's grad_input, with output_padding = the leftover rows
    and columns after the last window ((10 + 2 - 3) mod 2 = 1, (9 + 2 - 3) mod 2 = 0)."""
    x, w = rng.standard_normal((1, 2, 10, 9)), rng.standard_normal((3, 2, 3, 3))
    g = rng.standard_normal(F.conv2d(x, w, stride=2, padding=1).shape)
    grad_input = F.conv2d_backward(g, x, w, stride=2, padding=1)[0]
    assert shapes.conv_leftover((10, 9), 3, stride=2, padding=1) == (1, 0)
    np.testing.assert_allclose(F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=(1, 0)), grad_input)


# ------------------------------------------------------------------------------------------------
# the fast path's blocks: results do not depend on how the im2col columns are cut
# ------------------------------------------------------------------------------------------------
def _torch_conv2d_and_grads(cfg):
    """Arrays drawn for ``cfg``, torch's conv2d of them, an upstream gradient ``g`` and torch's autograd
    of it: ``rng, (x, w, b), kw, g, (y, grad_input, grad_weight, grad_bias)`` (the last as torch tensors)."""
    rng, x, w, b = conv_arrays(cfg)
    kw = conv_kwargs(cfg)
    xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    yt = TF.conv2d(xt, wt, bt, **kw)
    g = randn(rng, tuple(yt.shape), cfg["dtype"])
    yt.backward(to_torch(g))
    return rng, (x, w, b), kw, g, (yt, xt.grad, wt.grad, bt.grad)


def _assert_conv2d_and_grads_are_torchs(cfg, **settings):
    """conv2d, its gradients and a weight gradient alone, with the conv module's ``settings`` patched,
    equal torch's forward and autograd for ``cfg``."""
    from cnnbook.functional import conv as conv_module

    rng, (x, w, b), kw, g, (yt, gxt, gwt, gbt) = _torch_conv2d_and_grads(cfg)
    with mock.patch.multiple(conv_module, **settings):
        y = F.conv2d(x, w, b, **kw)
        gx, gw, gb = F.conv2d_backward(g, x, w, **kw)
        gw_alone = F.conv2d_backward(g, x, w, **kw, output_mask=(False, True, False))[1]
    assert_close(y, yt, cfg["dtype"], "forward")
    for got, want, what in [(gx, gxt, "grad_input"), (gw, gwt, "grad_weight"), (gb, gbt, "grad_bias"),
                            (gw_alone, gwt, "grad_weight alone")]:
        assert_close(got, want, cfg["dtype"], what)


@pytest.mark.parametrize("budget", [1, 3000, 40000], ids=["output-rows", "few-samples", "many-samples"])
@given(cfg=conv_configs(ndim=2, allow_string_padding=False))
def test_conv2d_blocks_of_columns_match_torch(budget, cfg):
    """With a tiny column budget every sample is cut into blocks of output rows (1 byte: one row per
    block); with larger ones, several samples share a block. Forward and autograd still equal torch's."""
    from cnnbook.functional import conv as conv_module

    rng, (x, w, b), kw, g, (yt, gxt, gwt, gbt) = _torch_conv2d_and_grads(cfg)
    with mock.patch.object(conv_module, "_COLS_BUDGET", budget):
        y = F.conv2d(x, w, b, **kw)
        gx, gw, gb = F.conv2d_backward(g, x, w, **kw)
    assert_close(y, yt, cfg["dtype"], "forward")
    for got, want, what in [(gx, gxt, "grad_input"), (gw, gwt, "grad_weight"), (gb, gbt, "grad_bias")]:
        assert_close(got, want, cfg["dtype"], what)


@pytest.mark.parametrize("stack_min", [1, 10**9], ids=["all-stacked", "none-stacked"])
@given(cfg=conv_configs(ndim=2, allow_string_padding=False))
def test_conv2d_stacked_taps_match_torch(stack_min, cfg):
    """With stride 1 along the width the columns of the kernel's first column of taps, shifted, stand
    for the others (the weight's columns of taps stacked as rows; the gradient and its shifted copies
    in the backward pass) from ``C/groups k_h >= _STACK_MIN`` on: with every such layer stacked, and
    with none, the forward, the gradients and a weight gradient alone still equal torch's."""
    _assert_conv2d_and_grads_are_torchs(cfg, _STACK_MIN=stack_min)


@given(cfg=conv_configs(ndim=2, allow_string_padding=False))
def test_conv2d_paths_for_nonfinite_inputs_match_torch_on_finite_ones(cfg):
    """Every path chosen for inputs holding NaN or infinities (ordinary columns, col2im instead of the
    correlation, the weight gradient tap by tap or on its own) is exact for finite inputs too: a sum of
    squares beyond the dtype's range sends finite inputs there (``_finite`` is False), as here for all."""
    _assert_conv2d_and_grads_are_torchs(cfg, _finite=lambda a: False)


@pytest.mark.parametrize("c_in, c_out, kernel, kw", [
    (6, 16, (5, 5), {}),                                   # LeNet conv2: stacked forward and col2im
    (32, 16, (3, 3), dict(padding=2, dilation=2)),         # correlation, weight gradient transposed
    (64, 64, (3, 3), dict(padding=1)),                     # correlation, weight gradient as it is
    (16, 6, (5, 5), dict(padding=4)),                      # stride-1 transposed-convolution shape
    (32, 16, (3, 5), dict(padding=(1, 2), groups=2)),      # groups (16 channels each), a wide kernel
], ids=["lenet2", "dilated-32-16", "resnet-64", "16-6", "groups"])
def test_conv2d_stacked_layer_shapes_match_torch(c_in, c_out, kernel, kw):
    """Layers the size of the book's whose C/groups k_h reach the stacking threshold, float32."""
    rng = np.random.default_rng(7)
    groups = kw.get("groups", 1)
    x = rng.standard_normal((3, c_in, 12, 14), dtype=np.float32)
    w = rng.standard_normal((c_out, c_in // groups, *kernel), dtype=np.float32)
    b = rng.standard_normal(c_out, dtype=np.float32)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = TF.conv2d(xt, wt, bt, **kw)
    g = rng.standard_normal(tuple(yt.shape), dtype=np.float32)
    yt.backward(torch.from_numpy(g))
    assert_close(F.conv2d(x, w, b, **kw), yt, np.float32, "forward")
    for got, want, what in zip(F.conv2d_backward(g, x, w, **kw), (xt.grad, wt.grad, bt.grad),
                               ("grad_input", "grad_weight", "grad_bias")):
        assert_close(got, want, np.float32, what)


@pytest.mark.parametrize("slice_bytes", [1, 200], ids=["one-column", "few-columns"])
@given(cfg=conv_configs(ndim=2, allow_string_padding=False))
def test_conv2d_products_in_column_slices_match_torch(slice_bytes, cfg):
    """Products with few output rows are taken in slices of columns (the weight gradient's summed over
    the slices): with every product sliced, down to one column per slice, the forward and autograd
    still equal torch's."""
    _assert_conv2d_and_grads_are_torchs(cfg, _FEW_ROWS=10**9, _SLICE_BYTES=slice_bytes)


@pytest.mark.parametrize("parallel", [False, True], ids=["one-thread", "split"])
@given(cfg=conv_configs(ndim=2, allow_string_padding=False))
def test_results_outlive_the_kept_scratch(parallel, cfg):
    """The convolutions keep their scratch between calls: a result computed first still equals torch's
    after later calls (of the same shapes, other values) have reused that scratch, also when the samples
    are split between threads; after ``release_workspace`` the results are the same again."""
    from cnnbook.functional import conv as conv_module

    rng, (x, w, b), kw, g, (yt, gxt, gwt, gbt) = _torch_conv2d_and_grads(cfg)
    work = conv_module._PARALLEL_WORK if not parallel else 0.0
    with mock.patch.object(conv_module, "_PARALLEL_WORK", work):
        first = [F.conv2d(x, w, b, **kw), *F.conv2d_backward(g, x, w, **kw)]
        for _ in range(2):   # other values through the same scratch
            F.conv2d(x + 1, w * 2, b, **kw)
            F.conv2d_backward(g - 1, x * 3, w + 1, **kw)
        conv_module.release_workspace()
        again = [F.conv2d(x, w, b, **kw), *F.conv2d_backward(g, x, w, **kw)]
    for results in (first, again):
        for got, want, what in zip(results, (yt, gxt, gwt, gbt), ("forward", "grad_input", "grad_weight", "grad_bias")):
            assert_close(got, want, cfg["dtype"], what)


@given(cfg=conv_configs(ndim=2, allow_string_padding=False))
def test_ranges_of_samples_in_turn_or_in_parallel_give_the_same_numbers(cfg):
    """A call cut into ranges of samples hands them to other threads only while those are awake, else
    computes them one after the other: forward and backward give the same numbers bit for bit either
    way, and they equal torch's."""
    from threadpoolctl import threadpool_limits

    from cnnbook.functional import conv as conv_module

    rng, (x, w, b), kw, g, (yt, gxt, gwt, gbt) = _torch_conv2d_and_grads(cfg)
    results = {}
    with threadpool_limits(limits=2, user_api="blas"), mock.patch.object(conv_module, "_PARALLEL_WORK", 0):
        for mode, awake in (("in turn", -1.0), ("in parallel", 1e9)):   # the threads never / always awake
            with mock.patch.object(conv_module, "_AWAKE", awake):
                results[mode] = [F.conv2d(x, w, b, **kw), *F.conv2d_backward(g, x, w, **kw)]
    whats = ("forward", "grad_input", "grad_weight", "grad_bias")
    for got, want, what in zip(results["in turn"], results["in parallel"], whats):
        np.testing.assert_array_equal(got, want, err_msg=what)
    for got, want, what in zip(results["in parallel"], (yt, gxt, gwt, gbt), whats):
        assert_close(got, want, cfg["dtype"], what)


@given(cfg=conv_configs(ndim=2, allow_string_padding=False), tcfg=conv_transpose_configs())
def test_samples_split_between_threads_match_torch(cfg, tcfg):
    """Large calls split their samples between threads (two here, as if every call were large): the
    results equal torch's, and the BLAS library gets its number of threads back."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from cnnbook.functional import conv as conv_module

    rng, (x, w, b), kw, g, (yt, gxt, gwt, gbt) = _torch_conv2d_and_grads(cfg)
    _, tx, tw, tb = conv_arrays(tcfg, transposed=True)
    tkw = conv_transpose_kwargs(tcfg)
    ttx, ttw = to_torch(tx, True), to_torch(tw, True)
    ty = TF.conv_transpose2d(ttx, ttw, to_torch(tb), **tkw)
    tg = randn(rng, tuple(ty.shape), tcfg["dtype"])
    ty.backward(to_torch(tg))
    with threadpool_limits(limits=2, user_api="blas"), mock.patch.object(conv_module, "_PARALLEL_WORK", 0):
        y = F.conv2d(x, w, b, **kw)
        gx, gw, gb = F.conv2d_backward(g, x, w, **kw)
        y2 = F.conv_transpose2d(tx, tw, tb, **tkw)
        gx2, gw2, _ = F.conv_transpose2d_backward(tg, tx, tw, **tkw)
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {2}
    assert_close(y, yt, cfg["dtype"], "forward")
    for got, want, what in [(gx, gxt, "grad_input"), (gw, gwt, "grad_weight"), (gb, gbt, "grad_bias"),
                            (y2, ty, "conv_transpose2d"), (gx2, ttx.grad, "transposed grad_input"),
                            (gw2, ttw.grad, "transposed grad_weight")]:
        assert_close(got, want, cfg["dtype"] if "transposed" not in what and what != "conv_transpose2d"
                     else tcfg["dtype"], what)


@pytest.mark.parametrize("operand", ["input", "weight", "grad_output"])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan], ids=["inf", "-inf", "nan"])
@pytest.mark.parametrize("c_in, c_out, kernel, padding, stride", [
    (1, 1, (1, 2), 0, 1), (6, 16, (5, 5), 0, 1), (16, 6, (5, 5), 0, 1), (3, 4, (3, 3), 1, 1),
    (4, 4, (3, 3), 1, 2), (2, 3, (2, 3), (1, 0), 1)], ids=["1x2", "6-16", "16-6", "3-4-p1", "s2-p1", "p10"])
def test_conv2d_backward_with_nan_and_infinity_is_torchs(operand, value, c_in, c_out, kernel, padding, stride):
    """A NaN or infinite entry in the input, the weight or the upstream gradient (one at a random place,
    for the input also one at the start of a row): both gradients have NaN and infinities exactly where
    torch's have them, and torch's values elsewhere. The fast path must not multiply such an entry by
    a zero that is no term of the sum: the padding, or the discarded columns of wide windows."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, c_in, 7, 8)).astype(np.float32)
    w = rng.standard_normal((c_out, c_in, *kernel)).astype(np.float32)
    kw = dict(stride=stride, padding=padding)
    g = rng.standard_normal(F.conv2d(x, w, **kw).shape).astype(np.float32)
    target = {"input": x, "weight": w, "grad_output": g}[operand]
    target.flat[rng.integers(target.size)] = value
    if operand == "input":
        x[0, 0, 1, 0] = value
    xt, wt = to_torch(x, True), to_torch(w, True)
    TF.conv2d(xt, wt, **kw).backward(to_torch(g))
    with np.errstate(invalid="ignore", over="ignore"):   # inf - inf inside a product is NaN, as in torch
        gx, gw, _ = F.conv2d_backward(g, x, w, **kw)
    for got, want, what in [(gx, xt.grad.numpy(), "grad_input"), (gw, wt.grad.numpy(), "grad_weight")]:
        for kind in (np.isnan, np.isposinf, np.isneginf):
            np.testing.assert_array_equal(kind(got), kind(want), err_msg=f"{what}: where {kind.__name__}")
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-4, atol=1e-4, err_msg=what)
