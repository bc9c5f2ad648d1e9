"""Explorer of chapter 10: how the gradient fares on its way down a deep network, with and without
shortcuts and batch normalization.

One minibatch of training digits through :func:`cnnbook.models.small_resnet` at its initial weights;
controls for the number of blocks per stage (the depth), the shortcuts and the batch normalization. It
shows the gradient norm ``||dL/dW||`` of every weighted layer along the main path, from the first
(input side) to the last (the linear layer), and the spread of the signal after every block. Under
them, PyTorch code that computes the same norms with the torch twin of the network (:func:`depth_call`).
"""
from __future__ import annotations

import functools

import numpy as np

from ..explorer import Dropdown, Explorer, Panel, Slider, View, explorer_factory

__all__ = ["depth_explorer", "depth_call", "WIDTHS", "main_path_norms"]

#: The widths of the three stages of the explored network.
WIDTHS = (8, 16, 32)


def main_path_norms(norms: dict[str, float]) -> np.ndarray:
    """The gradient norms of the weighted layers on the main path, in order: every convolution and the
    linear layer, without the 1x1 projections of the shortcuts (which do not count in the depth)."""
    return np.array([v for k, v in norms.items() if "downsample" not in k])


def depth_call(blocks: int, shortcut: bool, batch_norm: bool, batch_size: int = 16, seed: int = 0) -> str:
    """PyTorch code that computes the norms the explorer shows: the network written with ``torch.nn``
    (:func:`cnnbook.check.torch_small_resnet`) holding the initial weights of
    :func:`cnnbook.models.small_resnet` (``seed``), the first ``batch_size`` training digits, the mean
    cross-entropy, ``backward()``, and ``||dL/dW||`` of the weights on the main path, input side first."""
    net = f"(WIDTHS, {blocks}, shortcut={shortcut}, batch_norm={batch_norm}, stem_stride=2"
    return "\n".join([
        "import torch",
        "from cnnbook.check import torch_small_resnet, torch_twin",
        "from cnnbook.data import load_handwritten_digits",
        "from cnnbook.models import small_resnet",
        f"WIDTHS = {WIDTHS}",
        f"net = torch_twin(small_resnet{net}, seed={seed}),",
        f"                 torch_small_resnet{net}))",
        "x, y, _, _ = load_handwritten_digits()",
        f"loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x[:{batch_size}])), "
        f"torch.from_numpy(y[:{batch_size}]))",
        "loss.backward()",
        "[p.grad.norm().item() for name, p in net.named_parameters() if p.ndim >= 2 and \"downsample\" not in name]",
    ])


@explorer_factory
def depth_explorer(batch_size: int = 16, seed: int = 0) -> Explorer:
    """Gradient norms by depth in a small ResNet at initialisation (``seed``), for ``batch_size`` digits.

    Controls: blocks per stage (1-5, so 8-32 weighted layers), shortcuts on/off, batch norm on/off.
    Output: the ``depth`` gradient norms of :func:`main_path_norms`, input side first. Panels: their
    base-10 logarithms as a strip (one colour scale for every setting), and the standard deviation of
    the signal after the stem and after every block. Text: the first and the last layer's norm. PyTorch
    call: :func:`depth_call`.
    """
    from .. import nn
    from ..data import load_handwritten_digits
    from ..models import small_resnet
    from ..training import gradient_norms, layer_output_stds

    x, y, _, _ = load_handwritten_digits()
    xb, yb = x[:batch_size], y[:batch_size]

    @functools.lru_cache(maxsize=None)
    def measure(blocks: int, shortcut: bool, batch_norm: bool):
        model = small_resnet(WIDTHS, blocks, shortcut=shortcut, batch_norm=batch_norm, stem_stride=2, seed=seed)
        norms = main_path_norms(gradient_norms(model, xb, yb))
        stds = layer_output_stds(model, xb, of=(nn.ReLU, nn.BasicBlock))      # the stem, then every block
        return norms, np.array(stds)

    def compute(blocks: int, shortcut: bool, batch_norm: bool) -> View:
        norms, stds = measure(blocks, shortcut, batch_norm)
        depth = len(norms)
        logs = np.log10(np.maximum(norms, 1e-30))[None, :]
        panels = [
            Panel(f"log₁₀ ‖dL/dW‖ of the {depth} weighted layers, input side (left) to output (right)", logs,
                  numbers=False, cmap="viridis", vmin=-10.0, vmax=1.5, scale=max(8, 320 // depth)),
            Panel("spread (standard deviation) of the signal after the stem and after each block", stds[None, :],
                  numbers=True, cmap="Greys", vmin=0.0, vmax=float("inf"), decimals=3),
        ]
        text = (f"{depth} weighted layers, shortcuts {'on' if shortcut else 'off'}, batch norm "
                f"{'on' if batch_norm else 'off'}: ‖dL/dW‖ = {norms[0]:.2e} at the first layer, "
                f"{norms[-2]:.2e} at the last convolution, {norms[-1]:.2e} at the linear layer "
                f"(first ÷ last convolution = {norms[0] / norms[-2]:.3g}).")
        return View(output=norms, panels=panels, text=text,
                    torch_call=depth_call(blocks, shortcut, batch_norm, batch_size, seed))

    return Explorer(
        compute,
        [Slider("blocks", [1, 2, 3, 4, 5], default=3, label="blocks per stage (depth 2 + 6 × blocks)"),
         Dropdown("shortcut", {"on": True, "off": False}, default=False, label="shortcuts"),
         Dropdown("batch_norm", {"on": True, "off": False}, default=False, label="batch norm")],
        name="depth-gradients",
        title="The gradient by depth: shortcuts and batch normalization",
    )
