"""Explorer of chapter 4: the receptive field of one unit at the top of a stack of up to four layers.

Every layer is a ``k x k`` convolution (or pooling window) with stride ``s`` and dilation ``d``; no padding.
The field is computed by :mod:`cnnbook.shapes`: its span and jump by :func:`~cnnbook.shapes.receptive_fields`,
and which pixels it reaches, through how many paths, by :func:`~cnnbook.shapes.receptive_field_counts`.
"""
from __future__ import annotations

import math

import numpy as np

from ..explorer import Dropdown, Explorer, Field, Panel, Slider, View, explorer_factory

__all__ = ["receptive_field_explorer", "stack_layers", "field_frame"]

#: The stride and dilation schedules the explorer offers: label -> one value per layer (up to four).
STRIDES = {"1 in every layer": (1, 1, 1, 1), "2 in the first layer": (2, 1, 1, 1),
           "2 in every layer": (2, 2, 2, 2)}
DILATIONS = {"1 in every layer": (1, 1, 1, 1), "2 in every layer": (2, 2, 2, 2),
             "doubling: 1, 2, 4, 8": (1, 2, 4, 8)}
#: The width of the drawn input in screen pixels (about).
DRAWN_WIDTH = 300
#: The shade of a pixel inside the span that no path reaches, and the lightest shade of one that is reached.
HOLE, REACHED = 0.2, 0.45


def stack_layers(layers: int, kernel_size: int, stride: str, dilation: str) -> list[tuple[int, int, int]]:
    """The stack of a setting: ``(k, s, d)`` for each of the first ``layers`` layers."""
    return [(kernel_size, STRIDES[stride][i], DILATIONS[dilation][i]) for i in range(layers)]


def field_frame(layers: int, kernel_size: int, stride: str, dilation: str) -> tuple[int, int]:
    """``(n, unit)``: the input is ``n x n`` (room for the four-layer stack of the same kernel size,
    strides and dilations, so that the frame stays put while the number of layers changes), and the unit
    shown is ``(unit, unit)`` of the top layer's output, the one whose field is nearest the centre."""
    from ..shapes import receptive_fields

    r_max = receptive_fields(stack_layers(4, kernel_size, stride, dilation))[-1][0]
    n = r_max + 2 * max(2, r_max // 10)
    r, j = receptive_fields(stack_layers(layers, kernel_size, stride, dilation))[-1]
    return n, ((n - r) // 2) // j


@explorer_factory
def receptive_field_explorer() -> Explorer:
    """One unit's receptive field on the input of a stack of 1-4 layers with shared k and schedules of
    s and d.

    Output: the number of paths from each input pixel to the unit (its input gradient when every weight
    is 1; zero outside the field and in its holes). Panels: the input with those counts shaded
    (logarithmically) and the rest of the ``r x r`` span of the recursion in the palest shade; the top
    layer's output units, each holding the number of input pixels it reaches;
    the table ``k, s, d, r, j`` of the layers. The text evaluates the recursion
    (:func:`cnnbook.shapes.receptive_field_text`). Tracing: a unit of the top layer lights the pixels it
    reaches (a :class:`~cnnbook.explorer.tracing.Field` whose offsets are where the counts are non-zero),
    an input pixel the units that reach it.
    """
    from ..shapes import conv_output_size, receptive_field_counts, receptive_field_text, receptive_fields

    def compute(layers: int, kernel_size: int, stride: str, dilation: str) -> View:
        stack = stack_layers(layers, kernel_size, stride, dilation)
        n, unit = field_frame(layers, kernel_size, stride, dilation)
        table = [(k, s, d, r, j) for (k, s, d), (r, j) in zip(stack, receptive_fields(stack))]
        r, j = table[-1][3:]
        counts = np.asarray(receptive_field_counts(stack), dtype=np.float64)
        start = unit * j
        paths = np.zeros((n, n))
        paths[start:start + r, start:start + r] = np.outer(counts, counts)
        top = n
        for k, s, d in stack:
            top = conv_output_size(top, k, stride=s, dilation=d)
        most = float(paths.max())
        # the shade: 0 outside the span, HOLE inside it where no path arrives, REACHED..1 (log of the
        # number of paths) where one does; no outline, so that each state's image stays one pixel per cell
        shade = np.zeros((n, n))
        shade[start:start + r, start:start + r] = HOLE
        shade[paths > 0] = REACHED + (1 - REACHED) * np.log(paths[paths > 0]) / (math.log(most) or 1.0)
        reached = int((paths > 0).sum())
        text = (f"{receptive_field_text(stack)};  unit ({unit}, {unit}) of the top layer's {top}×{top} "
                f"output reaches {reached} of the {r}×{r} = {r * r} pixels of its span")
        offsets = tuple(t for t, c in enumerate(counts) if c)
        panels = [
            Panel(f"input {n}×{n}: the pixels reaching the unit (darker: more paths) and the rest of "
                  f"its {r}×{r} span (palest)", shade, numbers=False, cmap="Greens", vmin=0.0, vmax=1.0,
                  scale=max(1, DRAWN_WIDTH // n), name="input"),

            Panel("layers: k, s, d, r, j", np.array(table, dtype=np.float64), numbers=True, cmap="Blues",
                  vmin=0.0, vmax=float(max(max(row) for row in table)) * 3.0),
            Panel(f"top layer's {top}×{top} units (pick one): the input pixels each reaches; "
                  f"unit ({unit}, {unit}) is the one shaded",
                  np.full((top, top), float(reached)), numbers=False, cmap="Oranges", vmin=0.0, vmax=reached * 3.0,
                  decimals=0, scale=max(1, DRAWN_WIDTH // 2 // top), name="top"),
        ]
        trace = [Field("top", "input", 0, j, offsets, symbols=("top", "input"), function="pixels reached",
                       decimals=0)]
        return View(output=paths, panels=panels, text=text, trace=trace)

    return Explorer(
        compute,
        [Slider("layers", [1, 2, 3, 4], default=3, label="layers"),
         Slider("kernel_size", [1, 2, 3], default=3, label="kernel size k"),
         Dropdown("stride", list(STRIDES), default="1 in every layer", label="stride s"),
         Dropdown("dilation", list(DILATIONS), default="1 in every layer", label="dilation d")],
        name="receptive-field",
        title="The receptive field of one unit through a stack of layers",
    )
