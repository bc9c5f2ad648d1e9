"""Bad input: each case raises a ValueError/TypeError whose message names the argument and states the
constraint it breaks, and torch rejects the same configuration (the accepted sets agree). One test per
case."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from cnnbook import functional as F
from helpers import BOTH_TREES


def z(*shape, dtype=np.float64):
    return np.zeros(shape, dtype=dtype)


def t(a):
    return torch.tensor(a)


TORCH_ERRORS = (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError)

# (id, our call on a module (cnnbook.functional or cnnbook.reference), torch call, our exception type,
# regex: the argument and the constraint in the message)
CASES = [
    ("kernel_larger_than_padded_input",
     lambda m: m.conv2d(z(1, 1, 3, 3), z(1, 1, 5, 5), padding=0),
     lambda: TF.conv2d(t(z(1, 1, 3, 3)), t(z(1, 1, 5, 5))), ValueError,
     r"kernel_size: the \(dilated\) kernel size 5 can't be greater than the padded input size 3"),
    ("kernel_larger_than_padded_input_conv1d",
     lambda m: m.conv1d(z(1, 1, 3), z(1, 1, 3), dilation=2),
     lambda: TF.conv1d(t(z(1, 1, 3)), t(z(1, 1, 3)), dilation=2), ValueError,
     r"\(dilated\) kernel size 5 can't be greater than the padded input size 3 \(input 3 \+ padding 0 \+ 0\)"),
    ("channel_mismatch",
     lambda m: m.conv2d(z(1, 3, 5, 5), z(2, 2, 3, 3)),
     lambda: TF.conv2d(t(z(1, 3, 5, 5)), t(z(2, 2, 3, 3))), ValueError, r"channel mismatch: input has 3 channels"),
    ("groups_not_dividing_input_channels",
     lambda m: m.conv2d(z(1, 3, 5, 5), z(2, 1, 3, 3), groups=2),
     lambda: TF.conv2d(t(z(1, 3, 5, 5)), t(z(2, 1, 3, 3)), groups=2), ValueError, r"groups=2 must divide the input channels"),
    ("groups_not_dividing_output_channels",
     lambda m: m.conv2d(z(1, 4, 5, 5), z(3, 2, 3, 3), groups=2),
     lambda: TF.conv2d(t(z(1, 4, 5, 5)), t(z(3, 2, 3, 3)), groups=2), ValueError,
     r"groups=2 must divide the output channels"),
    ("stride_0_conv2d",
     lambda m: m.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), stride=0),
     lambda: TF.conv2d(t(z(1, 1, 5, 5)), t(z(1, 1, 3, 3)), stride=0), ValueError, r"stride must be >= 1"),
    ("stride_0_conv1d",
     lambda m: m.conv1d(z(1, 1, 5), z(1, 1, 3), stride=0),
     lambda: TF.conv1d(t(z(1, 1, 5)), t(z(1, 1, 3)), stride=0), ValueError, r"stride must be >= 1"),
    ("stride_0_one_axis_conv_transpose2d",
     lambda m: m.conv_transpose2d(z(1, 1, 3, 3), z(1, 1, 3, 3), stride=(1, 0)),
     lambda: TF.conv_transpose2d(t(z(1, 1, 3, 3)), t(z(1, 1, 3, 3)), stride=(1, 0)), ValueError, r"stride must be >= 1"),
    ("stride_0_max_pool2d",
     lambda m: m.max_pool2d(z(1, 1, 4, 4), 2, stride=0),
     lambda: TF.max_pool2d(t(z(1, 1, 4, 4)), 2, stride=0), ValueError, r"stride must be >= 1"),
    ("dilation_0_conv2d",
     lambda m: m.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), dilation=0),
     lambda: TF.conv2d(t(z(1, 1, 5, 5)), t(z(1, 1, 3, 3)), dilation=0), ValueError, r"dilation must be >= 1"),
    ("dilation_0_max_pool2d",
     lambda m: m.max_pool2d(z(1, 1, 4, 4), 2, dilation=0),
     lambda: TF.max_pool2d(t(z(1, 1, 4, 4)), 2, dilation=0), ValueError, r"dilation must be >= 1"),
    ("negative_padding_conv2d",
     lambda m: m.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), padding=-1),
     lambda: TF.conv2d(t(z(1, 1, 5, 5)), t(z(1, 1, 3, 3)), padding=-1), ValueError, r"padding must be >= 0"),
    ("negative_padding_avg_pool2d",
     lambda m: m.avg_pool2d(z(1, 1, 4, 4), 2, padding=(0, -1)),
     lambda: TF.avg_pool2d(t(z(1, 1, 4, 4)), 2, padding=(0, -1)), ValueError, r"padding must be >= 0"),
    ("pool_padding_above_half_kernel_max",
     lambda m: m.max_pool2d(z(1, 1, 6, 6), 2, padding=2),
     lambda: TF.max_pool2d(t(z(1, 1, 6, 6)), 2, padding=2), ValueError, r"padding should be at most half of kernel_size"),
    ("pool_padding_above_half_kernel_avg",
     lambda m: m.avg_pool2d(z(1, 1, 6, 6), 3, padding=2),
     lambda: TF.avg_pool2d(t(z(1, 1, 6, 6)), 3, padding=2), ValueError,
     r"padding should be at most half of kernel_size"),
    ("pool_window_larger_than_input",
     lambda m: m.max_pool2d(z(1, 1, 2, 2), 3),
     lambda: TF.max_pool2d(t(z(1, 1, 2, 2)), 3), ValueError,
     r"kernel_size: .*window size 3 is larger than the padded input size 2"),
    ("bias_wrong_length",
     lambda m: m.conv2d(z(1, 1, 5, 5), z(2, 1, 3, 3), z(3)),
     lambda: TF.conv2d(t(z(1, 1, 5, 5)), t(z(2, 1, 3, 3)), t(z(3))), ValueError, r"bias must have length C_out = 2"),
    ("bias_wrong_length_conv_transpose2d",
     lambda m: m.conv_transpose2d(z(1, 1, 3, 3), z(1, 2, 3, 3), z(1)),
     lambda: TF.conv_transpose2d(t(z(1, 1, 3, 3)), t(z(1, 2, 3, 3)), t(z(1))), ValueError, r"bias must have length C_out = 2"),
    ("input_2d_conv2d",
     lambda m: m.conv2d(z(5, 5), z(1, 1, 3, 3)),
     lambda: TF.conv2d(t(z(5, 5)), t(z(1, 1, 3, 3))), ValueError, r"input must be 3-D or 4-D"),
    ("input_5d_conv2d",
     lambda m: m.conv2d(z(1, 1, 1, 5, 5), z(1, 1, 3, 3)),
     lambda: TF.conv2d(t(z(1, 1, 1, 5, 5)), t(z(1, 1, 3, 3))), ValueError, r"input must be 3-D or 4-D"),
    ("weight_3d_conv2d",
     lambda m: m.conv2d(z(1, 1, 5, 5), z(1, 3, 3)),
     lambda: TF.conv2d(t(z(1, 1, 5, 5)), t(z(1, 3, 3))), ValueError, r"weight must be 4-D"),
    ("input_2d_max_pool2d",
     lambda m: m.max_pool2d(z(4, 4), 2),
     lambda: TF.max_pool2d(t(z(4, 4)), 2), ValueError, r"input must be 3-D or 4-D"),
    ("string_array",
     lambda m: m.conv2d(np.array([[[["a"]]]]), z(1, 1, 1, 1)),
     lambda: TF.conv2d(torch.tensor(np.array([[[["a"]]]])), t(z(1, 1, 1, 1))), TypeError, r"input must be a real numeric array"),
    ("object_array",
     lambda m: m.conv2d(z(1, 1, 2, 2, dtype=object), z(1, 1, 1, 1)),
     lambda: TF.conv2d(torch.from_numpy(z(1, 1, 2, 2, dtype=object)), t(z(1, 1, 1, 1))), TypeError,
     r"input must be a real numeric array"),
    ("complex_array_max_pool2d",
     lambda m: m.max_pool2d(z(1, 1, 2, 2, dtype=complex), 2),
     lambda: TF.max_pool2d(t(z(1, 1, 2, 2, dtype=complex)), 2), TypeError,
     r"input must be a real numeric array"),
    ("same_padding_with_stride",
     lambda m: m.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), stride=2, padding="same"),
     lambda: TF.conv2d(t(z(1, 1, 5, 5)), t(z(1, 1, 3, 3)), stride=2, padding="same"), ValueError,
     r"padding='same' is not supported for strided convolutions"),
    ("unknown_padding_string",
     lambda m: m.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), padding="full"),
     lambda: TF.conv2d(t(z(1, 1, 5, 5)), t(z(1, 1, 3, 3)), padding="full"), ValueError,
     r"padding must be 'valid', 'same', an int or a tuple"),
    ("output_padding_too_large",
     lambda m: m.conv_transpose2d(z(1, 1, 3, 3), z(1, 1, 3, 3), stride=2, output_padding=2),
     lambda: TF.conv_transpose2d(t(z(1, 1, 3, 3)), t(z(1, 1, 3, 3)), stride=2, output_padding=2),
     ValueError, r"output_padding must be smaller than either stride or dilation"),
    ("kernel_size_0_max_pool2d",
     lambda m: m.max_pool2d(z(1, 1, 5, 5), 0),
     lambda: TF.max_pool2d(t(z(1, 1, 5, 5)), 0), ValueError, r"kernel_size must be >= 1"),
    ("kernel_size_0_avg_pool2d",
     lambda m: m.avg_pool2d(z(1, 1, 5, 5), 0),
     lambda: TF.avg_pool2d(t(z(1, 1, 5, 5)), 0), ValueError, r"kernel_size must be >= 1"),
    ("kernel_size_float_max_pool2d",
     lambda m: m.max_pool2d(z(1, 1, 5, 5), 2.5),
     lambda: TF.max_pool2d(t(z(1, 1, 5, 5)), 2.5), TypeError, r"kernel_size must be an int or a tuple of 2 ints"),
    ("ceil_mode_not_bool",
     lambda m: m.max_pool2d(z(1, 1, 5, 5), 2, ceil_mode=1),
     lambda: TF.max_pool2d(t(z(1, 1, 5, 5)), 2, ceil_mode=1), TypeError, r"ceil_mode must be a bool, got 1"),
    ("count_include_pad_not_bool",
     lambda m: m.avg_pool2d(z(1, 1, 4, 4), 2, count_include_pad=1),
     lambda: TF.avg_pool2d(t(z(1, 1, 4, 4)), 2, count_include_pad=1), TypeError,
     r"count_include_pad must be a bool, got 1"),
    ("divisor_override_zero",
     lambda m: m.avg_pool2d(z(1, 1, 4, 4), 2, divisor_override=0),
     lambda: TF.avg_pool2d(t(z(1, 1, 4, 4)), 2, divisor_override=0), ValueError,
     r"divisor_override must be nonzero, got 0"),
    ("divisor_override_float_backward",
     lambda m: m.avg_pool2d_backward(z(1, 1, 2, 2), z(1, 1, 4, 4), 2, divisor_override=2.0),
     lambda: TF.avg_pool2d(t(z(1, 1, 4, 4)), 2, divisor_override=2.0), TypeError,
     r"divisor_override must be None or an int, got 2.0"),
    ("divisor_override_bool",
     lambda m: m.avg_pool2d(z(1, 1, 4, 4), 2, divisor_override=True),
     lambda: TF.avg_pool2d(t(z(1, 1, 4, 4)), 2, divisor_override=True), TypeError,
     r"divisor_override must be None or an int, got True"),
    ("bool_array_conv2d",
     lambda m: m.conv2d(z(1, 4, 5, 5, dtype=bool), z(2, 4, 3, 3)),
     lambda: TF.conv2d(t(z(1, 4, 5, 5, dtype=bool)), t(z(2, 4, 3, 3))), TypeError,
     r"input must be a real numeric array \(float32 or float64\), got dtype bool"),
    ("linear_in_features_mismatch",
     lambda m: m.linear(z(2, 3), z(4, 2)),
     lambda: TF.linear(t(z(2, 3)), t(z(4, 2))), ValueError,
     r"input's last dimension \(3\) must equal weight's in_features \(2\)"),
    ("linear_bias_wrong_length",
     lambda m: m.linear(z(2, 3), z(4, 3), z(3)),
     lambda: TF.linear(t(z(2, 3)), t(z(4, 3)), t(z(3))), ValueError, r"bias must have length out_features = 4"),
    ("log_softmax_dim_out_of_range",
     lambda m: m.log_softmax(z(2, 3), 2),
     lambda: TF.log_softmax(t(z(2, 3)), 2), ValueError, r"dim must be in \[-2, 1\] for a 2-D input, got 2"),
    ("cross_entropy_float_target",
     lambda m: m.cross_entropy(z(2, 3), np.array([0.0, 1.0])),
     lambda: TF.cross_entropy(t(z(2, 3)), torch.tensor([0.0, 1.0], dtype=torch.float64)), TypeError,
     r"target must be an integer array of class indices"),
    ("cross_entropy_batch_size_mismatch",
     lambda m: m.cross_entropy_backward(z(2, 3), np.array([0, 1, 1])),
     lambda: TF.cross_entropy(t(z(2, 3)), torch.tensor([0, 1, 1])), ValueError,
     r"target must have shape \(N,\) = \(2,\) to match input's batch size"),
    ("cross_entropy_target_too_large",
     lambda m: m.cross_entropy(z(2, 3), np.array([0, 3])),
     lambda: TF.cross_entropy(t(z(2, 3)), torch.tensor([0, 3])), ValueError,
     r"target class indices must be in \[0, 2\]"),
    ("cross_entropy_target_negative",
     lambda m: m.cross_entropy(z(2, 3), np.array([0, -2])),
     lambda: TF.cross_entropy(t(z(2, 3)), torch.tensor([0, -2])), ValueError,
     r"target class indices must be in \[0, 2\]"),
]


@BOTH_TREES
@pytest.mark.parametrize("ours, theirs, exc, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_like_torch(module, ours, theirs, exc, pattern):
    """The loops of cnnbook.reference take their arguments through the same checks: the same rejections."""
    with pytest.raises(exc, match=pattern):
        ours(module)
    with pytest.raises(TORCH_ERRORS):
        theirs()


def test_complex_conv2d_is_rejected():
    """cnnbook is real-valued: complex arrays raise TypeError. (torch itself supports complex
    convolutions, so there is no torch rejection to compare with here.)"""
    with pytest.raises(TypeError, match=r"input"):
        F.conv2d(z(1, 1, 2, 2, dtype=complex), z(1, 1, 1, 1))


def test_backward_functions_check_their_arguments_too():
    with pytest.raises(ValueError, match=r"stride"):
        F.conv2d_backward(z(1, 1, 3, 3), z(1, 1, 5, 5), z(1, 1, 3, 3), stride=0)
    with pytest.raises(ValueError, match=r"padding"):
        F.max_pool2d_backward(z(1, 1, 3, 3), z(1, 1, 6, 6), 2, padding=2)


# (function name, arguments, exception, the argument and the constraint): every backward function
# checks that grad_output has the forward output's shape
GRAD_OUTPUT_CASES = [
    ("conv2d_backward", (z(1, 1, 2, 3), z(1, 1, 5, 5), z(1, 1, 3, 3)),
     r"grad_output must have the shape of the output \(1, 1, 3, 3\), got \(1, 1, 2, 3\)"),
    ("conv1d_backward", (z(1, 2, 4), z(1, 1, 5), z(2, 1, 3)),
     r"grad_output must have the shape of the output \(1, 2, 3\), got \(1, 2, 4\)"),
    ("conv_transpose2d_backward", (z(1, 1, 5, 5), z(1, 1, 3, 3), z(1, 1, 2, 2)),
     r"grad_output must have the shape of the output \(1, 1, 4, 4\), got \(1, 1, 5, 5\)"),
    ("max_pool2d_backward", (z(1, 1, 3, 3), z(1, 1, 4, 4), 2),
     r"grad_output must have the shape of the pooling output \(1, 1, 2, 2\), got \(1, 1, 3, 3\)"),
    ("avg_pool2d_backward", (z(1, 3, 3), z(1, 4, 4), 2),
     r"grad_output must have the shape of the pooling output \(1, 2, 2\), got \(1, 3, 3\)"),
    ("linear_backward", (z(2, 3), z(2, 4), z(4, 4)),
     r"grad_output must have the shape of the output \(2, 4\), got \(2, 3\)"),
    ("relu_backward", (z(2, 3), z(3, 2)), r"grad_output must have the shape of the input \(3, 2\), got \(2, 3\)"),
    ("sigmoid_backward", (z(2, 3), z(3, 2)), r"grad_output must have the shape of the input \(3, 2\)"),
    ("log_softmax_backward", (z(2, 3), z(3, 2)), r"grad_output must have the shape of the input \(3, 2\)"),
]


@BOTH_TREES
@pytest.mark.parametrize("name, args, pattern", GRAD_OUTPUT_CASES, ids=[c[0] for c in GRAD_OUTPUT_CASES])
def test_backward_rejects_a_grad_output_of_the_wrong_shape(module, name, args, pattern):
    with pytest.raises(ValueError, match=pattern):
        getattr(module, name)(*args)
