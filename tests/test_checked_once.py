"""Arguments are checked once per geometry (cnnbook.arguments._Checked): a call that repeats an earlier
call's shapes, dtype and settings skips the checks. These tests pin what that must never change: bad
settings are still rejected after a good call with the same arrays, the repeated call computes what
torch computes (unbatched and 1-D inputs too), and no array is kept alive by the cache."""
import gc
import weakref

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from cnnbook import functional as F


@pytest.fixture
def arrays():
    rng = np.random.default_rng(14)
    return (rng.standard_normal((2, 4, 9, 9), dtype=np.float32),
            rng.standard_normal((6, 2, 3, 3), dtype=np.float32))


@pytest.mark.parametrize("bad, exc, pattern", [
    (dict(stride=0), ValueError, "stride must be >= 1"),
    (dict(stride=True), TypeError, "stride must be an int"),
    (dict(padding=-1), ValueError, "padding must be >= 0"),
    (dict(groups=3), ValueError, "groups"),
    (dict(dilation=(1,)), TypeError, "dilation must be an int or a tuple of 2 ints"),
    (dict(padding="same", stride=2), ValueError, "padding='same'"),
])
def test_a_bad_setting_is_rejected_after_a_good_call_with_the_same_arrays(arrays, bad, exc, pattern):
    x, w = arrays
    settings = dict(stride=1, padding=1, groups=2)
    F.conv2d(x, w, **settings)
    F.conv2d(x, w, **settings)
    with pytest.raises(exc, match=pattern):
        F.conv2d(x, w, **{**settings, **bad})


def test_a_good_setting_after_bad_arrays_is_still_checked(arrays):
    x, w = arrays
    F.conv2d(x, w, groups=2)
    with pytest.raises(ValueError, match="channel mismatch"):
        F.conv2d(x[:, :2], w, groups=2)                 # other shapes: another geometry, checked
    with pytest.raises(ValueError, match="grad_output must have the shape"):
        F.conv2d_backward(np.zeros((2, 6, 8, 7), np.float32), x, w, groups=2)
    with pytest.raises(ValueError, match="kernel_size"):
        F.max_pool2d(x, 0)
    F.max_pool2d(x, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        F.max_pool2d(x, 0)


def test_repeated_calls_agree_with_torch_unbatched_and_1d():
    rng = np.random.default_rng(3)
    for _ in range(3):   # the first call is checked, the next ones come from the cache
        x = rng.standard_normal((4, 11))
        w = rng.standard_normal((5, 4, 3))
        g = rng.standard_normal((5, 6))
        xt, wt = (torch.tensor(a, requires_grad=True) for a in (x, w))
        yt = TF.conv1d(xt, wt, stride=2, padding=1)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(F.conv1d(x, w, stride=2, padding=1), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        dx, dw, _ = F.conv1d_backward(g, x, w, stride=2, padding=1)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-12, atol=1e-12)
        p = rng.standard_normal((3, 7, 7))
        pt = torch.tensor(p, requires_grad=True)
        TF.max_pool2d(pt, 3, 2, 1).backward(torch.ones(3, 4, 4, dtype=torch.float64))
        np.testing.assert_array_equal(F.max_pool2d(p, 3, 2, 1), TF.max_pool2d(torch.tensor(p), 3, 2, 1).numpy())
        np.testing.assert_array_equal(F.max_pool2d_backward(np.ones((3, 4, 4)), p, 3, 2, 1), pt.grad.numpy())


def test_the_cache_keeps_no_array_alive(arrays):
    x, w = (a.copy() for a in arrays)
    refs = [weakref.ref(x), weakref.ref(w)]
    F.conv2d(x, w, groups=2)
    F.conv_transpose2d(np.ones((1, 6, 3, 3), np.float32), w)
    F.max_pool2d(x, 2)
    del x, w
    gc.collect()
    assert all(r() is None for r in refs)
