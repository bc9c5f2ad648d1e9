"""cnnbook.shapes against the shapes torch actually produces, receptive fields against autograd, and the
size captions against torch's sizes and hand-written strings."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, strategies as st

from cnnbook import shapes

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")


def _value(caption: str) -> int:
    """The number a caption evaluates to: the first one after its last ' = '."""
    return int(re.match(r"\d+", caption.rsplit(" = ", 1)[1]).group())


def _torch_pool_size(size, k, s, p, d, ceil_mode):
    """torch's max_pool2d output size along one axis, or None if torch rejects the configuration."""
    try:
        y = TF.max_pool2d(torch.zeros(1, 1, 1, size), (1, k), None if s is None else (1, s), (0, p), (1, d),
                          ceil_mode=ceil_mode)
    except RuntimeError:  # output size < 1
        return None
    return y.shape[-1]


def _torch_conv_transpose_size(size, k, s, p, op, d):
    try:
        y = TF.conv_transpose1d(torch.zeros(1, 1, size), torch.zeros(1, 1, k), stride=s, padding=p,
                                output_padding=op, dilation=d)
    except RuntimeError:
        return None
    return y.shape[-1]


# ------------------------------------------------------------------------------------------------
# sizes
# ------------------------------------------------------------------------------------------------
@given(size=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 3),
       d=st.integers(1, 3))
def test_conv_output_size_matches_torch(size, k, s, p, d):
    assume(size + 2 * p >= d * (k - 1) + 1)  # else torch rejects it: nothing to compare
    y = TF.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
    assert shapes.conv_output_size(size, k, s, p, d) == y.shape[-1]
    assert shapes.conv_output_size_text(size, k, s, p, d).endswith(f"= {y.shape[-1]}")


@given(h=st.integers(1, 12), w=st.integers(1, 12), k=st.integers(1, 4), s=st.integers(1, 3))
def test_conv_output_size_pairs(h, w, k, s):
    assume(min(h, w) >= k)
    y = TF.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, k, 1), stride=(s, 1))
    assert tuple(shapes.conv_output_size((h, w), (k, 1), (s, 1))) == tuple(y.shape[-2:])


@given(size=st.integers(1, 12), k=st.integers(1, 5), d=st.integers(1, 3), before=st.integers(0, 3),
       after=st.integers(0, 3), s=st.integers(1, 3))
def test_conv_output_size_with_padding_before_and_after(size, k, d, before, after, s):
    """A (before, after) pair: torch's conv1d of the input padded by F.pad with those amounts."""
    assume(size + before + after >= d * (k - 1) + 1)
    x = TF.pad(torch.zeros(1, 1, size), (before, after))
    y = TF.conv1d(x, torch.zeros(1, 1, k), stride=s, dilation=d)
    assert shapes.conv_output_size(size, k, s, [(before, after)], d) == (y.shape[-1],)
    assert shapes.conv_output_size((size, 4), (k, 1), (s, 1), ((before, after), 0), (d, 1))[0] == y.shape[-1]


@given(size=st.integers(1, 12), k=st.integers(1, 5), d=st.integers(1, 3))
def test_same_padding_keeps_the_size_as_torch(size, k, d):
    """'same' pads d(k - 1) in all, the odd one after (torch pads the extra one on the right)."""
    before, after = shapes.same_padding(k, d)
    assert before + after == d * (k - 1) and after - before in (0, 1)
    x = torch.randn(1, 1, size, dtype=torch.float64)
    w = torch.randn(1, 1, k, dtype=torch.float64)
    same = TF.conv1d(x, w, padding="same", dilation=d)
    padded = TF.conv1d(TF.pad(x, (before, after)), w, dilation=d)
    torch.testing.assert_close(same, padded)
    assert shapes.conv_output_size(size, k, 1, [(before, after)], d) == (size,)


@given(size=st.integers(1, 12), k=st.integers(1, 4), s=st.integers(1, 4), p=st.integers(0, 2),
       d=st.integers(1, 3))
def test_conv_leftover_is_the_output_padding_that_restores_the_size(size, k, s, p, d):
    """conv_transpose1d of the conv output with output_padding = the leftover has the input's size
    (torch accepts that output_padding only when it is < stride or < dilation)."""
    assume(size + 2 * p >= d * (k - 1) + 1)
    leftover = shapes.conv_leftover(size, k, s, p, d)
    assert leftover == (size + 2 * p - d * (k - 1) - 1) % s
    out = shapes.conv_output_size(size, k, s, p, d)
    assume(leftover < max(s, d))
    assert _torch_conv_transpose_size(out, k, s, p, leftover, d) == size


def test_effective_kernel_size_is_k_plus_k_minus_1_times_d_minus_1():
    """The notes' K + (K - 1)(D - 1) for the dilated kernel: 3 with D = 2 spans 5, with D = 4 spans 9."""
    assert [shapes.effective_kernel_size(3, d) for d in (1, 2, 4)] == [3, 5, 9]
    assert shapes.effective_kernel_size((5, 2), (3, 1)) == (13, 2)


@given(size=st.integers(1, 12), k=st.integers(1, 5), s=st.one_of(st.none(), st.integers(1, 4)),
       d=st.integers(1, 3), ceil_mode=st.booleans(), data=st.data())
def test_pool_output_size_matches_torch(size, k, s, d, ceil_mode, data):
    p = data.draw(st.integers(0, k // 2))
    want = _torch_pool_size(size, k, s, p, d, ceil_mode)
    assume(want is not None)
    assert shapes.pool_output_size(size, k, s, p, d, ceil_mode) == want
    assert _value(shapes.pool_output_size_text(size, k, s, p, d, ceil_mode)) == want


@given(size=st.integers(1, 8), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 3), data=st.data())
def test_conv_transpose_output_size_matches_torch(size, k, s, p, d, data):
    op = data.draw(st.integers(0, max(s, d) - 1))
    want = _torch_conv_transpose_size(size, k, s, p, op, d)
    assume(want is not None)
    assert shapes.conv_transpose_output_size(size, k, s, p, op, d) == want
    assert shapes.conv_transpose_output_size_text(size, k, s, p, op, d).endswith(f"= {want}")


def test_pool_output_size_ceil_mode_window_larger_than_input():
    """torch accepts ceil_mode pooling whose window is larger than the padded input (the output has
    one partial window), e.g. size 1, kernel 2 -> 1 and size 3, kernel 4, stride 2 -> 1 (each compared
    with the shape torch produces)."""
    for size, k, s, p, d in [(1, 2, None, 0, 1), (3, 4, 2, 0, 1), (4, 3, 2, 1, 2)]:
        assert shapes.pool_output_size(size, k, s, p, d, ceil_mode=True) == _torch_pool_size(size, k, s, p, d, True)


# ------------------------------------------------------------------------------------------------
# captions
# ------------------------------------------------------------------------------------------------
def test_captions_by_hand():
    assert shapes.conv_output_size_text(7, 3, dilation=2) == "H_out = ⌊(7 + 2·0 − 2·(3 − 1) − 1)/1⌋ + 1 = 3"
    assert (shapes.conv_output_size_text(28, 5, padding=2, name="W_out")
            == "W_out = ⌊(28 + 2·2 − 1·(5 − 1) − 1)/1⌋ + 1 = 28")
    assert shapes.conv_transpose_output_size_text(3, 3, stride=2) == "H_out = (3 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 7"
    assert (shapes.conv_transpose_output_size_text(4, 2, stride=3, padding=1, output_padding=2)
            == "H_out = (4 − 1)·3 − 2·1 + 1·(2 − 1) + 2 + 1 = 11")
    # stride None is the kernel size; ceil_mode rounds up
    assert shapes.pool_output_size_text(28, 2) == "H_out = ⌊(28 + 2·0 − 1·(2 − 1) − 1)/2⌋ + 1 = 14"
    assert shapes.pool_output_size_text(5, 2, ceil_mode=True) == "H_out = ⌈(5 + 2·0 − 1·(2 − 1) − 1)/2⌉ + 1 = 3"


def test_pool_caption_says_when_torch_drops_the_last_window():
    """size 5, kernel 2, stride 2, padding 1, ceil_mode: the ceiling gives 4 windows, but the 4th would
    start at (4 - 1)·2 = 6 >= 5 + 1, in the right padding, so torch keeps 3."""
    text = shapes.pool_output_size_text(5, 2, 2, 1, ceil_mode=True)
    assert text.startswith("H_out = ⌈(5 + 2·1 − 1·(2 − 1) − 1)/2⌉ + 1 − 1 = 3 (")
    assert "(4 − 1)·2 ≥ 5 + 1" in text and "torch drops it" in text
    assert _value(text) == 3 == _torch_pool_size(5, 2, 2, 1, 1, True)
    assert "drops" not in shapes.pool_output_size_text(6, 3, 2, 1, ceil_mode=True)


def test_captions_take_one_axis_of_ints():
    with pytest.raises(TypeError, match="size must be an int"):
        shapes.conv_output_size_text((7, 8), 3)
    with pytest.raises(ValueError, match="kernel size 9 can't be greater than the padded input size 7"):
        shapes.conv_output_size_text(7, 5, dilation=2)


# ------------------------------------------------------------------------------------------------
# receptive fields
# ------------------------------------------------------------------------------------------------
def test_receptive_field_of_dilated_stack_is_3_7_15():
    layers = [(3, 1, 1), (3, 1, 2), (3, 1, 4)]
    assert [shapes.receptive_field(layers[:i]) for i in (1, 2, 3)] == [3, 7, 15]
    assert [r for r, _ in shapes.receptive_fields(layers)] == [3, 7, 15]


def test_receptive_field_with_stride_by_hand():
    """conv 3x3 s1 -> r=3, j=1; pool 2 s2 -> r = 3 + 1*1 = 4, j=2; conv 3x3 s1 -> r = 4 + 2*2 = 8."""
    layers = [(3, 1, 1), (2, 2, 1), (3, 1, 1)]
    assert shapes.receptive_fields(layers) == [(3, 1), (4, 2), (8, 2)]
    assert shapes.receptive_field(layers) == 8


def test_receptive_field_layer_forms_by_hand():
    """LeNet's conv 5, pool 2/2, conv 5: r = 5, then 5 + 1 = 6 (jump 2), then 6 + 4·2 = 14. A layer
    may be a dict or a bare kernel size: dict(kernel_size=3, stride=2) then 3 gives 3, then 3 + 2·2 = 7."""
    assert shapes.receptive_field([(5, 1, 1), (2, 2, 1), (5, 1, 1)]) == 14
    assert shapes.receptive_field([dict(kernel_size=5), dict(kernel_size=2, stride=2), 5]) == 14
    assert shapes.receptive_field([dict(kernel_size=3, stride=2), 3]) == 7


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


_LAYER = st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 2))  # (k, s, d), kept small


@given(layers=st.lists(_LAYER, min_size=1, max_size=3), unit=st.tuples(st.integers(0, 1), st.integers(0, 1)))
def test_receptive_field_counts_are_the_input_gradient_of_a_2d_stack_of_ones(layers, unit):
    """A stack of 2-D convolutions with all-ones weights, no padding: the input gradient of output unit
    (a, b) is the outer product of receptive_field_counts with itself, placed at (a·j, b·j); its non-zero
    pixels span r = receptive_field, and the top unit's jump is j."""
    r, j = shapes.receptive_fields(layers)[-1]
    n = r + j                                  # room for two units along each axis
    x = torch.zeros(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, d in layers:
        y = TF.conv2d(y, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, dilation=d)
    assert y.shape[-1] >= 2
    a, b = unit
    y[0, 0, a, b].backward()
    counts = np.array(shapes.receptive_field_counts(layers), dtype=np.float64)
    expected = np.zeros((n, n))
    expected[a * j: a * j + r, b * j: b * j + r] = np.outer(counts, counts)
    np.testing.assert_array_equal(x.grad[0, 0].numpy(), expected)
    rows = np.nonzero(x.grad[0, 0].numpy().any(axis=1))[0]
    assert (rows.min(), rows.max() - rows.min() + 1) == (a * j, r)
    assert counts.sum() == np.prod([k for k, _, _ in layers])


def test_receptive_field_counts_and_caption_by_hand():
    """k = 3, d = 2: taps 0, 2, 4; then k = 2, s = 1 adds a copy shifted by one: 1 1 1 1 1 1."""
    assert shapes.receptive_field_counts([(3, 1, 2)]) == [1, 0, 1, 0, 1]
    assert shapes.receptive_field_counts([(3, 1, 2), 2]) == [1, 1, 1, 1, 1, 1]
    assert shapes.receptive_field_counts([(3, 1, 1), (3, 1, 1)]) == [1, 2, 3, 2, 1]
    assert shapes.receptive_field_counts([(2, 2, 1), (2, 2, 1)]) == [1, 1, 1, 1]
    assert shapes.receptive_field_counts([]) == [1]
    assert (shapes.receptive_field_text([(3, 1, 1), (3, 2, 1), (3, 1, 2)])
            == "r = 1 + 1·(3 − 1)·1 + 1·(3 − 1)·1 + 2·(3 − 1)·2 = 13, jump j = 2")
    assert shapes.receptive_field_text([]) == "r = 1, jump j = 1"
    with pytest.raises(ValueError, match=r"layers\[1\]: stride must be >= 1, got 0"):
        shapes.receptive_field_counts([3, (3, 0)])


# ------------------------------------------------------------------------------------------ counts
@given(dims=st.integers(1, 3), data=st.data())
def test_conv_parameters_equal_torch_layers(dims, data):
    groups = data.draw(st.integers(1, 3))
    c_in, c_out = groups * data.draw(st.integers(1, 3)), groups * data.draw(st.integers(1, 3))
    k = tuple(data.draw(st.integers(1, 4)) for _ in range(dims))
    bias = data.draw(st.booleans())
    layer = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)[dims - 1](c_in, c_out, k, groups=groups, bias=bias)
    assert shapes.conv_parameters(c_in, c_out, k, groups, bias) == sum(p.numel() for p in layer.parameters())


def test_conv_multiplies_by_hand_and_by_im2col():
    """LeNet's conv1: 28x28 outputs, 6 channels, each a sum of 1*5*5 products -> 117,600; the same count
    as the matrix product of im2col: (C_out x C_in k k) @ (C_in k k x H_out W_out)."""
    assert shapes.conv_multiplies(1, 6, 5, (28, 28)) == 28 * 28 * 6 * 25 == 117_600
    assert shapes.conv_multiplies(4, 8, (3, 3), (10, 10), groups=2) == 100 * 8 * 2 * 9
    assert shapes.conv_parameters(1, 6, 5) == 156 and shapes.conv_parameters(6, 16, 5, bias=False) == 2400
    assert shapes.conv_parameters(1, 6, 5, ndim=1) == 36 == shapes.conv_parameters(1, 6, (5,))
    assert shapes.conv_multiplies(2, 3, 3, 8, ndim=3) == 8 ** 3 * 3 * 2 * 27


def test_linear_counts_equal_torch():
    layer = torch.nn.Linear(400, 120)
    assert shapes.linear_parameters(400, 120) == sum(p.numel() for p in layer.parameters()) == 48_120
    assert shapes.linear_parameters(400, 120, bias=False) == 48_000 == shapes.linear_multiplies(400, 120)


@pytest.mark.parametrize("call, message", [
    (lambda: shapes.conv_parameters(0, 4, 3), "in_channels must be a positive int"),
    (lambda: shapes.conv_parameters(4, 6, 3, groups=4), "groups=4 must divide the output channels"),
    (lambda: shapes.conv_multiplies(2, 2, (3, 0), 5), "kernel_size must be a positive int"),
    (lambda: shapes.conv_multiplies(2, 2, 3, ()), "output_size must be an int or a non-empty tuple"),
    (lambda: shapes.linear_multiplies(3, 2.5), "out_features must be a positive int"),
    (lambda: shapes.conv_multiplies(2, 2, (3, 3), (4, 4, 4)), "different numbers of axes"),
])
def test_counts_reject_bad_sizes(call, message):
    with pytest.raises(ValueError, match=message):
        call()
