"""Explorer of chapter 5: pick one input pixel and see which output positions it feeds, and through
which kernel taps (the pattern behind grad_input = full correlation with rot180(W))."""
from __future__ import annotations

import numpy as np

from ..explorer import Explorer, Panel, Slider, View, explorer_factory

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


@explorer_factory
def pixel_picker(n: int = 5) -> Explorer:
    """Row/column sliders pick an input pixel ``X[r, c]`` of an ``n x n`` input; kernel size and stride
    sliders set the convolution (no padding, to keep the page light; :func:`pixel_influence` takes one). The kernel holds 1..k² so every tap is recognisable.

    Output: ``M[i, j] = dY[i, j]/dX[r, c]`` (:func:`pixel_influence`), the kernel tap through which the
    pixel reaches each output position (0 where it does not). Panels: the zero-padded input with the
    pixel outlined, the kernel with the taps used outlined, and ``M`` with the outputs fed outlined.
    """
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
        panels = [
            Panel(f"input, pixel X[{row}, {col}]", xp, numbers=True,
                  cmap="Blues", vmin=-0.5, vmax=2.0, highlight=[(row + p, col + p, 1, 1)]),
            Panel("kernel W, taps used", w, numbers=True, cmap="Oranges", vmin=-k * k * 0.3,
                  vmax=k * k * 1.8, highlight=taps),
            Panel(f"dY[i, j]/dX[{row}, {col}]", m, numbers=True, cmap="Greens", vmin=-k * k * 0.3,
                  vmax=k * k * 1.8, highlight=fed),
        ]
        return View(output=m, panels=panels, text=text)

    return Explorer(
        compute,
        [Slider("row", list(range(n)), default=min(2, n - 1), label="pixel row r"),
         Slider("col", list(range(n)), default=min(1, n - 1), label="pixel column c"),
         Slider("kernel_size", [2, 3], default=3, label="kernel size k"),
         Slider("stride", [1, 2], default=1, label="stride s")],
        name="backprop-pixel-picker",
        title=f"Which outputs does one input pixel feed? ({n}×{n} input)",
    )
