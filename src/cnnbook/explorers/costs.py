"""Explorer of chapter 9: what the members of the convolution family cost, by count.

Sliders for the input and output channels, the kernel size, the image size and the number of groups;
for each layer (standard, depthwise separable, spatially separable, grouped, unshared) a small table of
its parameters and multiplications, each also divided by the standard layer's, next to the ratio the
formulas predict (the study notes' for the two separable layers). Every count is
:mod:`cnnbook.shapes`'. Each quotient is traced (:class:`~cnnbook.explorer.tracing.Ratio`): picking it
lights its layer's count and the standard layer's.
"""
from __future__ import annotations

import numpy as np

from ..explorer import Explorer, Panel, Ratio, Slider, View, explorer_factory

__all__ = ["family_costs", "family_call", "family_ratios", "LAYERS", "PANELS"]

#: The rows of the explorer's output, in order.
LAYERS = ("standard", "depthwise separable", "spatially separable", "grouped", "unshared")
#: The names of their panels (``data-panel``), in the same order.
PANELS = ("standard", "depthwise", "spatial", "grouped", "unshared")


def family_ratios() -> list[Ratio]:
    """The quotients of the panels: in every layer's ``[[parameters, multiplies], [÷ standard, ÷ standard]]``,
    cell ``(1, c)`` is the layer's ``(0, c)`` divided by the standard layer's ``(0, c)``."""
    return [Ratio(panel, panel, PANELS[0], (((1, 0), (0, 0), (0, 0)), ((1, 1), (0, 1), (0, 1))),
                  labels=("parameters", "multiplies"), symbols=(layer, layer, LAYERS[0]), decimals=4)
            for layer, panel in zip(LAYERS, PANELS)]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def family_call(in_channels: int, out_channels: int, kernel_size: int, size: int, groups: int) -> str:
    """PyTorch code that builds the first four layers with ``torch.nn`` and counts their parameters (the
    unshared layer has no ``torch.nn`` module). The spatially separable one: a ``k x 1`` column per
    (output, input) channel pair, the products regrouped by output channel, then a ``1 x k`` row each,
    summed over the input channels: ``W[o, c] = a_oc b_oc^T``."""
    c_in, c_out, k, g = in_channels, out_channels, kernel_size, groups
    return "\n".join([
        "from torch import nn",
        f"standard = nn.Conv2d({c_in}, {c_out}, {k})",
        f"depthwise_separable = nn.Sequential(nn.Conv2d({c_in}, {c_in}, {k}, groups={c_in}), nn.Conv2d({c_in}, {c_out}, 1))",
        f"spatially_separable = nn.Sequential(nn.Conv2d({c_in}, {c_in * c_out}, ({k}, 1), groups={c_in}, bias=False),",
        f"    nn.ChannelShuffle({c_in}), nn.Conv2d({c_in * c_out}, {c_out}, (1, {k}), groups={c_out}))",
        f"grouped = nn.Conv2d({c_in}, {c_out}, {k}, groups={g})",
        "[sum(p.numel() for p in m.parameters()) for m in (standard, depthwise_separable, spatially_separable, grouped)]",
    ])


def family_rows(in_channels: int, out_channels: int, kernel_size: int, size: int, groups: int):
    """``(name, parameters, multiplies, predicted multiply ratio, formula text)`` for every layer of
    :data:`LAYERS`: ``C_in -> C_out``, ``k x k`` kernels, an ``n x n`` input, stride 1, no padding."""
    from .. import shapes as S

    c_in, c_out, k, n, g = in_channels, out_channels, kernel_size, size, groups
    n_out = S.conv_output_size(n, k)
    dw = S.depthwise_separable_ratio(c_out, k)
    sp = S.spatially_separable_ratio(k, n)
    return [
        ("standard", S.conv_parameters(c_in, c_out, k), S.conv_multiplies(c_in, c_out, k, n_out), 1.0,
         "the reference: C_out·C_in·k² weights + C_out biases"),
        ("depthwise separable", S.depthwise_separable_parameters(c_in, c_out, k),
         S.depthwise_separable_multiplies(c_in, c_out, k, n_out), dw,
         f"1/C_out + 1/k² = 1/{c_out} + 1/{k * k} = {_fmt(dw)}"),
        ("spatially separable", S.spatially_separable_parameters(c_in, c_out, k),
         S.spatially_separable_multiplies(c_in, c_out, k, n), sp,
         f"1/k + 1/(k(1 − (k − 1)/n)) = {_fmt(sp)}, → 2/k = {_fmt(2 / k)} as n grows"),
        ("grouped", S.conv_parameters(c_in, c_out, k, groups=g), S.conv_multiplies(c_in, c_out, k, n_out, groups=g),
         1.0 / g, f"1/g = 1/{g} = {_fmt(1 / g)}"),
        ("unshared", S.unshared_parameters(c_in, c_out, k, n_out), S.unshared_multiplies(c_in, c_out, k, n_out),
         1.0, f"1 (the same sums), but H_out·W_out = {n_out * n_out} kernels"),
    ]


@explorer_factory
def family_costs() -> Explorer:
    """Parameters and multiplications (per example) of five layers with the same channels and kernel size.

    Output: a 5 x 5 array, one row per layer of :data:`LAYERS`: parameters, multiplications, both
    divided by the standard layer's, and the multiplication ratio the formula predicts (the notes'
    ``1/N_c + 1/h²`` and ``1/m + 1/(m(1 − (m − 1)/N))``, ``1/g`` for groups, 1 for the unshared layer).
    Each panel is one layer: ``[[parameters, multiplications], [÷ standard, ÷ standard]]`` (named in
    :data:`PANELS`); its second row is traced as the quotient of its first by the standard layer's.
    """
    from ..shapes import conv_output_size_text

    def compute(in_channels: int, out_channels: int, kernel_size: int, size: int, groups: int) -> View:
        rows = family_rows(in_channels, out_channels, kernel_size, size, groups)
        _, p_std, m_std, _, _ = rows[0]
        output = np.array([[p, m, p / p_std, m / m_std, predicted] for _, p, m, predicted, _ in rows])
        titles = {"depthwise separable": "depthwise separable (k×k per channel, then 1×1)",
                  "spatially separable": "spatially separable (k×1 then 1×k per kernel)",
                  "grouped": f"grouped (g = {groups})",
                  "unshared": "unshared (a kernel per position)"}
        panels = [Panel(f"{titles.get(name, name)}: parameters, multiplies / ÷ standard; predicted {formula}",
                        output[i, :4].reshape(2, 2), numbers=True, cmap="Greys", vmin=0.0,
                        vmax=float("inf"), decimals=4, name=PANELS[i])
                  for i, (name, _, _, _, formula) in enumerate(rows)]
        text = (conv_output_size_text(size, kernel_size, name="n_out")
                + f"; C_in = {in_channels}, C_out = {out_channels}, stride 1, no padding; "
                  "multiplications per example")
        return View(output=output, panels=panels, text=text, trace=family_ratios(),
                    torch_call=family_call(in_channels, out_channels, kernel_size, size, groups))

    return Explorer(
        compute,
        [Slider("in_channels", [16, 64, 256], default=64, label="input channels C_in"),
         Slider("out_channels", [16, 64, 256], default=64, label="output channels C_out"),
         Slider("kernel_size", [3, 5, 7], default=3, label="kernel size k"),
         Slider("size", [16, 56, 224], default=56, label="image size n"),
         Slider("groups", [2, 4, 16], default=4, label="groups g")],
        name="family-costs",
        title="What the convolution family costs",
    )
