"""batch_norm and batch_norm_backward (fast path and loops) against torch.nn.functional.batch_norm and
autograd, in training and evaluation mode, with the running statistics torch updates; against central
finite differences; and bad input against torch's rejections."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, strategies as st

from cnnbook import functional as F
from cnnbook.check import central_difference
from helpers import BOTH_TREES, assert_close, dtypes, randn, seeds, to_torch


@st.composite
def bn_configs(draw):
    ndim = draw(st.sampled_from([2, 3, 4]))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) + tuple(
        draw(st.integers(1, 4)) for _ in range(ndim - 2))
    training = draw(st.booleans())
    values_per_channel = int(np.prod(shape)) // shape[1]
    assume(not training or values_per_channel > 1)        # torch's rule: more than one value to average
    return dict(shape=shape, training=training, affine=draw(st.booleans()),
                running=draw(st.booleans()) or not training,  # evaluation mode needs the running statistics
                momentum=draw(st.sampled_from([0.0, 0.1, 0.5, 1.0])), eps=draw(st.sampled_from([1e-5, 1e-3, 0.5])),
                dtype=draw(dtypes), seed=draw(seeds))


def _arrays(cfg):
    rng = np.random.default_rng(cfg["seed"])
    dt, c = cfg["dtype"], cfg["shape"][1]
    x = (randn(rng, cfg["shape"], dt) * 2 + 1).astype(dt)
    w = randn(rng, (c,), dt) if cfg["affine"] else None
    b = randn(rng, (c,), dt) if cfg["affine"] else None
    rm = randn(rng, (c,), dt) if cfg["running"] else None
    rv = (rng.random(c) + 0.5).astype(dt) if cfg["running"] else None
    return rng, x, w, b, rm, rv


def _t(a, grad=False):
    return None if a is None else to_torch(a, grad)


@BOTH_TREES
@given(cfg=bn_configs())
def test_batch_norm_forward_and_running_statistics_match_torch(module, cfg):
    _, x, w, b, rm, rv = _arrays(cfg)
    trm, trv = _t(rm), _t(rv)
    yt = TF.batch_norm(to_torch(x), trm, trv, _t(w), _t(b), training=cfg["training"], momentum=cfg["momentum"],
                       eps=cfg["eps"])
    y = module.batch_norm(x, rm, rv, w, b, training=cfg["training"], momentum=cfg["momentum"], eps=cfg["eps"])
    assert_close(y, yt, cfg["dtype"], "batch_norm")
    if rm is not None:                     # updated in place in training mode, untouched in evaluation mode
        assert_close(rm, trm, cfg["dtype"], "running_mean")
        assert_close(rv, trv, cfg["dtype"], "running_var")


@BOTH_TREES
@given(cfg=bn_configs())
def test_batch_norm_backward_matches_autograd(module, cfg):
    rng, x, w, b, rm, rv = _arrays(cfg)
    xt, wt, bt = to_torch(x, True), _t(w, True), _t(b, True)
    yt = TF.batch_norm(xt, _t(rm), _t(rv), wt, bt, training=cfg["training"], eps=cfg["eps"])
    g = randn(rng, x.shape, cfg["dtype"])
    yt.backward(to_torch(g))
    gi, gw, gb = module.batch_norm_backward(g, x, rm, rv, w, b, training=cfg["training"], eps=cfg["eps"])
    assert_close(gi, xt.grad, cfg["dtype"], "grad_input")
    if w is not None:
        assert_close(gw, wt.grad, cfg["dtype"], "grad_weight")
        assert_close(gb, bt.grad, cfg["dtype"], "grad_bias")
    else:                                  # what an affine layer with weight 1, bias 0 would receive
        ones, zeros = (to_torch(np.full(x.shape[1], v, cfg["dtype"]), True) for v in (1.0, 0.0))
        TF.batch_norm(to_torch(x), _t(rm), _t(rv), ones, zeros, training=cfg["training"],
                      eps=cfg["eps"]).backward(to_torch(g))
        assert_close(gw, ones.grad, cfg["dtype"], "grad_weight without weight")
        assert_close(gb, zeros.grad, cfg["dtype"], "grad_bias without bias")


@pytest.mark.parametrize("training", [True, False], ids=["training", "evaluation"])
def test_batch_norm_backward_matches_finite_differences(training):
    rng = np.random.default_rng(7)
    x, g = rng.standard_normal((3, 2, 2, 2)), rng.standard_normal((3, 2, 2, 2))
    w, b = rng.standard_normal(2), rng.standard_normal(2)
    rm, rv = rng.standard_normal(2), rng.random(2) + 0.5

    def loss():                            # copies: the forward must not move the statistics under test
        return float(np.sum(g * F.batch_norm(x, rm.copy(), rv.copy(), w, b, training=training)))

    gi, gw, gb = F.batch_norm_backward(g, x, rm, rv, w, b, training=training)
    for ours, wrt in ((gi, x), (gw, w), (gb, b)):
        np.testing.assert_allclose(ours, central_difference(loss, wrt), rtol=1e-6, atol=1e-8)


def test_batch_norm_training_output_is_standardised_per_channel():
    """A worked example: per channel, training mode gives mean 0 and (biased) variance 1/(1 + eps/var)."""
    x = np.array([[1.0, 10.0], [3.0, 30.0]])                    # (N=2, C=2): means 2 and 20, variances 1, 100
    rm, rv = np.zeros(2), np.ones(2)
    y = F.batch_norm(x, rm, rv, training=True, momentum=0.5, eps=0.0 + 1e-12)
    np.testing.assert_allclose(y, [[-1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_allclose(rm, [1.0, 10.0])                 # halfway from 0 to the batch means
    np.testing.assert_allclose(rv, [0.5 + 0.5 * 2.0, 0.5 + 0.5 * 200.0])  # unbiased: 2 and 200


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(running_mean=np.zeros(3)), r"running_mean must have shape \(C,\) = \(2,\)"),
    (dict(running_var=np.ones(3)), r"running_var must have shape \(C,\) = \(2,\)"),
    (dict(weight=np.ones(3)), r"weight must have shape \(C,\) = \(2,\)"),
    (dict(momentum=1.5, training=True), r"momentum must be in \[0, 1\], got 1.5"),
    (dict(momentum=-0.1, training=True), r"momentum must be in \[0, 1\]"),
    (dict(eps=0.0), r"eps must be > 0, got 0.0"),
    (dict(running_mean=None, running_var=None), "must be given in evaluation mode"),
])
def test_batch_norm_bad_arguments(kwargs, pattern):
    args = dict(running_mean=np.zeros(2), running_var=np.ones(2))
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        F.batch_norm(np.ones((4, 2, 3)), **args)


def test_batch_norm_rejects_what_torch_rejects():
    x = np.ones((4, 2, 3))
    with pytest.raises(RuntimeError, match="running_mean should contain 2 elements not 3"):
        TF.batch_norm(torch.ones(4, 2, 3), torch.zeros(3), torch.ones(2))
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        F.batch_norm(np.ones((1, 2)), np.zeros(2), np.ones(2), training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        TF.batch_norm(torch.ones(1, 2), torch.zeros(2), torch.ones(2), training=True)
    with pytest.raises(ValueError, match=r"input must be 2-D or 3-D or 4-D"):
        F.batch_norm(np.ones(4), np.zeros(4), np.ones(4))
    with pytest.raises(TypeError, match="updated in place"):   # a list cannot be updated in place
        F.batch_norm(x, [0.0, 0.0], np.ones(2), training=True)
    with pytest.raises(ValueError, match=r"grad_output must have the shape of the input \(4, 2, 3\)"):
        F.batch_norm_backward(np.ones((4, 2)), x, None, None, training=True)
