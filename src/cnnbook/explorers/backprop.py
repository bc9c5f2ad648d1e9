"""Explorer of chapter 5: pick one input pixel and see which output positions it feeds, and through
which kernel taps (the pattern behind grad_input = full correlation with rot180(W))."""
from __future__ import annotations

import numpy as np

from ..explorer import Explorer, Panel, Slider, View, explorer_factory
from ..explorer.tracing import CONV_DEFAULTS, Window, torch_call

__all__ = ["pixel_picker", "pixel_influence"]


def pixel_influence(weight: np.ndarray, input_shape, row: int, col: int, stride: int = 1,
                    padding: int = 0) -> np.ndarray:
    """The map ``M[i, j] = dY[i, j] / dX[row, col]`` for ``Y = conv2d(X, weight, stride, padding)``.

    Single channel: ``weight`` is ``(k_h, k_w)``, ``input_shape`` is ``(H, W)``. Since
    ``Y[i, j] = sum_{u,v} X[i s + u - p, j s + v - p] W[u, v]``, the pixel ``X[r, c]`` enters
    ``Y[i, j]`` through the tap ``(u, v) = (r + p - i s, c + p - j s)`` when that tap lies inside the kernel,
    so ``M[i, j] = W[r + p - i s, c + p - j s]`` there and 0 elsewhere. Shape ``(H_out, W_out)``.
    """
    from ..shapes import conv_output_size

    w = np.asarray(weight, dtype=np.float64)
    kh, kw = w.shape
    ho = conv_output_size(int(input_shape[0]), kh, stride=stride, padding=padding)
    wo = conv_output_size(int(input_shape[1]), kw, stride=stride, padding=padding)
    m = np.zeros((ho, wo))
    for i in range(ho):
        u = row + padding - i * stride
        if not 0 <= u < kh:
            continue
        for j in range(wo):
            v = col + padding - j * stride
            if 0 <= v < kw:
                m[i, j] = w[u, v]
    return m


def _upstream(n_out: int) -> np.ndarray:
    """A fixed upstream gradient ``G = dL/dY`` of small non-zero integers (the same on every page load)."""
    g = np.random.default_rng(5).integers(-3, 4, size=(n_out, n_out)).astype(np.float64)
    g[g == 0] = 1.0
    return g


@explorer_factory
def pixel_picker(n: int = 5) -> Explorer:
    """Row/column sliders pick an input pixel ``X[r, c]`` of an ``n x n`` input; kernel size and stride
    sliders set the convolution (no padding, to keep the page light; :func:`pixel_influence` takes one). The kernel holds 1..k² so every tap is recognisable.

    Output: ``M[i, j] = dY[i, j]/dX[r, c]`` (:func:`pixel_influence`), the kernel tap through which the
    pixel reaches each output position (0 where it does not). Panels: the zero-padded input with the
    pixel outlined, the kernel with the taps used outlined, and ``M`` with the outputs fed outlined;
    then the whole gradient for an upstream gradient ``G = dL/dY`` of small integers:
    ``G``, ``rot180(W)`` and ``dL/dX = conv_transpose2d(G, W, stride)`` (torch's ``grad_input``), traced:
    picking a cell of ``dL/dX`` lights the entries of ``G`` and the taps of ``rot180(W)`` that meet
    there (the full correlation of the zero-stuffed ``G`` with ``rot180(W)``), and
    ``dL/dX[r, c] = sum_{i,j} G[i, j] M[i, j]``.
    """
    from .. import functional as F
    from ..shapes import conv_output_size_text

    def compute(row: int, col: int, kernel_size: int, stride: int, padding: int = 0) -> View:
        k, s, p = kernel_size, stride, padding
        w = np.arange(1, k * k + 1, dtype=np.float64).reshape(k, k)
        m = pixel_influence(w, (n, n), row, col, s, p)
        n_out = m.shape[0]
        xp = np.zeros((n + 2 * p, n + 2 * p))
        xp[row + p, col + p] = 1.0  # the picked pixel, marked with a 1
        fed = [(int(i), int(j), 1, 1) for i, j in zip(*np.nonzero(m))]
        taps = [(row + p - i * s, col + p - j * s, 1, 1) for i, j, _, _ in fed]
        text = (f"{conv_output_size_text(n, k, stride=s, padding=p)}; "
                f"X[{row}, {col}] feeds {len(fed)} of {n_out * n_out} outputs, "
                + (f"each through tap W[{row} − {s}·i, {col} − {s}·j]" if p == 0 else
                 f"each through tap W[{row} + {p} − {s}·i, {col} + {p} − {s}·j]"))
        g = _upstream(n_out)
        extra = n + 2 * p - k - (n_out - 1) * s  # rows the stride never reaches: output_padding
        dx = F.conv_transpose2d(g[None, None], w[None, None], stride=s, padding=p, output_padding=extra)[0, 0]
        panels = [
            Panel(f"input, pixel X[{row}, {col}]", xp, numbers=True,
                  cmap="Blues", vmin=-0.5, vmax=2.0, highlight=[(row + p, col + p, 1, 1)]),
            Panel("kernel W, taps used", w, numbers=True, cmap="Oranges", vmin=-k * k * 0.3,
                  vmax=k * k * 1.8, highlight=taps),
            Panel(f"dY[i, j]/dX[{row}, {col}]", m, numbers=True, cmap="Greens", vmin=-k * k * 0.3,
                  vmax=k * k * 1.8, highlight=fed),
            Panel("upstream gradient G = dL/dY", g, numbers=True, cmap="coolwarm", vmin=-6, vmax=6, name="G"),
            Panel("rot180(W)", w[::-1, ::-1], numbers=True, cmap="Oranges", vmin=-k * k * 0.3, vmax=k * k * 1.8,
                  name="rotW"),
            Panel(f"dL/dX (pick a cell; X[{row}, {col}] outlined)", dx, numbers=True, cmap="coolwarm",
                  vmin=-float(np.abs(dx).max()) * 1.6 or -1.0, vmax=float(np.abs(dx).max()) * 1.6 or 1.0,
                  highlight=[(row, col, 1, 1)], name="dX"),
        ]
        trace = [Window("dX", "G", k, stride=s, padding=p, kernel="rotW", transposed=True, flip=True,
                        symbols=("dL/dX", "G", "rot180(W)"))]
        call = (torch_call("conv_transpose2d", "G", "w", defaults=CONV_DEFAULTS, stride=s, padding=p,
                           output_padding=extra)
                + "  # = x.grad after " + torch_call("conv2d", "x", "w", defaults=CONV_DEFAULTS, stride=s,
                                                     padding=p) + ".backward(G)")
        return View(output=m, panels=panels, text=text, trace=trace, torch_call=call)

    return Explorer(
        compute,
        [Slider("row", list(range(n)), default=min(2, n - 1), label="pixel row r"),
         Slider("col", list(range(n)), default=min(1, n - 1), label="pixel column c"),
         Slider("kernel_size", [2, 3], default=3, label="kernel size k"),
         Slider("stride", [1, 2], default=1, label="stride s")],
        name="backprop-pixel-picker",
        title=f"Which outputs does one input pixel feed? ({n}×{n} input)",
    )
