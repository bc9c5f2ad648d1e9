"""Output sizes and receptive fields, with PyTorch's exact integer arithmetic.

Every size function takes ints or pairs: with an int ``size`` (and int arguments) it returns an int; if
any argument is a pair it returns a tuple of two ints, one per axis (height, width).

* convolution:  ``H_out = floor((H + 2p - d(k-1) - 1) / s) + 1``
* pooling:      the same, with ``ceil`` instead of ``floor`` when ``ceil_mode=True``, except that the
  last window must start inside the input or the left padding (torch's rule);
* transposed:   ``H_out = (H - 1) s - 2p + d(k-1) + output_padding + 1``.
"""
from __future__ import annotations

from numbers import Integral

from ._checks import check_at_least, int_tuple

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "conv_transpose_output_size",
    "receptive_field",
    "receptive_fields",
]


def _n_axes(*values) -> int:
    """1 if every value is an int (or None), else the length of the tuples given."""
    lengths = {len(v) for v in values if isinstance(v, (tuple, list))}
    if not lengths:
        return 1
    if len(lengths) > 1:
        raise ValueError(f"arguments give different numbers of axes: {sorted(lengths)}")
    return lengths.pop()



def _scalar_mode(*values) -> bool:
    return all(v is None or (isinstance(v, Integral) and not isinstance(v, bool)) for v in values)


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Output size of a convolution along each axis.

    ``H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1``, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    size, kernel_size, stride, padding, dilation : int or tuple of ints
        Input size, kernel size, stride (>= 1), zero padding on each side (>= 0), dilation (>= 1).

    Returns
    -------
    int or tuple of ints
        An int if every argument is an int, else one int per axis.

    Raises
    ------
    ValueError
        If the dilated kernel ``d(k-1)+1`` is larger than the padded input ``H + 2p``.
    """
    n = _n_axes(size, kernel_size, stride, padding, dilation)
    sizes = check_at_least(int_tuple(size, "size", n), "size", 0)
    ks = check_at_least(int_tuple(kernel_size, "kernel_size", n), "kernel_size", 1)
    ss = check_at_least(int_tuple(stride, "stride", n), "stride", 1)
    ps = check_at_least(int_tuple(padding, "padding", n), "padding", 0)
    ds = check_at_least(int_tuple(dilation, "dilation", n), "dilation", 1)
    out = []
    for h, k, s, p, d in zip(sizes, ks, ss, ps, ds):
        span = d * (k - 1) + 1
        if span > h + 2 * p:
            raise ValueError(
                f"kernel_size: the (dilated) kernel size {span} can't be greater than the padded input "
                f"size {h + 2 * p} (input {h} + 2 * padding {p})"
            )
        out.append((h + 2 * p - span) // s + 1)
    return out[0] if _scalar_mode(size, kernel_size, stride, padding, dilation) else tuple(out)


def pool_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
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
        ``d(k-1)+1`` is longer than the padded input ``H + 2p`` and ``ceil_mode`` keeps no window).
    """
    if stride is None:
        stride = kernel_size
    n = _n_axes(size, kernel_size, stride, padding, dilation)
    sizes = check_at_least(int_tuple(size, "size", n), "size", 0)
    ks = check_at_least(int_tuple(kernel_size, "kernel_size", n), "kernel_size", 1)
    ss = check_at_least(int_tuple(stride, "stride", n), "stride", 1)
    ps = check_at_least(int_tuple(padding, "padding", n), "padding", 0)
    ds = check_at_least(int_tuple(dilation, "dilation", n), "dilation", 1)
    out = []
    for h, k, s, p, d in zip(sizes, ks, ss, ps, ds):
        if p > k // 2:
            raise ValueError(f"padding should be at most half of kernel_size, got padding={p}, kernel_size={k}")
        span = d * (k - 1) + 1
        o = (h + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= h + p:
            o -= 1  # the last window would start in the right padding: drop it
        if o < 1:
            raise ValueError(
                f"kernel_size: the (dilated) window size {span} is larger than the padded input size "
                f"{h + 2 * p} (input {h} + 2 * padding {p}): the output size would be {o}, must be >= 1"
            )
        out.append(o)
    return out[0] if _scalar_mode(size, kernel_size, stride, padding, dilation) else tuple(out)


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Output size of a transposed convolution along each axis.

    ``H_out = (H - 1) s - 2p + d(k - 1) + output_padding + 1``, as
    ``torch.nn.functional.conv_transpose2d``. With ``k = K``, ``p = 0``, ``d = 1`` and ``s = D + 1``
    (``D`` zeros inserted between inputs) this is the notes' ``(D + 1)(M - 1) + K`` for an input of
    length ``M``.

    Raises
    ------
    ValueError
        If ``output_padding`` is not smaller than either the stride or the dilation (torch's rule), or
        if the result is not positive.
    """
    n = _n_axes(size, kernel_size, stride, padding, output_padding, dilation)
    sizes = check_at_least(int_tuple(size, "size", n), "size", 0)
    ks = check_at_least(int_tuple(kernel_size, "kernel_size", n), "kernel_size", 1)
    ss = check_at_least(int_tuple(stride, "stride", n), "stride", 1)
    ps = check_at_least(int_tuple(padding, "padding", n), "padding", 0)
    ops = check_at_least(int_tuple(output_padding, "output_padding", n), "output_padding", 0)
    ds = check_at_least(int_tuple(dilation, "dilation", n), "dilation", 1)
    out = []
    for h, k, s, p, op, d in zip(sizes, ks, ss, ps, ops, ds):
        if op >= s and op >= d:
            raise ValueError(
                f"output_padding must be smaller than either stride or dilation, got output_padding={op}, "
                f"stride={s}, dilation={d}"
            )
        o = (h - 1) * s - 2 * p + d * (k - 1) + op + 1
        if o < 1:
            raise ValueError(
                f"the transposed convolution's output size {o} is too small (input {h}, kernel_size {k}, "
                f"stride {s}, padding {p}, dilation {d}, output_padding {op})"
            )
        out.append(o)
    return out[0] if _scalar_mode(size, kernel_size, stride, padding, output_padding, dilation) else tuple(out)


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
    for name, v, low in (("kernel_size", k, 1), ("stride", s, 1), ("dilation", d, 1)):
        if isinstance(v, bool) or not isinstance(v, Integral):
            raise TypeError(f"layers[{index}]: {name} must be an int, got {v!r}")
        if v < low:
            raise ValueError(f"layers[{index}]: {name} must be >= {low}, got {v}")
    return int(k), int(s), int(d)


def receptive_fields(layers) -> list[tuple[int, int]]:
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
        r += d * (k - 1) * j
        j *= s
        result.append((r, j))
    return result


def receptive_field(layers) -> int:
    """Receptive field (in input pixels, one axis) of a unit at the top of a stack of layers.

    See :func:`receptive_fields` for the recurrence and the layer format; this returns its last ``r``
    (1 for an empty stack). Example: three 3x3 layers with dilation 1, 2, 4 give 3, 7, 15:
    ``receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15``.
    """
    fields = receptive_fields(layers)
    return fields[-1][0] if fields else 1
