"""Dependency tracing: which cells of one panel a cell of another panel is computed from.

An explorer declares, for each view, how its output panel is computed from its input panel (and the
kernel panel): a :class:`Window` relation, the one relation behind correlation, convolution, pooling and
transposed convolution; or, through a whole stack of layers, a :class:`Field`: a unit and its receptive
field; or, for a table of counts, a :class:`Ratio`: cells that are the quotient of two other cells. The declaration is a handful of numbers (kernel size, stride, padding,
dilation, ...), written into the page as JSON (``data-trace`` of the view's panels) and read by
``explorer.js``, on the website and live in JupyterLab alike: picking a cell lights the cells it is made
of, and an equation line adds up their displayed numbers. :meth:`Window.pairs` is the same relation in
Python, for the tests (checked against torch's autograd: the window of an output cell is the set of
input pixels with a non-zero gradient), and so are :meth:`Field.pairs` and :meth:`Ratio.pairs`.

Coordinates are those of the panels as drawn: ``shown_padding`` says how many rings of padding the input
panel draws around the input, so an input pixel ``x[r, c]`` is panel cell ``(r + shown_padding,
c + shown_padding)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

__all__ = ["Window", "Field", "Ratio", "torch_call"]

_OPS = ("sum", "max", "avg")


def _pair(value: int | Sequence[int], name: str, low: int) -> tuple[int, int]:
    a, b = (value, value) if isinstance(value, int) else tuple(value)
    if not (isinstance(a, int) and isinstance(b, int)) or a < low or b < low:
        raise ValueError(f"{name} must be an int >= {low} or a pair of them, got {value!r}")
    return int(a), int(b)


@dataclass(frozen=True)
class Window:
    """Panel ``output`` is a sliding-window operation of panel ``input``.

    Gather (``transposed=False``, correlation and pooling): output cell ``(i, j)`` reads the taps
    ``(u, v)``, ``0 <= u < k_h``, ``0 <= v < k_w``, at input pixel ``(i s + u d - p, j s + v d - p)``,
    and ``op`` combines them: ``"sum"`` is ``y[i, j] = b + sum_{u,v} w[u, v] x[...]`` (the weights in
    panel ``kernel``, all ones without one), ``"max"`` and ``"avg"`` pool (``avg`` divides by ``k_h k_w``,
    padding included, as torch does by default).

    Scatter (``transposed=True``, transposed convolution and the gradient of a convolution): input cell
    ``(r, c)`` adds the stamp ``x[r, c] w[u, v]`` at output pixel ``(r s + u d - p, c s + v d - p)``, so
    ``y[a, b] = b + sum x[r, c] w[u, v]`` over the stamps that land on ``(a, b)``.

    ``flip=True``: the kernel panel shows the weights rotated by 180 degrees (tap ``(u, v)`` is drawn at
    ``(k_h - 1 - u, k_w - 1 - v)``), as the gradient's full correlation with ``rot180(W)`` applies them;
    ``kernel_dilated=True``: the kernel panel shows the dilated kernel (tap ``(u, v)`` drawn at
    ``(u d, v d)``, zeros between).
    ``symbols`` name the three panels in the equation line, e.g. ``y[1, 2] = 8·1 + 6·1 + … = 37``;
    ``decimals`` rounds its result like the panels round their numbers.
    """

    output: str
    input: str
    kernel_size: int | tuple[int, int]
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] = 0
    dilation: int | tuple[int, int] = 1
    kernel: str | None = None
    op: str = "sum"
    bias: float | None = None
    transposed: bool = False
    flip: bool = False
    kernel_dilated: bool = False
    shown_padding: int = 0
    symbols: tuple[str, str, str] = ("y", "x", "w")
    decimals: int = 2

    def __post_init__(self) -> None:
        _pair(self.kernel_size, "kernel_size", 1)
        _pair(self.stride, "stride", 1)
        _pair(self.padding, "padding", 0)
        _pair(self.dilation, "dilation", 1)
        if self.op not in _OPS:
            raise ValueError(f"op must be one of {_OPS}, got {self.op!r}")
        if self.op != "sum" and (self.kernel is not None or self.transposed):
            raise ValueError(f"op {self.op!r} pools: it takes no kernel panel and is never transposed")
        if self.shown_padding < 0:
            raise ValueError(f"shown_padding must be >= 0, got {self.shown_padding}")

    # -- the relation, in panel coordinates
    def pairs(self, input_shape: tuple[int, int], output_shape: tuple[int, int]
              ) -> Iterator[tuple[tuple[int, int], tuple[int, int], tuple[int, int]]]:
        """Every ``(output cell, input cell, kernel cell)`` that meet, in the panels' coordinates.

        ``input_shape`` and ``output_shape`` are the shapes of the two panels; the kernel cell is where
        the tap is drawn (rotated when :attr:`flip`). Cells outside a panel (undrawn padding) are left out.
        """
        kh, kw = _pair(self.kernel_size, "kernel_size", 1)
        sh, sw = _pair(self.stride, "stride", 1)
        ph, pw = _pair(self.padding, "padding", 0)
        dh, dw = _pair(self.dilation, "dilation", 1)
        q = self.shown_padding
        hi, wi = input_shape
        ho, wo = output_shape

        def tap(u: int, v: int) -> tuple[int, int]:
            u, v = (kh - 1 - u, kw - 1 - v) if self.flip else (u, v)
            return (u * dh, v * dw) if self.kernel_dilated else (u, v)

        if not self.transposed:
            for i in range(ho):
                for j in range(wo):
                    for u in range(kh):
                        for v in range(kw):
                            r, c = i * sh + u * dh - ph + q, j * sw + v * dw - pw + q
                            if 0 <= r < hi and 0 <= c < wi:
                                yield (i, j), (r, c), tap(u, v)
        else:
            for r in range(hi):
                for c in range(wi):
                    for u in range(kh):
                        for v in range(kw):
                            a, b = (r - q) * sh + u * dh - ph, (c - q) * sw + v * dw - pw
                            if 0 <= a < ho and 0 <= b < wo:
                                yield (a, b), (r, c), tap(u, v)

    def linked(self, panel: str, cell: tuple[int, int], input_shape: tuple[int, int],
               output_shape: tuple[int, int]) -> dict[str, set[tuple[int, int]]]:
        """The cells lit when ``cell`` of ``panel`` is picked, by panel name.

        An output cell lights the input cells it reads and the kernel taps used; an input cell lights
        every output cell that reads it and the taps through which it does. (What ``explorer.js`` lights.)
        """
        lit: dict[str, set[tuple[int, int]]] = {self.output: set(), self.input: set()}
        if self.kernel is not None:
            lit[self.kernel] = set()
        cell = tuple(cell)
        for out, inp, k in self.pairs(input_shape, output_shape):
            if panel == self.output and out == cell:
                lit[self.input].add(inp)
            elif panel == self.input and inp == cell:
                lit[self.output].add(out)
            else:
                continue
            if self.kernel is not None:
                lit[self.kernel].add(k)
        lit.pop(panel, None)
        return lit

    def to_json(self) -> dict[str, Any]:
        """The declaration as ``explorer.js`` reads it."""
        return {
            "kind": "window", "out": self.output, "in": self.input, "kernel": self.kernel, "op": self.op,
            "k": list(_pair(self.kernel_size, "kernel_size", 1)), "s": list(_pair(self.stride, "stride", 1)),
            "p": list(_pair(self.padding, "padding", 0)), "d": list(_pair(self.dilation, "dilation", 1)),
            "bias": self.bias, "transposed": self.transposed, "flip": self.flip, "q": self.shown_padding,
            "kd": self.kernel_dilated,
            "sym": list(self.symbols), "decimals": self.decimals,
        }


def _offsets(value: Sequence[int] | tuple[Sequence[int], Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    """``offsets`` of a :class:`Field` as (rows, columns): one sequence stands for both axes."""
    axes = tuple(value)
    if axes and all(isinstance(a, (int,)) or hasattr(a, "__index__") for a in axes):
        axes = (axes, axes)
    if len(axes) != 2:
        raise ValueError(f"offsets must be a sequence of ints >= 0 or a pair of them, got {value!r}")
    out = []
    for axis in axes:
        seq = tuple(int(a) for a in axis)
        if not seq or min(seq) < 0 or len(set(seq)) != len(seq):
            raise ValueError(f"offsets must be non-empty sequences of distinct ints >= 0, got {value!r}")
        out.append(tuple(sorted(seq)))
    return tuple(out)


@dataclass(frozen=True)
class Field:
    """Panel ``output`` holds units whose receptive field is a patch of panel ``input``.

    Output cell ``(i, j)`` depends on the input cells ``(start_h + i jump_h + a, start_w + j jump_w + b)``
    for ``a`` in ``offsets[0]`` and ``b`` in ``offsets[1]`` (the positions inside the span of the field
    that some path of the network reaches: ``0 .. r - 1`` for an ordinary stack, with holes for a
    dilated one), clipped to the input panel. ``start`` is negative when padding makes the field begin
    before the image. :meth:`through` derives all three from the layers.

    The equation line names the field, e.g. ``map 3[2, 4] = f(digit rows 0–13, columns 2–15: a 14×14
    receptive field) = 0.83``, and ends with the output cell's value (``decimals`` rounds it; ``function``
    names ``f``); ``symbols`` name the output and input panels in it.
    """

    output: str
    input: str
    start: int | tuple[int, int]
    jump: int | tuple[int, int]
    offsets: Any
    symbols: tuple[str, str] = ("y", "x")
    function: str = "f"
    decimals: int = 2
    kernel: None = None
    op: str = "field"

    def __post_init__(self) -> None:
        a, b = (self.start, self.start) if isinstance(self.start, int) else tuple(self.start)
        if not (isinstance(a, int) and isinstance(b, int)):
            raise ValueError(f"start must be an int or a pair of ints, got {self.start!r}")
        _pair(self.jump, "jump", 1)
        _offsets(self.offsets)
        if self.kernel is not None or self.op != "field":
            raise ValueError("a Field has no kernel panel and its op is 'field'")

    @classmethod
    def through(cls, output: str, input: str, layers: Sequence[tuple[int, int, int, int]],
                shown_padding: int = 0, **kwargs: Any) -> "Field":
        """The field of a stack of square layers ``(k, s, p, d)`` (convolutions and pooling windows alike).

        ``jump = prod s_l``; the field of unit 0 starts at ``-sum_l p_l j_{l-1}`` (the padding of each layer,
        in input pixels), and its offsets are where :func:`cnnbook.shapes.receptive_field_counts` is
        non-zero. ``shown_padding``: rings of padding the input panel draws.
        """
        from ..shapes import receptive_field_counts

        start, jump = 0, 1
        for index, layer in enumerate(layers):
            k, s, p, d = layer
            for name, v, low in (("kernel size", k, 1), ("stride", s, 1), ("padding", p, 0), ("dilation", d, 1)):
                if not isinstance(v, int) or v < low:
                    raise ValueError(f"layer {index}: {name} must be an int >= {low}, got {v!r}")
            start -= p * jump
            jump *= s
        counts = receptive_field_counts([(k, s, d) for k, s, p, d in layers])
        offsets = tuple(t for t, c in enumerate(counts) if c)
        return cls(output, input, start + shown_padding, jump, offsets, **kwargs)

    def cells(self, cell: tuple[int, int], input_shape: tuple[int, int]) -> tuple[list[int], list[int]]:
        """The rows and the columns of the input panel in the field of output ``cell`` (clipped)."""
        (sh, sw), (jh, jw) = _pair(self.start, "start", -(10 ** 9)), _pair(self.jump, "jump", 1)
        rows, cols = _offsets(self.offsets)
        i, j = cell
        return ([sh + i * jh + a for a in rows if 0 <= sh + i * jh + a < input_shape[0]],
                [sw + j * jw + b for b in cols if 0 <= sw + j * jw + b < input_shape[1]])

    def pairs(self, input_shape: tuple[int, int], output_shape: tuple[int, int]
              ) -> Iterator[tuple[tuple[int, int], tuple[int, int], None]]:
        """Every ``(output cell, input cell, None)`` of the relation (no kernel), in panel coordinates."""
        for i in range(output_shape[0]):
            for j in range(output_shape[1]):
                rows, cols = self.cells((i, j), input_shape)
                for r in rows:
                    for c in cols:
                        yield (i, j), (r, c), None

    def linked(self, panel: str, cell: tuple[int, int], input_shape: tuple[int, int],
               output_shape: tuple[int, int]) -> dict[str, set[tuple[int, int]]]:
        """The cells lit when ``cell`` of ``panel`` is picked: an output's field, or the outputs whose
        field holds an input cell. (What ``explorer.js`` lights.)"""
        cell = tuple(cell)
        if panel == self.output:
            rows, cols = self.cells(cell, input_shape)
            return {self.input: {(r, c) for r in rows for c in cols}}
        if panel == self.input:
            return {self.output: {o for o, i, _ in self.pairs(input_shape, output_shape) if i == cell}}
        return {self.output: set(), self.input: set()}

    def to_json(self) -> dict[str, Any]:
        """The declaration as ``explorer.js`` reads it."""
        rows, cols = _offsets(self.offsets)
        return {"kind": "field", "out": self.output, "in": self.input, "kernel": None, "op": "field",
                "start": list(_pair(self.start, "start", -(10 ** 9))), "jump": list(_pair(self.jump, "jump", 1)),
                "offsets": [list(rows), list(cols)], "sym": list(self.symbols), "fn": self.function,
                "decimals": self.decimals}


def _cell(value: Sequence[int], name: str) -> tuple[int, int]:
    a = tuple(value)
    if len(a) != 2 or not all(isinstance(v, int) and v >= 0 for v in a):
        raise ValueError(f"{name} must be a (row, column) pair of ints >= 0, got {value!r}")
    return int(a[0]), int(a[1])


@dataclass(frozen=True)
class Ratio:
    """Some cells of panel ``output`` are quotients: ``output[o] = input[a] / denominator[b]``.

    ``quotients`` lists the ``(o, a, b)`` cells, in the panels' coordinates; the three panels may be
    the same one (a table whose second row divides its first by another table's). Picking a quotient
    lights its numerator and its denominator; picking a numerator or a denominator lights the quotients
    that use it. The equation line reads ``<label>: <symbols[1]> ÷ <symbols[2]> [i, j] = 4672 / 36928 =
    0.1265`` (``labels``: one word per quotient, or none), its result rounded to ``decimals``.
    """

    output: str
    input: str
    denominator: str
    quotients: tuple[tuple[tuple[int, int], tuple[int, int], tuple[int, int]], ...]
    labels: tuple[str, ...] = ()
    symbols: tuple[str, str, str] = ("y", "a", "b")
    decimals: int = 4
    kernel: None = None
    op: str = "ratio"

    def __post_init__(self) -> None:
        if not self.quotients:
            raise ValueError("quotients must list at least one (output, numerator, denominator) cell triple")
        quotients = tuple((_cell(o, "an output cell"), _cell(a, "a numerator cell"), _cell(b, "a denominator cell"))
                          for o, a, b in self.quotients)
        outs = [o for o, _, _ in quotients]
        if len(set(outs)) != len(outs):
            raise ValueError(f"quotients must name each output cell once, got {outs}")
        if self.output == self.input and any(o == a for o, a, _ in quotients):
            raise ValueError("a quotient cannot be its own numerator")
        if self.labels and len(self.labels) != len(quotients):
            raise ValueError(f"labels must give one word per quotient ({len(quotients)}), got {len(self.labels)}")
        if self.kernel is not None or self.op != "ratio":
            raise ValueError("a Ratio has no kernel panel and its op is 'ratio'")
        object.__setattr__(self, "quotients", quotients)
        object.__setattr__(self, "labels", tuple(self.labels))

    @property
    def outputs(self) -> set[tuple[int, int]]:
        """The cells of the output panel that are quotients."""
        return {o for o, _, _ in self.quotients}

    def pairs(self, input_shape: tuple[int, int] | None = None, output_shape: tuple[int, int] | None = None
              ) -> Iterator[tuple[tuple[int, int], tuple[int, int], tuple[int, int]]]:
        """Every ``(output cell, numerator cell, denominator cell)`` (the shapes are not needed)."""
        yield from self.quotients

    def linked(self, panel: str, cell: tuple[int, int], input_shape: tuple[int, int] | None = None,
               output_shape: tuple[int, int] | None = None) -> dict[str, set[tuple[int, int]]]:
        """The cells lit when ``cell`` of ``panel`` is picked, by panel name: a quotient's numerator and
        denominator; the quotients a numerator or a denominator enters. (What ``explorer.js`` lights.)"""
        cell = tuple(cell)
        lit: dict[str, set[tuple[int, int]]] = {}
        for o, a, b in self.quotients:
            if panel == self.output and o == cell:
                lit.setdefault(self.input, set()).add(a)
                lit.setdefault(self.denominator, set()).add(b)
            if (panel == self.input and a == cell) or (panel == self.denominator and b == cell):
                lit.setdefault(self.output, set()).add(o)
        return lit

    def to_json(self) -> dict[str, Any]:
        """The declaration as ``explorer.js`` reads it."""
        return {"kind": "ratio", "out": self.output, "in": self.input, "den": self.denominator, "kernel": None,
                "op": "ratio", "cells": [[*o, *a, *b] for o, a, b in self.quotients],
                "labels": list(self.labels), "sym": list(self.symbols), "decimals": self.decimals}


def _literal(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ")"
    return repr(value)


def torch_call(function: str, *args: str, defaults: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """The PyTorch call a view shows, e.g. ``torch.nn.functional.conv2d(x, w, stride=2, padding=1)``.

    ``function`` is the name below ``torch.nn.functional``; ``args`` are the names of the tensors;
    keyword arguments equal to their value in ``defaults`` (torch's defaults) are left out.
    """
    defaults = defaults or {}
    parts = list(args) + [f"{k}={_literal(v)}" for k, v in kwargs.items()
                          if k not in defaults or defaults[k] != v]
    return f"torch.nn.functional.{function}(" + ", ".join(parts) + ")"


#: torch's defaults of the keyword arguments the explorers pass, to leave them out of a call.
CONV_DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0}
POOL_DEFAULTS = {"padding": 0}
