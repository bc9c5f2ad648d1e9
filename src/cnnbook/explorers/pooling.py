"""Explorer of chapter 6: max or average pooling of a small grey photograph with kernel size, stride and
padding sliders; the text line evaluates the output-size formula."""
from __future__ import annotations

import numpy as np

from ..data import sample_photo
from ..explorer import Dropdown, Explorer, Panel, Slider, View, explorer_factory
from ..explorer.images import OwnImage
from ..explorer.tracing import POOL_DEFAULTS, Window, torch_call

__all__ = ["pooling_explorer"]


@explorer_factory
def pooling_explorer(size: int = 16) -> Explorer:
    """Max or average pooling of a ``size x size`` grey photo (:func:`cnnbook.data.sample_photo`).

    Controls: the pooling kind, kernel size k, stride s and padding p (torch allows p <= k/2). Output: the
    pooled map from ``cnnbook.functional``; panels: the input, its padding drawn pink, with the windows of
    the first and the last output cell outlined, and the pooled map. Text: ``H_out = ⌊(H + 2p − k)/s⌋ + 1``
    evaluated (``cnnbook.shapes.pool_output_size_text``). In JupyterLab it also takes the reader's own image
    (:class:`~cnnbook.explorer.images.OwnImage`: at most ``size x size``, larger ones scaled down; at least 3×3).
    """
    from .. import functional as F
    from ..shapes import pool_output_size, pool_output_size_text

    photo = sample_photo(height=size, width=size)
    state = {"image": photo}

    def use(own: np.ndarray | None) -> None:
        state["image"] = photo if own is None else own

    def compute(kind: str, kernel_size: int, stride: int, padding: int) -> View:
        k, s, p = kernel_size, stride, padding
        x = state["image"]
        if kind == "max":
            y = F.max_pool2d(x[None, None], k, stride=s, padding=p)[0, 0]
        else:
            y = F.avg_pool2d(x[None, None], k, stride=s, padding=p)[0, 0]
        h, w = x.shape
        n_h, n_w = pool_output_size(h, k, stride=s, padding=p), pool_output_size(w, k, stride=s, padding=p)
        last_r, last_c = (n_h - 1) * s, (n_w - 1) * s  # first row/column of the last window (padded)
        text = (pool_output_size_text(h, k, stride=s, padding=p)
                + f"   ({kind} over each {k}×{k} window; {h * w} → {n_h * n_w} numbers)")
        # The padding is drawn pink (NaN): max pooling pads with -inf, average pooling with zeros.
        xp = np.pad(x, p, constant_values=np.nan) if p else x
        padded = f", padded by {p}" if p else ""
        panels = [
            Panel(f"input{padded}; windows of outputs [0, 0] and [{n_h - 1}, {n_w - 1}]", xp,
                  numbers=False, vmin=0.0, vmax=1.0, highlight=[(0, 0, k, k), (last_r, last_c, k, k)], scale=7,
                  name="input"),
            Panel(f"{kind}-pooled (pick a pixel)", y, numbers=False, vmin=0.0, vmax=1.0,
                  scale=max(1, 112 // max(n_h, n_w)), name="output"),
        ]
        trace = [Window("output", "input", k, stride=s, padding=p, op=kind, shown_padding=p, decimals=3)]
        call = torch_call(f"{kind}_pool2d", "x", str(k), defaults=POOL_DEFAULTS, stride=s, padding=p)
        return View(output=y, panels=panels, text=text, trace=trace, torch_call=call)

    return Explorer(
        compute,
        [Dropdown("kind", {"max pooling": "max", "average pooling": "avg"}, default="max", label="pooling"),
         Slider("kernel_size", [2, 3], default=2, label="kernel size k"),
         Slider("stride", [1, 2, 3], default=2, label="stride s"),
         Slider("padding", [0, 1], default=0, label="padding p")],
        name="pooling",
        title=f"Pooling a {size}×{size} grey photograph",
        own_image=OwnImage((size, size), 3, use),
    )
