"""Output sizes, receptive fields and the size captions, with PyTorch's exact integer arithmetic.

This is the one place cnnbook computes sizes: :mod:`cnnbook.functional`, :mod:`cnnbook.reference`, the
primitives and the explorers all call it. Every size function takes ints or tuples: with an int ``size``
(and int arguments) it returns an int; if any argument is a tuple it returns a tuple with one int per axis
(height, width).

* convolution:  ``H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1``
* pooling:      the same, with ``ceil`` instead of ``floor`` when ``ceil_mode=True``, except that the
  last window must start inside the input or the left padding (torch's rule);
* transposed:   ``H_out = (H - 1) s - 2p + d(k - 1) + output_padding + 1``.

``d(k - 1) + 1`` is the effective (dilated) kernel size. A convolution's padding may differ before and
after an axis ('same' padding with an even kernel pads one more cell after): an entry of ``padding`` is
then a pair ``(before, after)`` and ``2p`` above reads ``p_before + p_after``.

The ``*_text`` functions evaluate the formula for one axis and return it with the numbers substituted,
e.g. ``conv_output_size_text(7, 3, dilation=2)`` is ``"H_out = ⌊(7 + 2·0 − 2·(3 − 1) − 1)/1⌋ + 1 = 3"``:
the captions the explorers show.

The counts (``conv_parameters``, ``conv_multiplies``, ``linear_parameters``, ``linear_multiplies``) give
what a layer costs: trainable numbers, and multiplications per example. A separate section counts the
rest of the convolution family (chapter 9): depthwise separable, spatially separable, unshared (locally
connected) and tiled layers, with the ratios of the study notes (``*_ratio``) beside the counts.
"""
from __future__ import annotations

from numbers import Integral
from typing import Sequence, Union

from . import arguments

__all__ = [
    "effective_kernel_size",
    "same_padding",
    "conv_output_size",
    "conv_leftover",
    "pool_output_size",
    "conv_transpose_output_size",
    "receptive_field",
    "receptive_fields",
    "receptive_field_counts",
    "receptive_field_text",
    "conv_output_size_text",
    "pool_output_size_text",
    "conv_transpose_output_size_text",
    "conv_parameters",
    "conv_multiplies",
    "linear_parameters",
    "linear_multiplies",
    # the convolution family (chapter 9)
    "depthwise_separable_parameters",
    "depthwise_separable_multiplies",
    "depthwise_separable_ratio",
    "spatially_separable_parameters",
    "spatially_separable_multiplies",
    "spatially_separable_ratio",
    "unshared_parameters",
    "unshared_multiplies",
    "tiled_parameters",
]

#: An int (every axis) or a tuple with one int per axis.
IntOrTuple = Union[int, Sequence[int]]
#: A size result: an int for int arguments, else one int per axis.
SizeResult = Union[int, tuple[int, ...]]
#: Padding of a convolution: an int, or one entry per axis, each an int or a ``(before, after)`` pair.
ConvPadding = Union[int, Sequence[Union[int, Sequence[int]]]]

# The smallest value each argument may take.
_MINIMUM = {"size": 0, "kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0, "output_padding": 0}


# --------------------------------------------------------------------------------------------------
# arguments: one check for every size function
# --------------------------------------------------------------------------------------------------
def _n_axes(*values) -> int:
    """1 if every value is an int (or None), else the length of the tuples given."""
    lengths = {len(v) for v in values if isinstance(v, (tuple, list))}
    if not lengths:
        return 1
    if len(lengths) > 1:
        raise ValueError(f"arguments give different numbers of axes: {sorted(lengths)}")
    return lengths.pop()


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _padding_pairs(padding, n: int) -> tuple[tuple[int, int], ...]:
    """``(before, after)`` per axis from an int, a tuple of ints, or a tuple of ints and pairs."""
    if isinstance(padding, (tuple, list)) and any(isinstance(p, (tuple, list)) for p in padding):
        if len(padding) != n:
            raise TypeError(f"padding must have one entry per axis ({n}), got {padding!r}")
        pairs = tuple(arguments.int_tuple(p, "padding", 2) for p in padding)
        arguments.check_at_least(tuple(v for pair in pairs for v in pair), "padding", 0)
        return pairs
    return tuple((p, p) for p in arguments.nonnegative_tuple(padding, "padding", n))


def _per_axis(**args) -> tuple[bool, list[tuple]]:
    """Check the int-or-tuple arguments of a size function (each at least its minimum).

    Returns whether every argument is an int (then the result is an int) and the arguments of each
    axis in the order given. ``padding_pairs`` is a convolution's ``padding`` (entries may be
    ``(before, after)`` pairs) and comes back as a pair for every axis.
    """
    n = _n_axes(*args.values())
    columns = []
    for name, value in args.items():
        if name == "padding_pairs":
            columns.append(_padding_pairs(value, n))
        else:
            values = arguments.int_tuple(value, name, n)
            columns.append(arguments.check_at_least(values, name, _MINIMUM[name]))
    one_axis = all(v is None or _is_int(v) for v in args.values())
    return one_axis, list(zip(*columns))


def _result(one_axis: bool, sizes: list[int]) -> SizeResult:
    return sizes[0] if one_axis else tuple(sizes)


# --------------------------------------------------------------------------------------------------
# one axis
# --------------------------------------------------------------------------------------------------
def _span(kernel_size: int, dilation: int) -> int:
    return dilation * (kernel_size - 1) + 1


def _conv_length(size: int, kernel_size: int, stride: int, padding: tuple[int, int], dilation: int) -> int:
    before, after = padding
    span, padded = _span(kernel_size, dilation), size + before + after
    if span > padded:
        raise ValueError(
            f"kernel_size: the (dilated) kernel size {span} can't be greater than the padded input size "
            f"{padded} (input {size} + padding {before} + {after})"
        )
    return (padded - span) // stride + 1


def _pool_length(size: int, kernel_size: int, stride: int, padding: int, dilation: int,
                 ceil_mode: bool) -> tuple[int, bool]:
    """torch's pooling size and whether the last window was dropped (it would start in the padding)."""
    if padding > kernel_size // 2:
        raise ValueError(f"padding should be at most half of kernel_size, got padding={padding}, "
                         f"kernel_size={kernel_size}")
    span = _span(kernel_size, dilation)
    out = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    dropped = ceil_mode and (out - 1) * stride >= size + padding
    out -= dropped
    if out < 1:
        raise ValueError(
            f"kernel_size: the (dilated) window size {span} is larger than the padded input size "
            f"{size + 2 * padding} (input {size} + 2 * padding {padding}): the output size would be {out}, "
            f"must be >= 1"
        )
    return out, dropped


def _conv_transpose_length(size: int, kernel_size: int, stride: int, padding: tuple[int, int],
                           output_padding: int, dilation: int) -> int:
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(
            f"output_padding must be smaller than either stride or dilation, got output_padding="
            f"{output_padding}, stride={stride}, dilation={dilation}"
        )
    before, after = padding
    out = (size - 1) * stride - before - after + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:
        shown = before if before == after else padding
        raise ValueError(
            f"the transposed convolution's output size {out} is too small (input {size}, kernel_size "
            f"{kernel_size}, stride {stride}, padding {shown}, dilation {dilation}, output_padding "
            f"{output_padding})"
        )
    return out


# --------------------------------------------------------------------------------------------------
# sizes
# --------------------------------------------------------------------------------------------------
def effective_kernel_size(kernel_size: IntOrTuple, dilation: IntOrTuple = 1) -> SizeResult:
    """The cells a dilated kernel spans: ``d(k - 1) + 1`` (the notes' ``K + (K - 1)(D - 1)``)."""
    one_axis, axes = _per_axis(kernel_size=kernel_size, dilation=dilation)
    return _result(one_axis, [_span(k, d) for k, d in axes])


def same_padding(kernel_size: IntOrTuple, dilation: IntOrTuple = 1) -> tuple:
    """``(before, after)`` zero padding of ``padding='same'``: ``d(k - 1)`` in all, the odd one after.

    One pair for int arguments, else one pair per axis. With stride 1 the output then has the
    input's size.
    """
    one_axis, axes = _per_axis(kernel_size=kernel_size, dilation=dilation)
    pairs = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in axes]
    return pairs[0] if one_axis else tuple(pairs)


def conv_output_size(size: IntOrTuple, kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                     padding: ConvPadding = 0, dilation: IntOrTuple = 1) -> SizeResult:
    """Output size of a convolution along each axis.

    ``H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1``, as ``torch.nn.functional.conv2d``
    (``2p`` is ``p_before + p_after`` for a padding pair).

    Parameters
    ----------
    size, kernel_size, stride, dilation : int or tuple of ints
        Input size (>= 0), kernel size (>= 1), stride (>= 1), dilation (>= 1).
    padding : int or tuple
        Zero padding (>= 0) on each side, or per axis an int or a ``(before, after)`` pair.

    Returns
    -------
    int or tuple of ints
        An int if every argument is an int, else one int per axis.

    Raises
    ------
    ValueError
        If the dilated kernel ``d(k - 1) + 1`` is larger than the padded input ``H + 2p``.
    """
    one_axis, axes = _per_axis(size=size, kernel_size=kernel_size, stride=stride, padding_pairs=padding,
                               dilation=dilation)
    return _result(one_axis, [_conv_length(*axis) for axis in axes])


def conv_leftover(size: IntOrTuple, kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                  padding: ConvPadding = 0, dilation: IntOrTuple = 1) -> SizeResult:
    """Cells of the padded input after the last window of a convolution: ``(H + 2p - d(k - 1) - 1) mod s``.

    No window reads them, so their gradient is zero; the floor in :func:`conv_output_size` drops
    them. A transposed convolution with this ``output_padding`` maps ``H_out`` back to ``H``.
    """
    one_axis, axes = _per_axis(size=size, kernel_size=kernel_size, stride=stride, padding_pairs=padding,
                               dilation=dilation)
    leftovers = []
    for h, k, s, (before, after), d in axes:
        _conv_length(h, k, s, (before, after), d)  # the kernel must fit
        leftovers.append((h + before + after - _span(k, d)) % s)
    return _result(one_axis, leftovers)


def pool_output_size(size: IntOrTuple, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                     padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False) -> SizeResult:
    """Output size of max/avg pooling along each axis, torch's rule.

    ``H_out = floor_or_ceil((H + 2p - d(k - 1) - 1) / s) + 1``; with ``ceil_mode`` the last window is
    dropped if it would start in the right padding, i.e. if ``(H_out - 1) s >= H + p``.
    ``stride=None`` means ``stride = kernel_size`` (torch's default). ``padding`` must be at most
    half the kernel size.

    Unlike a convolution, ``ceil_mode`` pooling accepts a window longer than the padded input: the
    ceiling keeps one partial window (size 1, kernel 2 gives 1), as torch does.

    Raises
    ------
    ValueError
        If ``padding > kernel_size // 2``, or if the output size is below 1 (the dilated window
        ``d(k - 1) + 1`` is longer than the padded input ``H + 2p`` and ``ceil_mode`` keeps no window).
    """
    if stride is None:
        stride = kernel_size
    one_axis, axes = _per_axis(size=size, kernel_size=kernel_size, stride=stride, padding=padding,
                               dilation=dilation)
    return _result(one_axis, [_pool_length(*axis, bool(ceil_mode))[0] for axis in axes])


def conv_transpose_output_size(size: IntOrTuple, kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                               padding: ConvPadding = 0, output_padding: IntOrTuple = 0,
                               dilation: IntOrTuple = 1) -> SizeResult:
    """Output size of a transposed convolution along each axis.

    ``H_out = (H - 1) s - 2p + d(k - 1) + output_padding + 1``, as
    ``torch.nn.functional.conv_transpose2d``: the cells that ``H`` windows of a convolution with the
    same ``k, s, d`` cover, minus the padding, plus ``output_padding``. With ``k = K``, ``p = 0``,
    ``d = 1`` and ``s = D + 1`` (``D`` zeros inserted between inputs) this is the notes'
    ``(D + 1)(M - 1) + K`` for an input of length ``M``.

    Raises
    ------
    ValueError
        If ``output_padding`` is not smaller than either the stride or the dilation (torch's rule), or
        if the result is not positive.
    """
    one_axis, axes = _per_axis(size=size, kernel_size=kernel_size, stride=stride, padding_pairs=padding,
                               output_padding=output_padding, dilation=dilation)
    return _result(one_axis, [_conv_transpose_length(*axis) for axis in axes])


# --------------------------------------------------------------------------------------------------
# captions: one axis, the formula with the numbers substituted, then its value
# --------------------------------------------------------------------------------------------------
def _ints(**args) -> None:
    for name, value in args.items():
        if not _is_int(value):
            raise TypeError(f"{name} must be an int (the captions show one axis), got {value!r}")


def conv_output_size_text(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                          dilation: int = 1, name: str = "H_out") -> str:
    """:func:`conv_output_size` of one axis as a caption, e.g. for ``(7, 3, dilation=2)``:
    ``"H_out = ⌊(7 + 2·0 − 2·(3 − 1) − 1)/1⌋ + 1 = 3"``."""
    _ints(size=size, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    value = conv_output_size(size, kernel_size, stride, padding, dilation)
    return (f"{name} = ⌊({size} + 2·{padding} − {dilation}·({kernel_size} − 1) − 1)/{stride}⌋ + 1 "
            f"= {value}")


def pool_output_size_text(size: int, kernel_size: int, stride: int | None = None, padding: int = 0,
                          dilation: int = 1, ceil_mode: bool = False, name: str = "H_out") -> str:
    """:func:`pool_output_size` of one axis as a caption: ``⌊ ⌋``, or ``⌈ ⌉`` with ``ceil_mode``.

    ``stride=None`` shows the kernel size. When ``ceil_mode`` would start the last window in the right
    padding, the caption subtracts it and says so, e.g. for ``(5, 2, 2, 1, ceil_mode=True)``:
    ``"H_out = ⌈(5 + 2·1 − 1·(2 − 1) − 1)/2⌉ + 1 − 1 = 3 (− 1: the last window would start at
    (4 − 1)·2 ≥ 5 + 1, in the right padding, so torch drops it)"``.
    """
    stride = kernel_size if stride is None else stride
    _ints(size=size, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    value = pool_output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
    _, dropped = _pool_length(size, kernel_size, stride, padding, dilation, bool(ceil_mode))
    left, right = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
    text = (f"{name} = {left}({size} + 2·{padding} − {dilation}·({kernel_size} − 1) − 1)/{stride}{right} + 1"
            + (" − 1" if dropped else "") + f" = {value}")
    if dropped:
        text += (f" (− 1: the last window would start at ({value + 1} − 1)·{stride} ≥ {size} + {padding}, "
                 f"in the right padding, so torch drops it)")
    return text


def conv_transpose_output_size_text(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                                    output_padding: int = 0, dilation: int = 1, name: str = "H_out") -> str:
    """:func:`conv_transpose_output_size` of one axis as a caption, e.g. for ``(3, 3, stride=2)``:
    ``"H_out = (3 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 7"``."""
    _ints(size=size, kernel_size=kernel_size, stride=stride, padding=padding,
          output_padding=output_padding, dilation=dilation)
    value = conv_transpose_output_size(size, kernel_size, stride, padding, output_padding, dilation)
    return (f"{name} = ({size} − 1)·{stride} − 2·{padding} + {dilation}·({kernel_size} − 1) "
            f"+ {output_padding} + 1 = {value}")


# --------------------------------------------------------------------------------------------------
# receptive fields
# --------------------------------------------------------------------------------------------------
def _layer(layer, index: int) -> tuple[int, int, int]:
    """(kernel_size, stride, dilation) from a tuple ``(k[, s[, d]])``, a dict, or an int ``k``."""
    if isinstance(layer, dict):
        unknown = set(layer) - {"kernel_size", "stride", "dilation", "padding"}
        if unknown or "kernel_size" not in layer:
            raise ValueError(
                f"layers[{index}] must have the key 'kernel_size' and optionally 'stride', 'dilation' "
                f"(and 'padding', ignored), got keys {sorted(layer)}"
            )
        k, s, d = layer["kernel_size"], layer.get("stride", 1), layer.get("dilation", 1)
    elif isinstance(layer, Integral):
        k, s, d = layer, 1, 1
    elif isinstance(layer, (tuple, list)) and 1 <= len(layer) <= 3:
        k, s, d = (*layer, 1, 1)[:3]
    else:
        raise TypeError(
            f"layers[{index}] must be (kernel_size, stride, dilation), a dict or an int, got {layer!r}"
        )
    for name, v in (("kernel_size", k), ("stride", s), ("dilation", d)):
        if not _is_int(v):
            raise TypeError(f"layers[{index}]: {name} must be an int, got {v!r}")
        if v < 1:
            raise ValueError(f"layers[{index}]: {name} must be >= 1, got {v}")
    return int(k), int(s), int(d)


def receptive_fields(layers: Sequence) -> list[tuple[int, int]]:
    """Receptive field and jump after each layer of a stack (one axis).

    A unit after layer ``l`` sees ``r_l = r_{l-1} + d_l (k_l - 1) j_{l-1}`` input pixels, where the jump
    ``j_l = j_{l-1} s_l`` is the distance in input pixels between neighbouring units
    (``r_0 = 1``, ``j_0 = 1``).

    Parameters
    ----------
    layers : sequence
        Each layer as a tuple ``(kernel_size, stride, dilation)`` (stride and dilation may be left
        out), a dict with those keys, or an int kernel size. Pooling layers count like convolutions.

    Returns
    -------
    list of (int, int)
        ``(r_l, j_l)`` for every layer, in order.
    """
    r, j = 1, 1
    result = []
    for index, layer in enumerate(layers):
        k, s, d = _layer(layer, index)
        r += (_span(k, d) - 1) * j
        j *= s
        result.append((r, j))
    return result


def receptive_field(layers: Sequence) -> int:
    """Receptive field (in input pixels, one axis) of a unit at the top of a stack of layers.

    See :func:`receptive_fields` for the recurrence and the layer format; this returns its last ``r``
    (1 for an empty stack). Example: three 3x3 layers with dilation 1, 2, 4 give 3, 7, 15:
    ``receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15``.
    """
    fields = receptive_fields(layers)
    return fields[-1][0] if fields else 1


def receptive_field_counts(layers: Sequence) -> list[int]:
    """How many paths join each of the ``r`` input pixels of a unit's receptive field to the unit (one axis).

    Entry ``t`` belongs to the input pixel ``t`` cells after the first pixel of the field. It is the
    gradient of the unit with respect to that pixel when every weight of the stack is 1 (the stack has no
    padding); a zero is a pixel inside the span of the field that no path reaches, a hole of a dilated
    stack. The counts start as ``[1]``, and layer ``l`` adds up ``k_l`` copies shifted by
    ``d_l j_{l-1}`` cells. Their length is :func:`receptive_field` and they sum to ``prod(k_l)``.
    In 2-D, with square layers, a pixel's count is the product of its row's and its column's.

    Example: ``receptive_field_counts([(3, 1, 2)]) == [1, 0, 1, 0, 1]``.
    """
    counts, j = [1], 1
    for index, layer in enumerate(layers):
        k, s, d = _layer(layer, index)
        step = d * j
        grown = [0] * (len(counts) + step * (k - 1))
        for u in range(k):
            for t, c in enumerate(counts):
                grown[t + u * step] += c
        counts, j = grown, j * s
    return counts


def receptive_field_text(layers: Sequence, name: str = "r") -> str:
    """The recurrence of :func:`receptive_fields` evaluated as a caption, one term per layer, e.g. for
    ``[(3, 1, 1), (3, 2, 1), (3, 1, 2)]``: ``"r = 1 + 1·(3 − 1)·1 + 1·(3 − 1)·1 + 2·(3 − 1)·2 = 13,
    jump j = 2"``: each term is ``d_l·(k_l − 1)·j_{l−1}``."""
    terms, j = ["1"], 1
    for index, layer in enumerate(layers):
        k, s, d = _layer(layer, index)
        terms.append(f"{d}·({k} − 1)·{j}")
        j *= s
    value = f" = {receptive_field(layers)}" if len(terms) > 1 else ""
    return f"{name} = {' + '.join(terms)}{value}, jump j = {j}"


# --------------------------------------------------------------------------------------------------
# parameter and multiply counts
# --------------------------------------------------------------------------------------------------
def _positive_int(value: int, name: str) -> int:
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _cells(value: IntOrTuple, name: str, ndim: int) -> int:
    """The product of an int-or-tuple size (a kernel or an output size); an int stands for ``ndim`` axes."""
    sizes = (value,) * ndim if _is_int(value) else tuple(value)
    if not sizes:
        raise ValueError(f"{name} must be an int or a non-empty tuple of ints, got {value!r}")
    product = 1
    for v in sizes:
        product *= _positive_int(v, name)
    return product


def _count_axes(ndim: int, *sizes) -> int:
    """Axes of a layer: the length of a tuple size if one is given (they must agree), else ``ndim``."""
    lengths = {len(v) for v in sizes if not _is_int(v)}
    if len(lengths) > 1:
        raise ValueError(f"kernel_size and output_size give different numbers of axes: {sorted(lengths)}")
    return lengths.pop() if lengths else _positive_int(ndim, "ndim")


def conv_parameters(in_channels: int, out_channels: int, kernel_size: IntOrTuple, groups: int = 1,
                    bias: bool = True, ndim: int = 2) -> int:
    """Trainable numbers of a convolution layer with ``ndim`` spatial axes (an int ``kernel_size`` is
    ``k`` on every axis, as for ``torch.nn.Conv2d``; a tuple gives one entry per axis and sets ``ndim``).

    ``P = C_out (C_in / g) k_1 k_2 ... + C_out`` (the last term with a bias): each output channel has one
    weight per input channel of its group and kernel tap, and one bias. (The notes' ``P D U V + P`` for
    ``P`` output channels, ``D`` input channels and a ``U x V`` kernel.)
    """
    c_in, c_out = _positive_int(in_channels, "in_channels"), _positive_int(out_channels, "out_channels")
    g = arguments.check_groups(groups, c_in, c_out)
    taps = _cells(kernel_size, "kernel_size", _count_axes(ndim, kernel_size))
    return c_out * (c_in // g) * taps + (c_out if bias else 0)


def conv_multiplies(in_channels: int, out_channels: int, kernel_size: IntOrTuple, output_size: IntOrTuple,
                    groups: int = 1, ndim: int = 2) -> int:
    """Multiplications of one convolution layer on one example (each is one multiply-add).

    ``M = H_out W_out ... x C_out (C_in / g) k_1 k_2 ...``: every output value is a sum of
    ``(C_in / g) k_1 k_2 ...`` products (taps that fall on padding are counted, as a dense
    implementation computes them). The bias adds no multiplication. Int sizes stand for ``ndim`` axes,
    as in :func:`conv_parameters`.
    """
    c_in, c_out = _positive_int(in_channels, "in_channels"), _positive_int(out_channels, "out_channels")
    g = arguments.check_groups(groups, c_in, c_out)
    n = _count_axes(ndim, kernel_size, output_size)
    return _cells(output_size, "output_size", n) * c_out * (c_in // g) * _cells(kernel_size, "kernel_size", n)


def linear_parameters(in_features: int, out_features: int, bias: bool = True) -> int:
    """Trainable numbers of a fully connected layer: ``out (in + 1)`` with a bias, ``out in`` without."""
    n_in, n_out = _positive_int(in_features, "in_features"), _positive_int(out_features, "out_features")
    return n_out * n_in + (n_out if bias else 0)


def linear_multiplies(in_features: int, out_features: int) -> int:
    """Multiplications of a fully connected layer on one example: ``in x out``."""
    return _positive_int(in_features, "in_features") * _positive_int(out_features, "out_features")


# --------------------------------------------------------------------------------------------------
# the convolution family (chapter 9): depthwise and spatially separable, unshared and tiled layers
# --------------------------------------------------------------------------------------------------
def _pair(value: IntOrTuple, name: str) -> tuple[int, int]:
    """A 2-D size: an int is the same on both axes."""
    values = arguments.int_tuple(value, name, 2)
    return _positive_int(values[0], name), _positive_int(values[1], name)


def depthwise_separable_parameters(in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                                   bias: bool = True) -> int:
    """Trainable numbers of a depthwise separable layer: a depthwise ``k_h x k_w`` convolution
    (``groups = C_in``: one kernel per input channel) followed by a pointwise ``1 x 1`` convolution
    ``C_in -> C_out``.

    ``P = C_in k_h k_w + C_out C_in`` (``+ C_in + C_out`` with biases), against ``C_out C_in k_h k_w``
    (``+ C_out``) for the standard layer (:func:`conv_parameters`).
    """
    kernel = _pair(kernel_size, "kernel_size")
    c_in = _positive_int(in_channels, "in_channels")
    return (conv_parameters(c_in, c_in, kernel, groups=c_in, bias=bias)
            + conv_parameters(c_in, out_channels, (1, 1), bias=bias))


def depthwise_separable_multiplies(in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                                   output_size: IntOrTuple) -> int:
    """Multiplications of a depthwise separable layer on one example.

    ``M = H_out W_out C_in k_h k_w + H_out W_out C_in C_out`` (depthwise, then pointwise on the
    ``H_out x W_out`` map). Divided by the standard layer's ``H_out W_out C_out C_in k_h k_w``: the notes'
    ``1/N_c + 1/h^2`` (:func:`depthwise_separable_ratio`), whatever ``C_in`` and the image size.
    """
    kernel, out = _pair(kernel_size, "kernel_size"), _pair(output_size, "output_size")
    c_in = _positive_int(in_channels, "in_channels")
    return (conv_multiplies(c_in, c_in, kernel, out, groups=c_in)
            + conv_multiplies(c_in, out_channels, (1, 1), out))


def depthwise_separable_ratio(out_channels: int, kernel_size: IntOrTuple) -> float:
    """The study notes' cost ratio of a depthwise separable layer to a standard one:
    ``1/C_out + 1/(k_h k_w)`` (their ``1/N_c + 1/h^2`` for ``N_c`` output channels and an ``h x h`` kernel)."""
    kh, kw = _pair(kernel_size, "kernel_size")
    return 1.0 / _positive_int(out_channels, "out_channels") + 1.0 / (kh * kw)


def spatially_separable_parameters(in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                                   groups: int = 1, bias: bool = True) -> int:
    """Trainable numbers of a layer whose every kernel is separable, ``W[o, c] = a_oc b_oc^T`` (a column
    of ``k_h`` times a row of ``k_w``): ``P = C_out (C_in / g) (k_h + k_w)`` (``+ C_out`` with a bias)."""
    kh, kw = _pair(kernel_size, "kernel_size")
    c_in, c_out = _positive_int(in_channels, "in_channels"), _positive_int(out_channels, "out_channels")
    g = arguments.check_groups(groups, c_in, c_out)
    return c_out * (c_in // g) * (kh + kw) + (c_out if bias else 0)


def spatially_separable_multiplies(in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                                   input_size: IntOrTuple, stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                                   groups: int = 1) -> int:
    """Multiplications of a layer of separable kernels on one example, computed as two 1-D passes.

    For each pair (o, c): the column ``a_oc`` (``k_h x 1``, stride ``(s_h, 1)``) over the padded input gives
    an ``H_out x W_p`` map (``W_p = W + 2 p_w``), then the row ``b_oc`` (``1 x k_w``, stride ``(1, s_w)``)
    gives ``H_out x W_out``:

        ``M = C_out (C_in / g) (H_out W_p k_h + H_out W_out k_w)``.

    For one channel, an ``N x N`` image, an ``m x m`` kernel and no padding this is the notes'
    ``(N - m + 1) N m + (N - m + 1)^2 m``; divided by the direct ``(N - m + 1)^2 m^2``, see
    :func:`spatially_separable_ratio`.
    """
    kh, kw = _pair(kernel_size, "kernel_size")
    (h, w), (sh, sw) = _pair(input_size, "input_size"), _pair(stride, "stride")
    ph, pw = arguments.nonnegative_tuple(padding, "padding", 2)
    c_in, c_out = _positive_int(in_channels, "in_channels"), _positive_int(out_channels, "out_channels")
    g = arguments.check_groups(groups, c_in, c_out)
    ho, wo = conv_output_size((h, w), (kh, kw), (sh, sw), (ph, pw))
    return c_out * (c_in // g) * (ho * (w + 2 * pw) * kh + ho * wo * kw)


def spatially_separable_ratio(kernel_size: int, size: int) -> float:
    """The study notes' cost ratio of a separable ``m x m`` kernel (two 1-D passes) to the direct one on
    an ``N x N`` image without padding: ``1/m + 1/(m (1 - (m - 1)/N))``, which tends to ``2/m`` when
    ``N >> m``."""
    m, n = _positive_int(kernel_size, "kernel_size"), _positive_int(size, "size")
    if m > n:
        raise ValueError(f"kernel_size ({m}) must not exceed the image size ({n})")
    return 1.0 / m + 1.0 / (m * (1.0 - (m - 1) / n))


def unshared_parameters(in_channels: int, out_channels: int, kernel_size: IntOrTuple, output_size: IntOrTuple,
                        bias: bool = True) -> int:
    """Trainable numbers of an unshared (locally connected) layer, one kernel and bias per output position:
    ``P = C_out H_out W_out (C_in k_h k_w + 1)`` (without the ``+ 1`` when there is no bias),
    ``H_out W_out`` times the convolution's."""
    out = _pair(output_size, "output_size")
    return tiled_parameters(in_channels, out_channels, kernel_size, out, bias)


def unshared_multiplies(in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                        output_size: IntOrTuple) -> int:
    """Multiplications of an unshared (or tiled) layer on one example: the convolution's
    ``H_out W_out C_out C_in k_h k_w`` (:func:`conv_multiplies`): not sharing the kernels changes what is
    stored, not what is computed."""
    return conv_multiplies(in_channels, out_channels, _pair(kernel_size, "kernel_size"),
                           _pair(output_size, "output_size"))


def tiled_parameters(in_channels: int, out_channels: int, kernel_size: IntOrTuple, tile_size: IntOrTuple,
                     bias: bool = True) -> int:
    """Trainable numbers of a tiled convolution with ``t_h x t_w`` kernel sets cycled over the positions:
    ``P = C_out t_h t_w (C_in k_h k_w + 1)`` (``t = 1``: the convolution; ``t = (H_out, W_out)``: unshared)."""
    (kh, kw), (th, tw) = _pair(kernel_size, "kernel_size"), _pair(tile_size, "tile_size")
    c_in, c_out = _positive_int(in_channels, "in_channels"), _positive_int(out_channels, "out_channels")
    return c_out * th * tw * (c_in * kh * kw + (1 if bias else 0))
