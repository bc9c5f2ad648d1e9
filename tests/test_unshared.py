"""conv2d_unshared / conv2d_tiled (and their backward functions, and the layers LocallyConnected2d,
TiledConv2d) against a torch expression built from unfold + einsum, and autograd.

The torch twin: ``cols = unfold(X)`` (N, C_in k_h k_w, L); the kernel of position ``l = i W_out + j`` is
``W[:, i mod t_h, j mod t_w]``; ``Y[n, o, l] = sum_k cols[n, k, l] W_l[o, k] + b_l[o]``. Hypothesis draws
non-square kernels, per-axis stride, padding and dilation, tile sizes, float32/float64 and unbatched
inputs; both trees run. With every position's kernel equal, the unshared layer is conv2d.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

from cnnbook import functional as F
from cnnbook import nn, shapes
from helpers import BOTH_TREES, assert_close, conv_arrays, conv_configs, randn, to_numpy, to_torch

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")
BATCH = pytest.mark.parametrize("unbatched", [False, True], ids=["batched", "unbatched"])
CONFIGS = dict(max_spatial=7, max_batch=2, max_kernel=3, max_stride=2, max_dilation=2, max_groups=1,
               max_per_group=3)


def torch_tiled(x, w, b, out_size, stride, padding, dilation):
    """The tiled (or, with tiles = out_size, unshared) convolution in torch: unfold + einsum."""
    unbatched = x.dim() == 3
    x = x[None] if unbatched else x
    c_out, th, tw = w.shape[:3]
    ho, wo = out_size
    if isinstance(padding, str):      # torch's unfold takes ints: resolve 'same' (odd cell after) / 'valid'
        pairs = shapes.same_padding(tuple(w.shape[4:]), dilation) if padding == "same" else ((0, 0), (0, 0))
        x = TF.pad(x, (pairs[1][0], pairs[1][1], pairs[0][0], pairs[0][1]))
        padding = 0
    cols = TF.unfold(x, tuple(w.shape[4:]), dilation=dilation, padding=padding, stride=stride)
    rows, columns = torch.arange(ho) % th, torch.arange(wo) % tw
    w_full = w[:, rows][:, :, columns].reshape(c_out, ho * wo, -1)          # (C_out, L, C_in k k)
    y = torch.einsum("nkl,olk->nol", cols, w_full).reshape(x.shape[0], c_out, ho, wo)
    if b is not None:
        y = y + b[:, rows][:, :, columns]
    return y[0] if unbatched else y


@st.composite
def unshared_configs(draw, tiled: bool):
    cfg = draw(conv_configs(**CONFIGS))
    out = shapes.conv_output_size(cfg["size"], cfg["kernel"], cfg["stride"] if cfg["padding"] != "same" else 1,
                                  0 if cfg["padding"] == "valid" else (
                                      shapes.same_padding(cfg["kernel"], cfg["dilation"]) if cfg["padding"] == "same"
                                      else cfg["padding"]),
                                  cfg["dilation"])
    out = tuple(out) if isinstance(out, tuple) else (out, out)
    tiles = tuple(draw(st.integers(1, o)) for o in out) if tiled else out
    return dict(cfg, out=out, tiles=tiles)


def _arrays(cfg, unbatched):
    rng, x, _, _ = conv_arrays(cfg)
    w = randn(rng, (cfg["c_out"], *cfg["tiles"], cfg["c_in"], *cfg["kernel"]), cfg["dtype"])
    b = randn(rng, (cfg["c_out"], *cfg["tiles"]), cfg["dtype"])
    return rng, (x[0] if unbatched else x), w, b


def _kwargs(cfg):
    return dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"])


def _check(module, cfg, unbatched, name):
    rng, x, w, b = _arrays(cfg, unbatched)
    leaves = xt, wt, bt = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    y = torch_tiled(xt, wt, bt, cfg["out"], **_kwargs(cfg))
    assert_close(getattr(module, name)(x, w, b, **_kwargs(cfg)), y, cfg["dtype"], name)
    g = randn(rng, tuple(y.shape), cfg["dtype"])
    y.backward(to_torch(g))
    grads = getattr(module, name + "_backward")(g, x, w, **_kwargs(cfg))
    for got, leaf, what in zip(grads, leaves, ("gi", "gw", "gb")):
        assert_close(got, leaf.grad, cfg["dtype"], f"{name} {what}")


@BOTH_TREES
@BATCH
@pytest.mark.parametrize("name", ["conv2d_unshared", "conv2d_tiled"])
@settings(max_examples=20)
@given(data=st.data())
def test_unshared_and_tiled_and_their_backward_match_torch_unfold_einsum(module, unbatched, name, data):
    _check(module, data.draw(unshared_configs(tiled=name == "conv2d_tiled")), unbatched, name)


@BOTH_TREES
@settings(max_examples=15)
@given(cfg=unshared_configs(tiled=False))
def test_unshared_with_the_same_kernel_everywhere_is_conv2d(module, cfg):
    """Copy one kernel to every position (and one bias): the layer is torch's conv2d; so is the tiled
    layer with one tile."""
    rng, x, w, b = conv_arrays(cfg)
    ho, wo = cfg["out"]
    w_all = np.broadcast_to(w[:, None, None], (w.shape[0], ho, wo, *w.shape[1:])).copy()
    b_all = np.broadcast_to(b[:, None, None], (b.shape[0], ho, wo)).copy()
    want = TF.conv2d(to_torch(x), to_torch(w), to_torch(b), **_kwargs(cfg))
    assert_close(module.conv2d_unshared(x, w_all, b_all, **_kwargs(cfg)), want, cfg["dtype"], "unshared")
    assert_close(module.conv2d_tiled(x, w[:, None, None], b[:, None, None], **_kwargs(cfg)), want, cfg["dtype"],
                 "tiled, t = 1")


def test_tiled_with_the_output_size_is_unshared(rng):
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 4, 3, 3, 3, 3)), rng.standard_normal((4, 4, 3))
    np.testing.assert_array_equal(F.conv2d_tiled(x, w, b), F.conv2d_unshared(x, w, b))


def test_layers_match_the_torch_expression_and_count_their_parameters(rng):
    """LocallyConnected2d / TiledConv2d: forward, backward (dL/dx and the accumulated .grad) and the number
    of parameters (cnnbook.shapes) against the torch twin."""
    x = rng.standard_normal((3, 2, 9, 8))
    for layer, tiles in ((nn.LocallyConnected2d(2, 4, (3, 2), (9, 8), stride=(2, 1), padding=1, dtype=np.float64, rng=0),
                          None),
                         (nn.TiledConv2d(2, 4, (3, 2), (2, 3), stride=(2, 1), padding=1, dtype=np.float64, rng=0),
                          (2, 3))):
        state = layer.state_dict()
        assert list(state) == ["weight", "bias"]
        wt, bt = to_torch(state["weight"], True), to_torch(state["bias"], True)
        xt = to_torch(x, True)
        out = shapes.conv_output_size((9, 8), (3, 2), (2, 1), 1)
        y = torch_tiled(xt, wt, bt, out, stride=(2, 1), padding=1, dilation=1)
        assert_close(layer(x), y, np.float64, type(layer).__name__)
        g = rng.standard_normal(tuple(y.shape))
        y.backward(to_torch(g))
        assert_close(layer.backward(g), xt.grad, np.float64, "dL/dx")
        assert_close(layer.weight.grad, wt.grad, np.float64, "dL/dW")
        assert_close(layer.bias.grad, bt.grad, np.float64, "dL/db")
        count = sum(p.data.size for p in layer.parameters())
        want = (shapes.unshared_parameters(2, 4, (3, 2), out) if tiles is None
                else shapes.tiled_parameters(2, 4, (3, 2), tiles))
        assert count == want == wt.numel() + bt.numel()


def z(*shape):
    return np.zeros(shape)


CASES = [
    ("unshared_weight_not_matching_the_output", lambda m: m.conv2d_unshared(z(1, 2, 6, 6), z(3, 5, 4, 2, 3, 3)),
     r"weight.shape\[1:3\] must be the output size \(H_out, W_out\) = \(4, 4\), got \(5, 4\)"),
    ("unshared_channel_mismatch", lambda m: m.conv2d_unshared(z(1, 2, 6, 6), z(3, 4, 4, 1, 3, 3)),
     r"channel mismatch: input has 2 channels but weight.shape\[3\] = 1"),
    ("unshared_bias_shape", lambda m: m.conv2d_unshared(z(1, 2, 6, 6), z(3, 4, 4, 2, 3, 3), z(3)),
     r"bias must be 3-D"),
    ("unshared_bias_positions", lambda m: m.conv2d_unshared(z(1, 2, 6, 6), z(3, 4, 4, 2, 3, 3), z(3, 4, 3)),
     r"bias must have shape \(C_out, H_out, W_out\) = \(3, 4, 4\), got \(3, 4, 3\)"),
    ("unshared_4d_weight", lambda m: m.conv2d_unshared(z(1, 2, 6, 6), z(3, 2, 3, 3)), r"weight must be 6-D"),
    ("unshared_kernel_too_large", lambda m: m.conv2d_unshared(z(1, 1, 3, 3), z(1, 1, 1, 1, 4, 4)),
     r"kernel size 4 can't be greater than the padded input size 3"),
    ("tiled_tiles_larger_than_output", lambda m: m.conv2d_tiled(z(1, 1, 4, 4), z(1, 3, 1, 1, 3, 3)),
     r"tile size \(t_h, t_w\) = weight.shape\[1:3\] = \(3, 1\) must not exceed the output size"),
    ("tiled_same_with_stride", lambda m: m.conv2d_tiled(z(1, 1, 4, 4), z(1, 1, 1, 1, 3, 3), stride=2, padding="same"),
     r"padding='same' is not supported for strided convolutions"),
]


@BOTH_TREES
@pytest.mark.parametrize("call, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected(module, call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(module)


@BOTH_TREES
def test_backward_checks_the_shape_of_grad_output(module):
    with pytest.raises(ValueError, match=r"grad_output must have the shape of the output \(1, 3, 4, 4\)"):
        module.conv2d_unshared_backward(z(1, 3, 4, 3), z(1, 2, 6, 6), z(3, 4, 4, 2, 3, 3))


@pytest.mark.parametrize("name", ["conv2d_unshared", "conv2d_tiled"])
@settings(max_examples=15)
@given(data=st.data())
def test_reference_loops_equal_the_fast_path(name, data):
    from cnnbook import reference as R

    cfg = data.draw(unshared_configs(tiled=name == "conv2d_tiled"))
    rng, x, w, b = _arrays(cfg, False)
    assert_close(getattr(R, name)(x, w, b, **_kwargs(cfg)), getattr(F, name)(x, w, b, **_kwargs(cfg)), cfg["dtype"])
    g = randn(rng, (x.shape[0], cfg["c_out"], *cfg["out"]), cfg["dtype"])
    ref = getattr(R, name + "_backward")(g, x, w, **_kwargs(cfg))
    fast = getattr(F, name + "_backward")(g, x, w, **_kwargs(cfg))
    for r, f, what in zip(ref, fast, ("gi", "gw", "gb")):
        assert_close(r, f, cfg["dtype"], what)
