"""Explorers of chapters 1 and 3: the kernel gallery on a photograph, and translation equivariance.

Both images come from :mod:`cnnbook.data` (no downloads): :func:`~cnnbook.data.sample_photo`, a small grey
version of a sample photograph of scikit-learn, and :func:`~cnnbook.data.sample_digit`, an 8x8 digit of
``load_digits`` on a black canvas.
"""
from __future__ import annotations

import numpy as np

from ..data import sample_digit, sample_photo
from ..explorer import Dropdown, Explorer, Panel, Slider, View, explorer_factory
from ..explorer.images import OwnImage
from ..explorer.tracing import CONV_DEFAULTS, Window, torch_call
from ..kernels import KERNEL_NAMES, get_kernel

__all__ = ["kernel_gallery", "equivariance", "filter_image"]


def filter_image(image: np.ndarray, kernel: np.ndarray, padding: int = 1) -> np.ndarray:
    """Cross-correlate a grey image with one kernel through ``cnnbook.functional.conv2d`` (zero padding).

    ``image`` (H, W), ``kernel`` (k, k) -> (H + 2p - k + 1, W + 2p - k + 1).
    """
    from .. import functional as F

    x = np.asarray(image, dtype=np.float64)[None, None]
    w = np.asarray(kernel, dtype=np.float64)[None, None]
    return F.conv2d(x, w, padding=padding)[0, 0]


def _size_text(n_h: int, n_w: int, k: int, p: int) -> str:
    from ..shapes import conv_output_size_text

    return f"{conv_output_size_text(n_h, k, padding=p)},  {conv_output_size_text(n_w, k, padding=p, name='W_out')}"


@explorer_factory
def kernel_gallery(image: str = "china.jpg", height: int = 64, width: int = 96) -> Explorer:
    """The nine classic 3x3 kernels on a small grey photograph.

    Controls: the kernel, and whether it is applied as a cross-correlation (``conv2d``, ``cv2.filter2D``)
    or as a true convolution (the kernel rotated by 180 degrees first). Padding 1, stride 1: the output has
    the size of the image. Panels: the photograph, the kernel as applied and the output. Tracing: an
    output pixel lights its 3×3 window of the photograph (:class:`~cnnbook.explorer.tracing.Window`, the
    padding not drawn) and the kernel's taps; the equation adds up the nine products.

    The reader's own image (:class:`~cnnbook.explorer.images.OwnImage`): uploaded in JupyterLab, or chosen
    on the website, where ``explorer.js`` applies the nine kernels itself (grey, zero padding 1, 3×3
    correlation); at most ``height x width`` (larger images are scaled down), at least 3×3.
    """
    photo = sample_photo(image, height, width)
    state = {"image": photo}

    def use(own: np.ndarray | None) -> None:
        state["image"] = photo if own is None else own

    def compute(kernel: str, operation: str) -> View:
        k = get_kernel(kernel)
        x = state["image"]
        applied = k if operation == "cross-correlation" else k[::-1, ::-1].copy()
        y = filter_image(x, applied, padding=1)
        lim = float(np.abs(y).max()) or 1.0
        signed = bool((y < 0).any())
        panels = [
            Panel("image (pick a pixel)", x, numbers=False, cmap="gray", vmin=0.0, vmax=1.0, name="input"),
            Panel("kernel as applied", applied,
                  numbers=True, cmap="coolwarm", vmin=-float(np.abs(applied).max()),
                  vmax=float(np.abs(applied).max()), name="kernel"),
            Panel("output (feature map)", y, numbers=False, cmap="gray",
                  vmin=-lim if signed else 0.0, vmax=lim, name="output"),
        ]
        weight = "w" if operation == "cross-correlation" else "torch.flip(w, [2, 3])"
        trace = [Window("output", "input", 3, padding=1, kernel="kernel", decimals=3)]
        return View(output=y, panels=panels, text=_size_text(x.shape[0], x.shape[1], 3, 1), trace=trace,
                    torch_call=torch_call("conv2d", "x", weight, defaults=CONV_DEFAULTS, padding=1))

    browser = {"kind": "correlate", "kernel_control": "kernel", "operation_control": "operation",
               "flip": "convolution", "padding": 1, "panel": "output", "input_panel": "input",
               "kernels": {name: get_kernel(name).tolist() for name in KERNEL_NAMES}}
    return Explorer(
        compute,
        [Dropdown("kernel", KERNEL_NAMES, default="sobel x"),
         Dropdown("operation", ["cross-correlation", "convolution"])],
        name="kernel-gallery",
        title="Nine classic 3x3 kernels on a photograph (padding 1, stride 1)",
        own_image=OwnImage((height, width), 3, use, browser=browser),
    )


@explorer_factory
def equivariance(digit: int = 0, canvas: int = 16, kernel: str = "sobel x",
                 max_shift: int = 2) -> Explorer:
    """Translation equivariance on a digit: shifting then filtering equals filtering then shifting.

    The digit (in a black canvas) is shifted by ``(dy, dx)`` with ``np.roll``; the panels show the shifted
    digit, the feature map of the shifted digit, the shifted feature map of the original digit, and their
    difference, which is zero (the canvas border is black, so the roll never wraps any ink around); and
    the kernel. Tracing: a pixel of the feature map of the shifted digit lights its 3×3 window of the
    shifted digit and the kernel's taps (:class:`~cnnbook.explorer.tracing.Window`, padding 1 not drawn).
    """
    x = sample_digit(digit, canvas)
    k = get_kernel(kernel)
    base = filter_image(x, k, padding=1)
    shifts = list(range(-max_shift, max_shift + 1))

    def compute(dy: int, dx: int) -> View:
        shifted = np.roll(x, (dy, dx), axis=(0, 1))
        y = filter_image(shifted, k, padding=1)
        moved = np.roll(base, (dy, dx), axis=(0, 1))
        diff = y - moved
        lim = float(np.abs(base).max()) or 1.0
        panels = [
            Panel("shifted digit", shifted, numbers=False, vmin=0.0, vmax=1.0, scale=6, name="shifted"),
            Panel(f"{kernel} of the shifted digit", y, numbers=False, cmap="coolwarm",
                  vmin=-lim, vmax=lim, scale=6, name="output"),
            Panel(f"shifted {kernel} of the digit", moved, numbers=False, cmap="coolwarm",
                  vmin=-lim, vmax=lim, scale=6),
            Panel("difference", diff, numbers=False, cmap="coolwarm", vmin=-lim, vmax=lim, scale=6),
            Panel(f"kernel ({kernel})", k, numbers=True, cmap="coolwarm", vmin=-float(np.abs(k).max()) * 2,
                  vmax=float(np.abs(k).max()) * 2, name="kernel"),
        ]
        trace = [Window("output", "shifted", k.shape[0], padding=1, kernel="kernel", decimals=3)]
        text = f"shift (dy, dx) = ({dy}, {dx}); max |difference| = {float(np.abs(diff).max()):.3g}"
        call = torch_call("conv2d", f"torch.roll(x, ({dy}, {dx}), (2, 3))", "w", defaults=CONV_DEFAULTS, padding=1)
        return View(output=y, panels=panels, text=text, trace=trace, torch_call=call)

    return Explorer(
        compute,
        [Slider("dy", shifts, default=0), Slider("dx", shifts, default=0)],
        name="equivariance",
        title=f"Shift, then filter ({kernel}) = filter, then shift",
    )
