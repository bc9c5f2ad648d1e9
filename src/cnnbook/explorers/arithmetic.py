"""Explorers of chapters 2-4: one step of a 2-D correlation/convolution, and convolution arithmetic
(kernel size, stride, padding, dilation) on a small grid of numbers."""
from __future__ import annotations

import numpy as np

from ..data import small_grid
from ..explorer import Dropdown, Explorer, Panel, Slider, View, explorer_factory
from ..explorer.tracing import CONV_DEFAULTS, Window, torch_call

__all__ = ["conv_arithmetic", "conv_steps"]


def _conv(x: np.ndarray, k: np.ndarray, stride: int, padding: int, dilation: int) -> np.ndarray:
    from .. import functional as F

    return F.conv2d(x[None, None], k[None, None], stride=stride, padding=padding, dilation=dilation)[0, 0]


@explorer_factory
def conv_arithmetic(n: int = 7, seed: int = 0) -> Explorer:
    """Sliders for kernel size, stride, padding and dilation on an ``n x n`` grid of digits 0..9.

    The kernel is all ones, so every output number is the sum of the input numbers under its window
    (the outlined taps). Panels: the zero-padded input with the windows of the first output cell and of the
    last one (where the floor of the size formula bites; the window slides by the stride in between),
    the output grid with the last cell outlined, and how many windows read
    each input cell (zeros show the cells a large stride skips).
    The text line evaluates the output-size formula with ``cnnbook.shapes.conv_output_size_text``.
    """
    from ..shapes import conv_output_size, conv_output_size_text, effective_kernel_size

    x = small_grid(n, seed)

    def compute(kernel_size: int, stride: int, padding: int, dilation: int) -> View:
        k, s, p, d = kernel_size, stride, padding, dilation
        w = np.ones((k, k))
        y = _conv(x, w, s, p, d)
        n_out = conv_output_size(n, k, stride=s, padding=p, dilation=d)
        i = j = n_out - 1
        xp = np.pad(x, p)
        # the taps of the first window and of the last one: in between, the window slides by s
        taps = [(a * s + u * d, a * s + v * d, 1, 1) for a in sorted({0, i}) for u in range(k) for v in range(k)]
        coverage = np.zeros_like(xp)
        for a in range(n_out):
            for b in range(n_out):
                for u in range(k):
                    for v in range(k):
                        coverage[a * s + u * d, b * s + v * d] += 1
        span = effective_kernel_size(k, d)
        text = (conv_output_size_text(n, k, s, p, d, name="n_out")
                + f"   (window spans {span} cells; padded input {n + 2 * p}×{n + 2 * p})")
        panels = [
            Panel(f"padded input (p = {p}), windows of outputs [0, 0] and [{i}, {j}]", xp, numbers=True,
                  cmap="Blues", vmin=-2, vmax=14, highlight=taps, name="input"),
            Panel(f"output = window sums, cell [{i}, {j}]", y, numbers=True, cmap="Greens",
                  vmin=-float(y.max()) * 0.2, vmax=float(y.max()) * 1.6 or 1.0, highlight=[(i, j, 1, 1)],
                  name="output"),
            Panel("windows reading each input cell", coverage, numbers=True, cmap="Oranges",
                  vmin=-1, vmax=float(coverage.max()) * 1.6 or 1.0, name="coverage"),
        ]
        trace = [Window("output", "input", k, stride=s, padding=p, dilation=d, shown_padding=p)]
        call = torch_call("conv2d", "x", f"torch.ones(1, 1, {k}, {k})", defaults=CONV_DEFAULTS,
                          stride=s, padding=p, dilation=d)
        return View(output=y, panels=panels, text=text, trace=trace, torch_call=call)

    return Explorer(
        compute,
        [Slider("kernel_size", [1, 2, 3, 4], default=3, label="kernel size k"),
         Slider("stride", [1, 2, 3], default=1, label="stride s"),
         Slider("padding", [0, 1, 2], default=0, label="padding p"),
         Slider("dilation", [1, 2], default=1, label="dilation d")],
        name="conv-arithmetic",
        title=f"Convolution arithmetic on a {n}×{n} input (kernel of ones)",
    )


@explorer_factory
def conv_steps(n: int = 4, k: int = 2, seed: int = 1) -> Explorer:
    """Slide a ``k x k`` kernel over an ``n x n`` input one output cell at a time, as a cross-correlation
    (the kernel as it is) or as a convolution (the kernel rotated by 180 degrees).

    Panels: the input with the window outlined, the kernel as applied, the element-wise products in the
    window, and the output with the current cell outlined (the cell equals the sum of the products).
    """
    from ..shapes import conv_output_size

    x = small_grid(n, seed)
    kernel = np.arange(k * k, dtype=np.float64).reshape(k, k)
    n_out = conv_output_size(n, k)
    cells = list(range(n_out))

    def compute(operation: str, row: int, col: int) -> View:
        applied = kernel if operation == "cross-correlation" else kernel[::-1, ::-1].copy()
        y = _conv(x, applied, 1, 0, 1)
        products = x[row: row + k, col: col + k] * applied
        text = (f"Y[{row}, {col}] = sum of the products = {products.sum():g};  "
                f"output size = {n} − {k} + 1 = {n_out}")
        panels = [
            Panel("input X", x, numbers=True, cmap="Blues", vmin=-2, vmax=14,
                  highlight=[(row, col, k, k)], name="input"),
            Panel("kernel as applied" + (" (rot180)" if operation == "convolution" else ""), applied,
                  numbers=True, cmap="Oranges", vmin=-1, vmax=float(kernel.max()) * 1.6, name="kernel"),
            Panel("products in the window", products, numbers=True, cmap="Purples", vmin=-5,
                  vmax=float(products.max()) * 1.6 or 1.0, name="products"),
            Panel("output Y", y, numbers=True, cmap="Greens", vmin=-5, vmax=float(y.max()) * 1.6,
                  highlight=[(row, col, 1, 1)], name="output"),
        ]
        trace = [Window("output", "input", k, kernel="kernel", symbols=("Y", "X", "K"))]
        weight = "w" if operation == "cross-correlation" else "torch.flip(w, [2, 3])"
        return View(output=y, panels=panels, text=text, trace=trace, torch_call=torch_call("conv2d", "x", weight))

    return Explorer(
        compute,
        [Dropdown("operation", ["cross-correlation", "convolution"]),
         Slider("row", cells, default=0), Slider("col", cells, default=0)],
        name="conv-steps",
        title=f"One output cell at a time: {n}×{n} input, {k}×{k} kernel",
    )
