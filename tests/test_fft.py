"""fft_conv2d (the convolution theorem) against torch.nn.functional.conv2d and cnnbook's conv2d.

Stride 1, dilation 1, one group; hypothesis draws non-square inputs and kernels, padding (ints, pairs,
'valid', 'same'), channels, batch sizes, float32/float64 and unbatched inputs. The loop version (the DFT
written as its sum) runs on smaller shapes.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

from cnnbook import functional as F
from cnnbook import reference as R
from helpers import assert_close, conv_arrays, conv_configs, to_torch

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")
ONE_GROUP = dict(max_groups=1, max_per_group=3, max_stride=1, max_dilation=1, max_kernel=5)


@pytest.mark.parametrize("unbatched", [False, True], ids=["batched", "unbatched"])
@pytest.mark.parametrize("use_bias", [False, True], ids=["no bias", "bias"])
@settings(max_examples=30)
@given(cfg=conv_configs(**ONE_GROUP))
def test_fft_conv2d_equals_torch_and_conv2d(unbatched, use_bias, cfg):
    _, x, w, b = conv_arrays(cfg)
    x, b = (x[0] if unbatched else x), (b if use_bias else None)
    got = F.fft_conv2d(x, w, b, padding=cfg["padding"])
    want = TF.conv2d(to_torch(x), to_torch(w), None if b is None else to_torch(b), padding=cfg["padding"])
    assert_close(got, want, cfg["dtype"], "vs torch")
    assert_close(got, F.conv2d(x, w, b, padding=cfg["padding"]), cfg["dtype"], "vs conv2d")


@settings(max_examples=10)
@given(cfg=conv_configs(max_spatial=5, max_batch=2, max_padding=1, **{**ONE_GROUP, "max_kernel": 3}))
def test_reference_fft_conv2d_equals_torch_and_the_fast_path(cfg):
    _, x, w, b = conv_arrays(cfg)
    ref = R.fft_conv2d(x, w, b, padding=cfg["padding"])
    assert_close(ref, TF.conv2d(to_torch(x), to_torch(w), to_torch(b), padding=cfg["padding"]), cfg["dtype"])
    assert_close(ref, F.fft_conv2d(x, w, b, padding=cfg["padding"]), cfg["dtype"], "vs fast path")


def test_fft_conv2d_of_a_large_kernel(rng):
    """The case the FFT is for: a 31x31 kernel on a 64x64 image, three channels in, two out."""
    x, w = rng.standard_normal((1, 3, 64, 64)), rng.standard_normal((2, 3, 31, 31))
    assert_close(F.fft_conv2d(x, w, padding=15), TF.conv2d(to_torch(x), to_torch(w), padding=15), np.float64)


def test_fft_conv2d_keeps_float32(rng):
    x, w = rng.standard_normal((1, 2, 8, 8)).astype(np.float32), rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    assert F.fft_conv2d(x, w).dtype == np.float32


@pytest.mark.parametrize("module", [F, R], ids=["functional", "reference"])
def test_bad_input_is_rejected_like_conv2d(module):
    with pytest.raises(ValueError, match=r"channel mismatch"):
        module.fft_conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"kernel size 6 can't be greater than the padded input size 5"):
        module.fft_conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 6, 6)))
    with pytest.raises(TypeError):
        module.fft_conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), stride=2)


def test_fft_conv2d_is_importable_from_the_top_level():
    import cnnbook
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 2, 2))
    assert_close(cnnbook.fft_conv2d(x, w), TF.conv2d(to_torch(x), to_torch(w)), np.float64, "top level")
