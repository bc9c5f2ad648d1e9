"""Explorer of chapter 7: transposed convolution and dilated convolution side by side, with stride,
padding and dilation sliders (kernel of ones, so every output number counts or sums what overlaps)."""
from __future__ import annotations

import numpy as np

from ..explorer import Dropdown, Explorer, Panel, Slider, View, explorer_factory
from ..explorer.tracing import CONV_DEFAULTS, Window, torch_call

__all__ = ["transposed_dilated"]


def _input(kind: str, n: int) -> np.ndarray:
    if kind == "ones":
        return np.ones((n, n))
    return (np.arange(n * n, dtype=np.float64).reshape(n, n) % 9) + 1  # digits 1..9


@explorer_factory
def transposed_dilated(n_transposed: int = 3, n_dilated: int = 7) -> Explorer:
    """Controls: the operation (transposed convolution of an ``n_transposed``² input of ones, or dilated
    convolution of an ``n_dilated``² input of digits 1..9), kernel size, stride, padding and dilation.
    The kernel is all ones.

    Output: ``conv_transpose2d`` or ``conv2d`` from ``cnnbook.functional``. Panels for the transposed case:
    the input, the equivalent direct convolution's input (stride − 1 zeros inserted with
    ``insert_zeros``, then ``d(k − 1) − p`` rings of zeros), the dilated kernel, and the output (the input
    is all ones, so each number is how many kernel copies overlap there: the checkerboard). For the dilated
    case: the padded input with the taps of output [0, 0] outlined, the dilated kernel
    (``dilate_kernel``, size ``k + (k − 1)(d − 1)``), and the output. The text line evaluates the size
    formula with ``cnnbook.shapes``.
    """
    from .. import functional as F
    from ..primitives import dilate_kernel, insert_zeros, pad2d
    from ..shapes import conv_output_size_text, conv_transpose_output_size_text, effective_kernel_size

    def compute(operation: str, kernel_size: int, stride: int, padding: int,
                dilation: int) -> View:
        k, s, p, d = kernel_size, stride, padding, dilation
        w = np.ones((k, k))
        wd = dilate_kernel(w, d)
        if operation == "transposed":
            n = n_transposed
            x = _input("ones", n)
            try:
                head = conv_transpose_output_size_text(n, k, stride=s, padding=p, dilation=d)
            except ValueError as error:  # an output size below 1
                return View(output=np.zeros((0, 0)), text=f"no output (torch rejects this too): {error}",
                            panels=[Panel("input", x, numbers=True, cmap="Blues", vmin=-2, vmax=14)])
            y = F.conv_transpose2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0]
            ring = d * (k - 1) - p
            z = insert_zeros(x, s)
            z = pad2d(z, ring) if ring >= 0 else z[-ring:ring, -ring:ring]
            panels = [
                Panel("input", x, numbers=True, cmap="Blues", vmin=-2, vmax=14, name="input"),
                Panel(f"zeros inserted (s − 1 = {s - 1}), padded by d(k−1)−p = {ring}", z,
                      numbers=max(z.shape) <= 16, cmap="Blues", vmin=-2, vmax=14),
                Panel(f"kernel ({k}×{k} ones, dilation {d})", wd, numbers=True, cmap="Oranges", vmin=-1,
                      vmax=3, name="kernel"),
                Panel("transposed convolution output", y, numbers=max(y.shape) <= 16, cmap="Greens",
                      vmin=-float(y.max()) * 0.2, vmax=float(y.max()) * 1.6 or 1.0, name="output"),
            ]
            trace = [Window("output", "input", k, stride=s, padding=p, dilation=d, kernel="kernel",
                            transposed=True, kernel_dilated=True)]
            call = torch_call("conv_transpose2d", "x", f"torch.ones(1, 1, {k}, {k})", defaults=CONV_DEFAULTS,
                              stride=s, padding=p, dilation=d)
            text = head + (f"   (windows overlap unevenly: values {int(y.min())}..{int(y.max())})"
                           if y.min() != y.max() else "   (every output cell covered equally)")
            return View(output=y, panels=panels, text=text, trace=trace, torch_call=call)
        n = n_dilated
        x = _input("digits", n)
        span = effective_kernel_size(k, d)
        text = (f"effective kernel k' = {k} + ({k} − 1)({d} − 1) = {span};  "
                + conv_output_size_text(n, k, stride=s, padding=p, dilation=d))
        y = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0]
        taps = [(u * d, v * d, 1, 1) for u in range(k) for v in range(k)]
        panels = [
            Panel(f"padded input (p = {p}), taps of output [0, 0]", pad2d(x, p), numbers=True,
                  cmap="Blues", vmin=-2, vmax=14, highlight=taps, name="input"),
            Panel(f"dilated kernel ({span}×{span})", wd, numbers=True, cmap="Oranges", vmin=-1, vmax=3,
                  name="kernel"),
            Panel("dilated convolution output", y, numbers=True, cmap="Greens",
                  vmin=-float(y.max()) * 0.2, vmax=float(y.max()) * 1.6 or 1.0, highlight=[(0, 0, 1, 1)],
                  name="output"),
        ]
        trace = [Window("output", "input", k, stride=s, padding=p, dilation=d, kernel="kernel",
                        kernel_dilated=True, shown_padding=p)]
        call = torch_call("conv2d", "x", f"torch.ones(1, 1, {k}, {k})", defaults=CONV_DEFAULTS,
                          stride=s, padding=p, dilation=d)
        return View(output=y, panels=panels, text=text, trace=trace, torch_call=call)

    return Explorer(
        compute,
        [Dropdown("operation", {"transposed convolution": "transposed", "dilated convolution": "dilated"},
                  default="transposed", label="operation"),
         Slider("kernel_size", [2, 3], default=3, label="kernel size k"),
         Slider("stride", [1, 2, 3], default=2, label="stride s"),
         Slider("padding", [0, 1, 2], default=0, label="padding p"),
         Slider("dilation", [1, 2], default=1, label="dilation d")],
        name="transposed-dilated",
        title="Transposed and dilated convolution (kernel of ones)",
    )
