"""The counts of cnnbook.shapes for the convolution family against torch, and against the notes' ratios.

Parameters: the number of entries of the equivalent torch layers (``sum(p.numel())``); multiplications:
torch's own FLOP counter (``torch.utils.flop_counter.FlopCounterMode``, two FLOPs per multiply-add) run
on the equivalent torch computation; ratios: the study notes' formulas, ``1/N_c + 1/h²`` (depthwise
separable) and ``1/m + 1/(m(1 − (m − 1)/N))`` → ``2/m`` (spatially separable).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st
from torch.utils.flop_counter import FlopCounterMode

from cnnbook import functional as F
from cnnbook import shapes as S
from helpers import assert_close, to_torch

channels = st.integers(1, 12)
kernels = st.integers(1, 5)


def n_parameters(*modules: torch.nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def multiplies(fn) -> int:
    """Multiply-adds torch counts when it runs ``fn()`` (its FLOP counter counts two per multiply-add)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    assert counter.get_total_flops() % 2 == 0
    return counter.get_total_flops() // 2


def depthwise_separable(c_in, c_out, k, bias):
    return (torch.nn.Conv2d(c_in, c_in, k, groups=c_in, bias=bias, device="meta"),
            torch.nn.Conv2d(c_in, c_out, 1, bias=bias, device="meta"))


@given(c_in=channels, c_out=channels, k=kernels, size=st.integers(5, 12), bias=st.booleans())
@settings(max_examples=25)
def test_depthwise_separable_counts_equal_torch(c_in, c_out, k, size, bias):
    depthwise, pointwise = depthwise_separable(c_in, c_out, k, bias)
    assert S.depthwise_separable_parameters(c_in, c_out, k, bias=bias) == n_parameters(depthwise, pointwise)
    x = torch.zeros(1, c_in, size, size)
    counted = multiplies(lambda: TF.conv2d(TF.conv2d(x, torch.zeros(c_in, 1, k, k), groups=c_in),
                                           torch.zeros(c_out, c_in, 1, 1)))
    assert S.depthwise_separable_multiplies(c_in, c_out, k, size - k + 1) == counted


@given(c_in=channels, c_out=channels, k=kernels, size=st.integers(5, 12))
@settings(max_examples=25)
def test_depthwise_separable_ratio_is_the_notes_formula(c_in, c_out, k, size):
    """Multiplies divided by the standard layer's: exactly 1/C_out + 1/k², whatever C_in and the size."""
    n_out = size - k + 1
    ratio = S.depthwise_separable_multiplies(c_in, c_out, k, n_out) / S.conv_multiplies(c_in, c_out, k, n_out)
    assert ratio == pytest.approx(1 / c_out + 1 / k ** 2, rel=1e-12)
    assert S.depthwise_separable_ratio(c_out, k) == pytest.approx(ratio, rel=1e-12)


def torch_spatially_separable(x, a, b, padding):
    """Kernels ``W[o, c] = a[o, c] b[o, c]^T`` applied as two 1-D passes in torch: column filters
    (k_h x 1, one per (c, o) pair, groups = C_in), then row filters (1 x k_w) summed over c (groups = C_out)."""
    c_out, c_in, kh = a.shape
    kw = b.shape[2]
    ph, pw = padding
    columns = TF.conv2d(x, a.permute(1, 0, 2).reshape(c_in * c_out, 1, kh, 1), padding=(ph, pw), groups=c_in)
    n, _, ho, wp = columns.shape     # channels ordered (c, o): regroup them as (o, c) for the row pass
    columns = columns.reshape(n, c_in, c_out, ho, wp).transpose(1, 2).reshape(n, c_out * c_in, ho, wp)
    return TF.conv2d(columns, b.reshape(c_out, c_in, 1, kw), groups=c_out)


@given(c_in=st.integers(1, 4), c_out=st.integers(1, 4), kh=kernels, kw=kernels, h=st.integers(5, 10),
       w=st.integers(5, 10), ph=st.integers(0, 2), pw=st.integers(0, 2), seed=st.integers(0, 2**31))
@settings(max_examples=25)
def test_spatially_separable_counts_equal_torch_two_passes(c_in, c_out, kh, kw, h, w, ph, pw, seed):
    """The two passes compute the convolution with the outer-product kernels, with as many parameters
    and multiplications as cnnbook.shapes counts."""
    rng = np.random.default_rng(seed)
    x, a, b = (torch.tensor(rng.standard_normal(s)) for s in ((2, c_in, h, w), (c_out, c_in, kh), (c_out, c_in, kw)))
    full = torch.einsum("ocu,ocv->ocuv", a, b)
    assert_close(torch_spatially_separable(x, a, b, (ph, pw)).numpy(),
                 F.conv2d(x.numpy(), full.numpy(), padding=(ph, pw)), np.float64, "two passes")
    counted = multiplies(lambda: torch_spatially_separable(x[:1], a, b, (ph, pw)))
    assert S.spatially_separable_multiplies(c_in, c_out, (kh, kw), (h, w), padding=(ph, pw)) == counted
    assert S.spatially_separable_parameters(c_in, c_out, (kh, kw), bias=False) == a.numel() + b.numel()


@given(m=st.integers(1, 9), n=st.integers(9, 200))
def test_spatially_separable_ratio_is_the_notes_formula_and_tends_to_2_over_m(m, n):
    """One channel, an N x N image, an m x m kernel, no padding: (N − m + 1) N m + (N − m + 1)² m
    multiplications against (N − m + 1)² m², the notes' ratio."""
    counted = S.spatially_separable_multiplies(1, 1, m, n) / S.conv_multiplies(1, 1, m, n - m + 1)
    by_hand = ((n - m + 1) * n * m + (n - m + 1) ** 2 * m) / ((n - m + 1) ** 2 * m * m)
    assert counted == pytest.approx(by_hand, rel=1e-12)
    assert S.spatially_separable_ratio(m, n) == pytest.approx(counted, rel=1e-12)
    assert S.spatially_separable_ratio(m, 10 ** 7) == pytest.approx(2 / m, rel=1e-5)


@given(c_in=channels, c_out=st.integers(1, 4), k=kernels, g=st.integers(1, 4), size=st.integers(5, 10),
       bias=st.booleans())
@settings(max_examples=25)
def test_grouped_counts_equal_torch(c_in, c_out, k, g, size, bias):
    c_in, c_out = c_in * g, c_out * g
    layer = torch.nn.Conv2d(c_in, c_out, k, groups=g, bias=bias, device="meta")
    assert S.conv_parameters(c_in, c_out, k, groups=g, bias=bias) == n_parameters(layer)
    counted = multiplies(lambda: TF.conv2d(torch.zeros(1, c_in, size, size), torch.zeros(c_out, c_in // g, k, k),
                                           groups=g))
    assert S.conv_multiplies(c_in, c_out, k, size - k + 1, groups=g) == counted
    assert counted * g == S.conv_multiplies(c_in, c_out, k, size - k + 1)      # 1/g of the standard layer


@given(c_in=st.integers(1, 4), c_out=st.integers(1, 4), kh=kernels, kw=kernels, h=st.integers(5, 9),
       w=st.integers(5, 9), bias=st.booleans())
@settings(max_examples=25)
def test_unshared_and_tiled_counts_equal_the_torch_expression(c_in, c_out, kh, kw, h, w, bias):
    """The unshared layer in torch, one matrix product per position (``torch.bmm`` over the columns of
    unfold): its weight and bias entries, and its multiplies."""
    ho, wo = h - kh + 1, w - kw + 1
    weight = torch.zeros(c_out, ho * wo, c_in * kh * kw)
    entries = weight.numel() + (c_out * ho * wo if bias else 0)
    assert S.unshared_parameters(c_in, c_out, (kh, kw), (ho, wo), bias=bias) == entries
    cols = TF.unfold(torch.zeros(1, c_in, h, w), (kh, kw))
    counted = multiplies(lambda: torch.bmm(weight.transpose(0, 1), cols.permute(2, 1, 0)))   # (L, C_out, N)
    assert S.unshared_multiplies(c_in, c_out, (kh, kw), (ho, wo)) == counted == S.conv_multiplies(
        c_in, c_out, (kh, kw), (ho, wo))
    assert S.tiled_parameters(c_in, c_out, (kh, kw), (ho, wo), bias=bias) == entries
    assert S.tiled_parameters(c_in, c_out, (kh, kw), 1, bias=bias) == n_parameters(
        torch.nn.Conv2d(c_in, c_out, (kh, kw), bias=bias, device="meta"))


@pytest.mark.parametrize("call, message", [
    (lambda: S.depthwise_separable_parameters(0, 4, 3), r"in_channels must be a positive int"),
    (lambda: S.spatially_separable_multiplies(4, 6, 3, 8, groups=4), r"groups=4 must divide the output channels"),
    (lambda: S.spatially_separable_ratio(5, 3), r"kernel_size \(5\) must not exceed the image size \(3\)"),
    (lambda: S.unshared_parameters(2, 2, 3, (4, 0)), r"output_size must be a positive int"),
    (lambda: S.tiled_parameters(2, 2, (3, 3, 3), 2), r"kernel_size must be an int or a tuple of 2 ints"),
])
def test_counts_reject_bad_sizes(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
