"""Chapters 1-4: the nine classic kernels, the explorers (checked against torch and OpenCV for every
setting of their grids), and the figure helpers. (The contract every explorer keeps, static and live, is
tested over the registry in test_explorer_contract.py.)"""
import cv2
import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cnnbook import viz  # noqa: E402
from cnnbook.data import sample_digit, sample_photo, small_grid  # noqa: E402
from cnnbook.explorers.arithmetic import conv_arithmetic, conv_steps  # noqa: E402
from cnnbook.explorers.gallery import equivariance, kernel_gallery  # noqa: E402
from cnnbook.explorers.receptive import (REACHED, field_frame, receptive_field_explorer,  # noqa: E402
                                         stack_layers)
from cnnbook.kernels import KERNEL_NAMES, KERNELS, get_kernel  # noqa: E402


def torch_corr(x, k, stride=1, padding=0, dilation=1):
    """Single-channel cross-correlation by torch, float64."""
    t = TF.conv2d(torch.from_numpy(np.asarray(x, dtype=np.float64))[None, None],
                  torch.from_numpy(np.ascontiguousarray(k, dtype=np.float64))[None, None],
                  stride=stride, padding=padding, dilation=dilation)
    return t[0, 0].numpy()


def size_formula(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# ------------------------------------------------------------------------------------------ kernels
def test_nine_kernels_with_the_values_of_the_notes():
    assert KERNEL_NAMES == ["identity", "blur", "sharpen", "vertical edge", "horizontal edge",
                            "sobel x", "sobel y", "surround", "emboss"]
    table = {  # the table of the source notes (blur written there as 0.11 = 1/9 rounded)
        "identity": [0, 0, 0, 0, 1, 0, 0, 0, 0],
        "sharpen": [0, -1, 0, -1, 5, -1, 0, -1, 0],
        "vertical edge": [0, 0, 0, -1, 2, -1, 0, 0, 0],
        "horizontal edge": [0, -1, 0, 0, 2, 0, 0, -1, 0],
        "sobel x": [-1, 0, 1, -2, 0, 2, -1, 0, 1],
        "sobel y": [-1, -2, -1, 0, 0, 0, 1, 2, 1],
        "surround": [1, 1, 1, 1, -9, 1, 1, 1, 1],
        "emboss": [2, 0, 0, 0, -1, 0, 0, 0, -1],
    }
    for name, values in table.items():
        np.testing.assert_array_equal(KERNELS[name], np.array(values, dtype=float).reshape(3, 3))
    np.testing.assert_allclose(KERNELS["blur"], 0.11, atol=0.0012)
    assert KERNELS["blur"].sum() == pytest.approx(1.0)
    for k in KERNELS.values():
        assert k.dtype == np.float64 and k.shape == (3, 3)


def test_get_kernel_returns_a_writable_copy_and_rejects_unknown_names():
    k = get_kernel("sobel x")
    k[0, 0] = 99.0
    assert KERNELS["sobel x"][0, 0] == -1.0  # the table itself is untouched
    with pytest.raises(ValueError, match="kernel name must be one of"):
        get_kernel("gaussian")


def test_identity_kernel_is_the_identity_and_sobel_y_is_sobel_x_transposed():
    x = small_grid(6, 3)
    np.testing.assert_array_equal(torch_corr(x, KERNELS["identity"], padding=1), x)
    np.testing.assert_array_equal(KERNELS["sobel y"], KERNELS["sobel x"].T)


# ------------------------------------------------------------------------------------------ explorers
def test_kernel_gallery_equals_opencv_and_torch_for_every_setting():
    ex = kernel_gallery()
    photo = sample_photo()
    settings = list(ex.settings())
    assert len(settings) == 18
    for setting in settings:
        view = ex.view(**setting)
        k = KERNELS[setting["kernel"]]
        if setting["operation"] == "cross-correlation":
            # cv2.filter2D computes a cross-correlation; BORDER_CONSTANT pads with zeros like conv2d
            ref_cv = cv2.filter2D(photo, -1, k, borderType=cv2.BORDER_CONSTANT)
            ref_torch = torch_corr(photo, k, padding=1)
        else:
            ref_cv = cv2.filter2D(photo, -1, k[::-1, ::-1].copy(), borderType=cv2.BORDER_CONSTANT)
            ref_torch = torch_corr(photo, k[::-1, ::-1], padding=1)
        assert view.shape == (64, 96)
        np.testing.assert_allclose(view.output, ref_cv, atol=1e-12)
        np.testing.assert_allclose(view.output, ref_torch, atol=1e-12)
        assert "H_out = ⌊(64 + 2·1 − 1·(3 − 1) − 1)/1⌋ + 1 = 64" in view.text
        assert "W_out = ⌊(96 + 2·1 − 1·(3 − 1) − 1)/1⌋ + 1 = 96" in view.text


def test_correlation_and_convolution_differ_exactly_for_the_unsymmetric_kernels():
    ex = kernel_gallery()
    for name in KERNEL_NAMES:
        a = ex.view(kernel=name, operation="cross-correlation").output
        b = ex.view(kernel=name, operation="convolution").output
        symmetric = np.array_equal(KERNELS[name], KERNELS[name][::-1, ::-1])
        assert np.allclose(a, b) == symmetric, name


def test_equivariance_shift_then_filter_equals_filter_then_shift():
    ex = equivariance()
    x = sample_digit(0, 16)
    for setting in ex.settings():
        view = ex.view(**setting)
        shifted = np.roll(x, (setting["dy"], setting["dx"]), axis=(0, 1))
        np.testing.assert_allclose(view.output, torch_corr(shifted, KERNELS["sobel x"], padding=1),
                                   atol=1e-12)
        moved = np.roll(torch_corr(x, KERNELS["sobel x"], padding=1), (setting["dy"], setting["dx"]),
                        axis=(0, 1))
        np.testing.assert_allclose(view.output, moved, atol=1e-12)
    assert len(list(ex.settings())) == 25


def test_conv_arithmetic_equals_torch_and_the_size_formula_for_every_setting():
    ex = conv_arithmetic()
    x = small_grid(7, 0)
    settings = list(ex.settings())
    assert len(settings) == 72
    for setting in settings:
        k, s, p, d = (setting[c] for c in ("kernel_size", "stride", "padding", "dilation"))
        view = ex.view(**setting)
        expected = torch_corr(x, np.ones((k, k)), stride=s, padding=p, dilation=d)
        n_out = size_formula(7, k, s, p, d)
        assert view.shape == expected.shape == (n_out, n_out), setting
        np.testing.assert_allclose(view.output, expected, atol=1e-12)
        assert f"= {n_out}   (window" in view.text
        # the outlined taps: k*k for window [0, 0], then k*k for the last window (unless it is the
        # same); each window's taps add up to its output cell
        inp, out = view.panels[0], view.panels[1]
        (i, j, _, _), = out.highlight
        windows = [(0, 0), (i, j)] if i else [(0, 0)]
        assert len(inp.highlight) == len(windows) * k * k
        for w, (a, b) in enumerate(windows):
            taps = inp.highlight[w * k * k:(w + 1) * k * k]
            assert sum(inp.array[r, c] for r, c, _, _ in taps) == out.array[a, b]
        # every input cell read by some window: the coverage adds up to n_out^2 k^2 reads
        assert view.panels[2].array.sum() == n_out * n_out * k * k


def test_conv_steps_products_sum_to_the_output_cell():
    ex = conv_steps()
    x = small_grid(4, 1)
    kernel = np.arange(4.0).reshape(2, 2)
    for setting in ex.settings():
        view = ex.view(**setting)
        applied = kernel if setting["operation"] == "cross-correlation" else kernel[::-1, ::-1]
        np.testing.assert_allclose(view.output, torch_corr(x, applied), atol=1e-12)
        r, c = setting["row"], setting["col"]
        assert view.panels[2].array.sum() == view.output[r, c]
        assert view.shape == (3, 3)


def test_true_convolution_in_conv_steps_matches_the_definition():
    # Y[i, j] = sum_{u,v} X[i + k - 1 - u, j + k - 1 - v] K[u, v] (the valid part of a true convolution)
    ex = conv_steps()
    x, kernel = small_grid(4, 1), np.arange(4.0).reshape(2, 2)
    y = ex.view(operation="convolution").output
    for i in range(3):
        for j in range(3):
            expected = sum(x[i + 1 - u, j + 1 - v] * kernel[u, v] for u in range(2) for v in range(2))
            assert y[i, j] == expected


def test_receptive_field_explorer_shades_exactly_the_pixels_autograd_finds():
    """For every setting: the stack in torch with all-ones weights and no padding; the gradient of the
    shown unit with respect to the input is the view's output, the shaded pixels (darker than a hole) are
    where it is non-zero, and the pale square is the r x r span of those pixels."""
    ex = receptive_field_explorer()
    settings = list(ex.settings())
    assert len(settings) == 108
    for setting in settings:
        view = ex.view(**setting)
        stack = stack_layers(**setting)
        assert len(stack) == setting["layers"]
        n, unit = field_frame(**setting)
        x = torch.zeros(1, 1, n, n, dtype=torch.float64, requires_grad=True)
        h = x
        for k, s, d in stack:
            h = TF.conv2d(h, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, dilation=d)
        h[0, 0, unit, unit].backward(retain_graph=True)
        grad = x.grad[0, 0].numpy()
        np.testing.assert_array_equal(view.output, grad)
        # tracing: the field of a top unit lights where autograd sends its gradient, for the shown unit
        # and the two corner units; the top panel has one cell per unit, holding how many pixels it reaches
        field, = view.trace
        top = view.panels[2].array
        assert view.panels[2].name == field.output and view.panels[0].name == field.input
        assert top.shape == tuple(h.shape[-2:]) and (top == (grad != 0).sum()).all()
        for cell in {(unit, unit), (0, 0), (top.shape[0] - 1, top.shape[1] - 1)}:
            g = torch.autograd.grad(h[(0, 0) + cell], x, retain_graph=True)[0][0, 0].numpy()
            lit = field.linked(field.output, cell, (n, n), top.shape)[field.input]
            assert lit == {tuple(map(int, rc)) for rc in np.argwhere(g != 0)}, (setting, cell)
        shade = view.panels[0].array
        reached = shade >= REACHED
        np.testing.assert_array_equal(reached, grad != 0)
        rows, cols = np.nonzero(grad)
        span = np.zeros_like(reached)
        span[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1] = True
        np.testing.assert_array_equal(shade > 0, span)
        r = rows.max() - rows.min() + 1
        assert f"= {r}, jump j = " in view.text and f"{r}×{r} = {r * r} pixels" in view.text, setting
        assert f"top layer's {h.shape[-1]}×{h.shape[-1]} output" in view.text
        # the table: one row (k, s, d, r, j) per layer, the last r the span autograd found
        table = view.panels[1].array
        assert table.shape == (len(stack), 5) and table[-1, 3] == r
        np.testing.assert_array_equal(table[:, :3], stack)
    view = ex.view(layers=2, kernel_size=3, stride="2 in the first layer", dilation="2 in every layer")
    assert "reaches 49 of the 13×13 = 169 pixels" in view.text  # stride 2 then dilation 2: holes


# ------------------------------------------------------------------------------------------ figures
def test_figure_helpers_draw():
    x = np.arange(9.0).reshape(3, 3)
    k = np.arange(4.0).reshape(2, 2)
    y = torch_corr(x, k)
    np.testing.assert_array_equal(y, [[19, 25], [37, 43]])  # the worked example of the notes
    figs = [
        viz.show_correlation_step(x, k, y, 1, 1),
        viz.show_correlation_step(small_grid(5), np.ones((3, 3)), torch_corr(small_grid(5), np.ones((3, 3)),
                                  stride=2, padding=1), 1, 0, stride=2, padding=1),
        viz.show_images([x, np.zeros((4, 4, 3))], titles=["a", "b"]),
        viz.show_sparsity(np.eye(4), input_shape=(2, 2)),
        viz.plot_signals({"x": [0, 1, 0]}),
        viz.plot_loss([1.0, 0.5, 0.25]),
    ]
    for f in figs:
        assert isinstance(f, plt.Figure)
        plt.close(f)
    with pytest.raises(ValueError, match="2-D"):
        viz.draw_grid(plt.gca(), np.zeros(3))
    plt.close("all")
