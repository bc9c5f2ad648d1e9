"""cnnbook.shapes against the shapes torch actually produces, and receptive fields against autograd."""
import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

from cnnbook import shapes


@given(size=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 3),
       d=st.integers(1, 3))
def test_conv_output_size_matches_torch(size, k, s, p, d):
    if size + 2 * p < d * (k - 1) + 1:  # torch rejects it: nothing to compare
        return
    y = TF.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
    assert shapes.conv_output_size(size, k, s, p, d) == y.shape[-1]


@given(h=st.integers(1, 12), w=st.integers(1, 12), k=st.integers(1, 4), s=st.integers(1, 3))
def test_conv_output_size_pairs(h, w, k, s):
    if min(h, w) < k:
        return
    y = TF.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, k, 1), stride=(s, 1))
    assert tuple(shapes.conv_output_size((h, w), (k, 1), (s, 1))) == tuple(y.shape[-2:])


@given(size=st.integers(1, 12), k=st.integers(1, 5), s=st.one_of(st.none(), st.integers(1, 4)),
       d=st.integers(1, 3), ceil_mode=st.booleans(), data=st.data())
def test_pool_output_size_matches_torch(size, k, s, d, ceil_mode, data):
    p = data.draw(st.integers(0, k // 2))
    try:
        y = TF.max_pool2d(torch.zeros(1, 1, 1, size), (1, k), None if s is None else (1, s), (0, p), (1, d),
                          ceil_mode=ceil_mode)
    except RuntimeError:  # output size < 1: torch rejects it
        return
    assert shapes.pool_output_size(size, k, s, p, d, ceil_mode) == y.shape[-1]


@given(size=st.integers(1, 8), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 3), data=st.data())
def test_conv_transpose_output_size_matches_torch(size, k, s, p, d, data):
    op = data.draw(st.integers(0, max(s, d) - 1))
    try:
        y = TF.conv_transpose1d(torch.zeros(1, 1, size), torch.zeros(1, 1, k), stride=s, padding=p,
                                output_padding=op, dilation=d)
    except RuntimeError:
        return
    assert shapes.conv_transpose_output_size(size, k, s, p, op, d) == y.shape[-1]


def test_receptive_field_of_dilated_stack_is_3_7_15():
    layers = [(3, 1, 1), (3, 1, 2), (3, 1, 4)]
    assert [shapes.receptive_field(layers[:i]) for i in (1, 2, 3)] == [3, 7, 15]
    assert [r for r, _ in shapes.receptive_fields(layers)] == [3, 7, 15]


def test_receptive_field_with_stride_by_hand():
    """conv 3x3 s1 -> r=3, j=1; pool 2 s2 -> r = 3 + 1*1 = 4, j=2; conv 3x3 s1 -> r = 4 + 2*2 = 8."""
    layers = [(3, 1, 1), (2, 2, 1), (3, 1, 1)]
    assert shapes.receptive_fields(layers) == [(3, 1), (4, 2), (8, 2)]
    assert shapes.receptive_field(layers) == 8


@given(layers=st.lists(st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 2)),
                       min_size=1, max_size=3))
def test_receptive_field_is_the_support_of_the_input_gradient(layers):
    """Stack 1-D convolutions with all-ones weights in torch; the input gradient of the first output
    unit is nonzero exactly on its receptive field."""
    x = torch.zeros(1, 1, 80, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, d in layers:
        y = TF.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    y[0, 0, 0].backward()
    support = np.nonzero(x.grad[0, 0].numpy())[0]
    assert shapes.receptive_field(layers) == support.max() - support.min() + 1


def test_pool_output_size_ceil_mode_window_larger_than_input():
    """torch accepts ceil_mode pooling whose window is larger than the padded input (the output has
    one partial window), e.g. size 1, kernel 2 -> 1 and size 3, kernel 4, stride 2 -> 1 (each compared
    with the shape torch produces)."""
    for size, k, s, p, d in [(1, 2, None, 0, 1), (3, 4, 2, 0, 1), (4, 3, 2, 1, 2)]:
        y = TF.max_pool2d(torch.zeros(1, 1, 1, size), (1, k), None if s is None else (1, s), (0, p), (1, d),
                          ceil_mode=True)
        assert shapes.pool_output_size(size, k, s, p, d, ceil_mode=True) == y.shape[-1], (size, k, s, p, d)
