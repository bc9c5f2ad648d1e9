"""Chapters 5-7: the backprop pixel picker, the pooling explorer and the transposed/dilated explorer,
checked for every setting of their grids against torch (autograd, pooling, conv_transpose2d, conv2d)
and against the output-size formulas written out independently here; plus the chapters' figure helpers.
(The contract every explorer keeps, static and live, is tested over the registry in
test_explorer_contract.py.)"""

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cnnbook import viz  # noqa: E402
from cnnbook.data import sample_photo  # noqa: E402
from cnnbook.explorers.backprop import pixel_influence, pixel_picker  # noqa: E402
from cnnbook.explorers.pooling import pooling_explorer  # noqa: E402
from cnnbook.explorers.transposed import transposed_dilated  # noqa: E402

torch.set_num_threads(1)


def t64(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def jacobian_row(x_shape, w, row, col, stride, padding):
    """dY[i, j]/dX[row, col] for every output (i, j), by torch autograd (one backward per output)."""
    x = torch.zeros(x_shape, dtype=torch.float64, requires_grad=True)
    y = TF.conv2d(x[None, None], t64(w)[None, None], stride=stride, padding=padding)[0, 0]
    out = np.zeros(tuple(y.shape))
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            (g,) = torch.autograd.grad(y[i, j], x, retain_graph=True)
            out[i, j] = g[row, col].item()
    return out


# ------------------------------------------------------------------------------ chapter 5 picker
def test_pixel_picker_equals_torch_autograd_for_every_setting():
    ex = pixel_picker()
    settings = list(ex.settings())
    assert len(settings) == 100
    for st in settings:
        k, s = st["kernel_size"], st["stride"]
        w = np.arange(1, k * k + 1, dtype=np.float64).reshape(k, k)
        v = ex.view(**st)
        expected = jacobian_row((5, 5), w, st["row"], st["col"], s, 0)
        np.testing.assert_array_equal(v.output, expected)
        assert v.shape == ((5 - k) // s + 1,) * 2
        # the outlined output positions are exactly the non-zeros of torch's gradient
        fed = {(r, c) for r, c, _, _ in v.panels[2].highlight}
        assert fed == {tuple(map(int, ij)) for ij in zip(*np.nonzero(expected))}
        # the outlined kernel taps are the weights those gradients equal
        taps = sorted(w[r, c] for r, c, _, _ in v.panels[1].highlight)
        assert taps == sorted(expected[expected != 0])


@pytest.mark.parametrize("shape, k, s, p", [((6, 5), (3, 2), 1, 1), ((7, 7), (3, 3), 2, 1),
                                            ((5, 8), (2, 4), 3, 2)])
def test_pixel_influence_with_padding_equals_torch(shape, k, s, p):
    w = np.random.default_rng(0).normal(size=k) + 5.0  # no zero weights
    for row in range(shape[0]):
        for col in range(shape[1]):
            got = pixel_influence(w, shape, row, col, s, p)
            np.testing.assert_allclose(got, jacobian_row(shape, w, row, col, s, p), atol=1e-12)


def test_pixel_picker_corner_pixel_feeds_one_output_only():
    # the worked example of the chapter: a corner pixel reaches a single output, through the last tap
    v = pixel_picker().view(row=0, col=0, kernel_size=3, stride=1)
    assert np.count_nonzero(v.output) == 1 and v.output[0, 0] == 1.0
    v = pixel_picker().view(row=2, col=2, kernel_size=3, stride=1)
    np.testing.assert_array_equal(v.output, np.arange(9, 0, -1).reshape(3, 3))  # rot180(W)


# ------------------------------------------------------------------------------ chapter 6 pooling
def test_pooling_explorer_equals_torch_for_every_setting():
    ex = pooling_explorer()
    x = t64(sample_photo(height=16, width=16))[None, None]
    for st in ex.settings():
        k, s, p = st["kernel_size"], st["stride"], st["padding"]
        pool = TF.max_pool2d if st["kind"] == "max" else TF.avg_pool2d
        expected = pool(x, k, stride=s, padding=p)[0, 0].numpy()
        v = ex.view(**st)
        np.testing.assert_allclose(v.output, expected, rtol=1e-12, atol=1e-12)
        n_out = (16 + 2 * p - k) // s + 1
        assert v.shape == (n_out, n_out)
        assert f"= {n_out}" in v.text


# ------------------------------------------------------------------------- chapter 7 transposed
def test_transposed_dilated_explorer_equals_torch_for_every_setting():
    ex = transposed_dilated()
    valid = 0
    for st in ex.settings():
        k, s, p, d = st["kernel_size"], st["stride"], st["padding"], st["dilation"]
        w = torch.ones((1, 1, k, k), dtype=torch.float64)
        v = ex.view(**st)
        if st["operation"] == "transposed":
            n_out = (3 - 1) * s - 2 * p + d * (k - 1) + 1
            if n_out < 1:
                with pytest.raises(RuntimeError):
                    TF.conv_transpose2d(torch.ones((1, 1, 3, 3), dtype=torch.float64), w, stride=s,
                                        padding=p, dilation=d)
                assert v.output.size == 0
                continue
            expected = TF.conv_transpose2d(torch.ones((1, 1, 3, 3), dtype=torch.float64), w, stride=s,
                                           padding=p, dilation=d)[0, 0].numpy()
        else:
            n_out = (7 + 2 * p - d * (k - 1) - 1) // s + 1
            x = (np.arange(49, dtype=np.float64).reshape(7, 7) % 9) + 1
            expected = TF.conv2d(t64(x)[None, None], w, stride=s, padding=p, dilation=d)[0, 0].numpy()
        valid += 1
        assert v.shape == (n_out, n_out)
        assert f"= {n_out}" in v.text
        np.testing.assert_allclose(v.output, expected, atol=1e-12)
    assert valid >= 60


def test_transposed_panel_is_the_equivalent_direct_convolution():
    # zero insertion + d(k-1)-p rings of zeros, correlated with the (rot180 of the) dilated kernel
    ex = transposed_dilated()
    for st in ex.settings():
        if st["operation"] != "transposed":
            continue
        v = ex.view(**st)
        if v.output.size == 0:
            continue
        z, wd = v.panels[1].array, v.panels[2].array
        direct = TF.conv2d(t64(z)[None, None], t64(wd[::-1, ::-1])[None, None])[0, 0].numpy()
        np.testing.assert_allclose(direct, v.output, atol=1e-12)


def test_checkerboard_k3_s2_uneven_k2_s2_even():
    ex = transposed_dilated()
    y = ex.view(operation="transposed", kernel_size=3, stride=2, padding=0, dilation=1).output
    assert set(np.unique(y)) == {1.0, 2.0, 4.0}
    y = ex.view(operation="transposed", kernel_size=2, stride=2, padding=0, dilation=1).output
    assert set(np.unique(y)) == {1.0}


def test_figure_helpers_of_chapters_5_to_7():
    fig = viz.show_grids([np.eye(3), np.ones((2, 2)), np.arange(6.0).reshape(2, 3)], ["a", "b", "c"],
                         highlights=[[(0, 0, 1, 1)], [], []], symbols=["+", "="])
    assert len(fig.axes) == 3 and fig.axes[0].get_title() == "a  (3×3)"
    plt.close(fig)
    fig = viz.plot_overlap_1d({"k = 3, s = 2": [1, 1, 2, 1, 1], "k = 2, s = 2": [1, 1, 1, 1]})
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="2-D"):
        viz.show_grids([np.ones(3)])
