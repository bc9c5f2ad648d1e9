"""The sliding-window views of cnnbook.windows against explicit indexing of the padded array."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from cnnbook.windows import sliding_windows, sliding_windows_wide


@given(h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 3), dh=st.integers(1, 2), dw=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_wide_windows_agree_with_the_windows_and_run_on_into_the_next_row(h, w, kh, kw, sh, dh, dw, seed):
    assume(dh * (kh - 1) < h and dw * (kw - 1) < w)
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w))
    spare = np.concatenate([x, np.zeros((2, 3, 1, w))], axis=2)     # one spare row at the bottom
    wide = sliding_windows_wide(spare, (kh, kw), sh, (dh, dw))
    ordinary = sliding_windows(x, (kh, kw), (sh, 1), (dh, dw))
    ho, wo = ordinary.shape[-2:]
    assert wide.shape == (2, 3, kh, kw, ho, w)
    np.testing.assert_array_equal(wide[..., :wo], ordinary)     # the real windows
    flat = spare.reshape(2, 3, -1)
    for u in range(kh):                                           # and the discarded ones, by the formula
        for v in range(kw):
            for i in range(ho):
                for j in range(w):
                    assert wide[1, 2, u, v, i, j] == flat[1, 2, (i * sh + u * dh) * w + j + v * dw]


def test_wide_windows_need_the_spare_row():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"out_rows: 3 rows of wide windows"):
        sliding_windows_wide(x, (2, 2), 1, (1, 1), out_rows=3)


@given(h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 3), sh=st.integers(1, 3),
       dh=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_wide_windows_one_column_wide_need_no_spare_row(h, w, kh, sh, dh, seed):
    # a kernel one column wide reads nothing past its row: every row of windows of x itself
    assume(dh * (kh - 1) < h)
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w))
    ordinary = sliding_windows(x, (kh, 1), (sh, 1), (dh, 1))
    wide = sliding_windows_wide(x, (kh, 1), sh, (dh, 1), out_rows=ordinary.shape[-2])
    np.testing.assert_array_equal(wide, ordinary)
    with pytest.raises(ValueError, match="out_rows"):
        sliding_windows_wide(x, (kh, 1), sh, (dh, 1), out_rows=ordinary.shape[-2] + 1)
