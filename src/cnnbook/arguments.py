"""Argument checking, and the argument records shared by :mod:`cnnbook.functional` and
:mod:`cnnbook.reference`.

Each check raises a ``TypeError`` (wrong kind of value) or a ``ValueError`` (right kind, violated
constraint) whose message names the argument and the constraint, e.g.
``ValueError: stride must be >= 1 in every dimension, got (0, 1)``.

An operation and its loop version start the same way: one call here checks and normalises their
arguments into a frozen record with named fields, so both accept exactly the same inputs and see them
in the same form.

* :class:`ConvArgs` (:func:`conv_args`, :func:`conv_transpose_args`): conv1d, conv2d, conv_transpose2d;
* :class:`PoolArgs` (:func:`pool_args`): max_pool2d, avg_pool2d;
* :class:`LinearArgs` (:func:`linear_args`), :class:`ActivationArgs` (:func:`activation_args`),
  :class:`CrossEntropyArgs` (:func:`cross_entropy_args`);
* :class:`UnfoldArgs` (:func:`unfold_args`): the window arguments of im2col and col2im;
* chapter 9's family: :class:`FoldArgs` (:func:`unfold_array_args`, :func:`fold_args`): unfold and fold;
  :class:`Conv3dArgs` (:func:`conv3d_args`): conv3d; :class:`UnsharedArgs` (:func:`unshared_args`): the
  unshared (locally connected) and the tiled convolution;
* chapter 10: :class:`BatchNormArgs` (:func:`batch_norm_args`): batch normalization;
  :class:`AdaptivePoolArgs` (:func:`adaptive_pool_args`): adaptive average pooling;
  :class:`DropoutArgs` (:func:`dropout_args`): dropout.

A record built with ``grad_output`` (the backward functions) checks that it has the forward output's
shape. Every array of a record is already converted to the record's ``dtype``: float64 if any array
is float64, else float32. Sizes come from :mod:`cnnbook.shapes`.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

from . import shapes

__all__ = [
    "FLOAT_TYPES", "IntOrTuple", "Padding",
    "as_float_array", "common_dtype", "int_tuple", "check_at_least", "positive_tuple", "nonnegative_tuple",
    "check_bool", "check_output_mask", "check_groups", "check_dim", "check_grad_output", "conv_padding", "padding_sides",
    "ConvArgs", "conv_args", "conv_transpose_args",
    "PoolArgs", "pool_args",
    "LinearArgs", "linear_args",
    "ActivationArgs", "activation_args",
    "CrossEntropyArgs", "cross_entropy_args",
    "UnfoldArgs", "unfold_args",
    "FoldArgs", "unfold_array_args", "fold_args",
    "Conv3dArgs", "conv3d_args",
    "UnsharedArgs", "unshared_args",
    "BatchNormArgs", "batch_norm_args", "AdaptivePoolArgs", "adaptive_pool_args", "DropoutArgs", "dropout_args",
    "as_generator",
]

FLOAT_TYPES = (np.float32, np.float64)

#: An int (every axis) or one int per axis.
IntOrTuple = Union[int, Sequence[int]]
#: A convolution's padding: an int, one int per axis, ``'valid'`` or ``'same'``.
Padding = Union[int, Sequence[int], str]


# --------------------------------------------------------------------------------------------------
# single checks
# --------------------------------------------------------------------------------------------------
def as_float_array(x: ArrayLike, name: str, ndim: int | Sequence[int] | None = None,
                   layout: str = "") -> np.ndarray:
    """Return ``x`` as a float32/float64 NumPy array, checking it is numeric and has ``ndim`` dimensions.

    Integer arrays are converted to float64 (so the worked examples can be written with integers);
    float16 becomes float32. Booleans, complex numbers, strings and objects raise ``TypeError``.
    ``layout`` (e.g. ``"(N, C, H, W)"``) is quoted in the dimension error.
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    kind = arr.dtype.kind
    if kind in "iu":
        arr = arr.astype(np.float64)
    elif kind == "f":
        if arr.dtype not in FLOAT_TYPES:
            arr = arr.astype(np.float32 if arr.dtype.itemsize < 4 else np.float64)
    else:
        raise TypeError(
            f"{name} must be a real numeric array (float32 or float64), got dtype {arr.dtype}"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, Integral) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            where = f" {layout}" if layout else ""
            raise ValueError(
                f"{name} must be {want}{where}, got a {arr.ndim}-D array of shape {arr.shape}"
            )
    return arr


def common_dtype(*arrays: np.ndarray | None) -> np.dtype:
    """The float dtype results are computed in: float64 if any argument is float64, else float32."""
    return np.result_type(*[a.dtype for a in arrays if a is not None], np.float32)


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def int_tuple(value: IntOrTuple, name: str, n: int) -> tuple[int, ...]:
    """Expand an int-or-tuple argument (torch's ``_pair``/``_single``) to a tuple of ``n`` ints."""
    if _is_int(value):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(_is_int(v) for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")


def check_at_least(values: tuple[int, ...], name: str, minimum: int) -> tuple[int, ...]:
    """Raise ``ValueError`` unless every entry of ``values`` is >= ``minimum``."""
    if any(v < minimum for v in values):
        shown = values[0] if len(set(values)) == 1 else values
        raise ValueError(f"{name} must be >= {minimum} in every dimension, got {shown}")
    return values


def positive_tuple(value: IntOrTuple, name: str, n: int) -> tuple[int, ...]:
    """An int-or-tuple argument that must be >= 1 (stride, dilation, kernel_size)."""
    return check_at_least(int_tuple(value, name, n), name, 1)


def nonnegative_tuple(value: IntOrTuple, name: str, n: int) -> tuple[int, ...]:
    """An int-or-tuple argument that must be >= 0 (padding, output_padding)."""
    return check_at_least(int_tuple(value, name, n), name, 0)


def check_bool(value: object, name: str) -> bool:
    """``value`` must be a bool (``ceil_mode``, ``count_include_pad``, ...)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def check_output_mask(output_mask: object) -> tuple[bool, bool, bool]:
    """A backward's ``output_mask``: three bools naming which of grad_input, grad_weight, grad_bias to
    compute (as in ``torch.ops.aten.convolution_backward``)."""
    mask = tuple(output_mask) if isinstance(output_mask, (tuple, list)) else None
    if mask is None or len(mask) != 3 or not all(isinstance(m, (bool, np.bool_)) for m in mask):
        raise ValueError(f"output_mask must be three bools (grad_input, grad_weight, grad_bias), got {output_mask!r}")
    return tuple(bool(m) for m in mask)


def check_divisor_override(value: object) -> int | None:
    """``avg_pool2d``'s ``divisor_override``: None (divide by the window's count) or a nonzero int.

    torch's rule: an int that is not 0 (a negative divisor is accepted and flips the sign); not a bool.
    """
    if value is None:
        return None
    if not _is_int(value):
        raise TypeError(f"divisor_override must be None or an int, got {value!r}")
    if value == 0:
        raise ValueError("divisor_override must be nonzero, got 0")
    return int(value)


def check_groups(groups: int, in_channels: int, out_channels: int) -> int:
    """``groups`` must be a positive int dividing both channel counts."""
    if not _is_int(groups):
        raise TypeError(f"groups must be an int, got {groups!r}")
    groups = int(groups)
    if groups < 1:
        raise ValueError(f"groups must be >= 1, got {groups}")
    if in_channels % groups:
        raise ValueError(f"groups={groups} must divide the input channels ({in_channels})")
    if out_channels % groups:
        raise ValueError(f"groups={groups} must divide the output channels ({out_channels})")
    return groups


def check_dim(dim: int, ndim: int) -> int | None:
    """The axis ``dim`` (may be negative) of an ``ndim``-D array as a non-negative int; None for a 0-D one."""
    if not _is_int(dim):
        raise TypeError(f"dim must be an int, got {dim!r}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise ValueError(f"dim must be in [{-n}, {n - 1}] for a {ndim}-D input, got {dim}")
    return int(dim) % n if ndim else None


def check_grad_output(grad_output: ArrayLike, shape: tuple[int, ...], of: str) -> np.ndarray:
    """``grad_output`` as a float array that must have ``shape``, the shape of the forward ``of``."""
    g = as_float_array(grad_output, "grad_output")
    if g.shape != tuple(shape):
        raise ValueError(f"grad_output must have the shape of the {of} {tuple(shape)}, got {g.shape}")
    return g


def conv_padding(padding: Padding, stride: tuple[int, ...], n: int) -> str | tuple[int, ...]:
    """A convolution's ``padding``: ``'valid'``, ``'same'`` (stride 1 only, torch's rule) or ``n`` ints >= 0."""
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid', 'same', an int or a tuple of ints, got {padding!r}")
        if padding == "same" and any(s != 1 for s in stride):
            raise ValueError(f"padding='same' is not supported for strided convolutions (stride={stride})")
        return padding
    return nonnegative_tuple(padding, "padding", n)


def padding_sides(padding: int | Sequence[int], name: str = "padding") -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` from an int, a pair ``(p_h, p_w)`` or a 4-tuple, all >= 0."""
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        return nonnegative_tuple(tuple(padding), name, 4)
    ph, pw = nonnegative_tuple(padding, name, 2)
    return ph, ph, pw, pw


def _dtype_of(*arrays: np.ndarray | None) -> tuple[np.dtype, list[np.ndarray | None]]:
    """The common dtype of ``arrays`` and the arrays converted to it (None stays None)."""
    dtype = common_dtype(*arrays)
    return dtype, [None if a is None else a.astype(dtype, copy=False) for a in arrays]


class _Checked:
    """The outcome of the checks of recent calls, by the calls' geometry: a layer called again and again
    with arrays of the same shapes and dtype (a training loop) is checked once.

    The key is what every check depends on: the dtype and shape of each array and the other arguments
    as written (their ``repr``, so ``True`` and ``1``, or ``2`` and ``np.int64(2)``, stay distinct keys).
    Only calls whose arrays are all NumPy arrays of one float dtype are cached (any other call, e.g. with
    lists or mixed dtypes, takes the full checks every time); a call that fails its checks is not
    cached. At most :attr:`SIZE` geometries are kept (the oldest are dropped first).
    """

    SIZE = 512

    def __init__(self):
        self.known: dict = {}

    @staticmethod
    def key(arrays: Sequence, arguments: tuple):
        dtype, shapes_ = None, []
        for a in arrays:
            if a is None:
                shapes_.append(None)
                continue
            if type(a) is not np.ndarray or (dtype is not None and a.dtype != dtype):
                return None
            dtype = a.dtype
            shapes_.append(a.shape)
        if dtype is None or dtype.char not in "fd":
            return None
        return dtype.char, tuple(shapes_), repr(arguments)

    def get(self, key):
        return None if key is None else self.known.get(key)

    def put(self, key, value) -> None:
        if key is None:
            return
        if len(self.known) >= self.SIZE:
            del self.known[next(iter(self.known))]
        self.known[key] = value


# --------------------------------------------------------------------------------------------------
# convolutions
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ConvArgs:
    """The checked arguments of a convolution or a transposed convolution, in 2-D terms.

    A 1-D problem is a 2-D one of height 1 and an unbatched input gets a batch axis of 1
    (:meth:`finish` and :meth:`finish_weight` undo both).

    Attributes
    ----------
    input : ndarray (N, C_in, H, W)
    weight : ndarray (C_out, C_in / groups, k_h, k_w); transposed: (C_in, C_out / groups, k_h, k_w)
    bias : ndarray (C_out,) or None
    grad_output : ndarray (N, C_out, H_out, W_out) or None (the backward functions' ``G = dL/dY``)
    stride, dilation : (int, int)
    padding : (top, bottom, left, right), ``'same'`` and ``'valid'`` resolved
    output_padding : (int, int)
        Transposed: the argument. Convolution: the rows/columns of the padded input after the last
        window (:func:`cnnbook.shapes.conv_leftover`), i.e. the ``output_padding`` of the transposed
        convolution that maps the output size back to the input size.
    groups, out_channels : int
    out_size : (H_out, W_out)
    ndim : 1 or 2, the spatial dimensions of the caller's arrays
    unbatched : bool
    transposed : bool
    dtype : float32 or float64, the dtype of every array above
    """

    input: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    grad_output: np.ndarray | None
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    dilation: tuple[int, int]
    output_padding: tuple[int, int]
    groups: int
    out_channels: int
    out_size: tuple[int, int]
    ndim: int
    unbatched: bool
    transposed: bool
    dtype: np.dtype

    @property
    def axis_padding(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``padding`` as ``((top, bottom), (left, right))``, the form :mod:`cnnbook.shapes` takes."""
        top, bottom, left, right = self.padding
        return (top, bottom), (left, right)

    def finish(self, y: np.ndarray) -> np.ndarray:
        """An (N, C, H, W) result in the caller's layout: drop the height of 1-D, the batch of unbatched."""
        if self.ndim == 1:
            y = y[:, :, 0, :]
        return y[0] if self.unbatched else y

    def finish_weight(self, grad_weight: np.ndarray) -> np.ndarray:
        """A weight gradient in the weight's layout (drop the height axis of a 1-D problem)."""
        return grad_weight[:, :, 0, :] if self.ndim == 1 else grad_weight


def _lift(values: tuple[int, ...], ndim: int, fill: int) -> tuple[int, int]:
    """A 1-D tuple ``(l,)`` becomes the 2-D ``(fill, l)``; 2-D tuples are unchanged."""
    return values if ndim == 2 else (fill, values[0])


def _conv_arrays(ndim: int, input: ArrayLike, weight: ArrayLike, transposed: bool):
    """input and weight as 4-D arrays (height 1 for 1-D, batch 1 if unbatched), and whether unbatched."""
    spatial = "(N, C, L) or (C, L)" if ndim == 1 else "(N, C, H, W) or (C, H, W)"
    x = as_float_array(input, "input", ndim=(ndim + 1, ndim + 2), layout=spatial)
    channels = "(C_in, C_out/groups, " if transposed else "(C_out, C_in/groups, "
    w = as_float_array(weight, "weight", ndim=ndim + 2, layout=channels + ("k)" if ndim == 1 else "k_h, k_w)"))
    unbatched = x.ndim == ndim + 1
    if unbatched:
        x = x[None]
    if ndim == 1:
        x, w = x[:, :, None, :], w[:, :, None, :]
    if min(w.shape[2:]) < 1:
        raise ValueError(f"weight must have a non-empty kernel, got weight of shape {w.shape}")
    return x, w, unbatched


def _conv_bias(bias: ArrayLike | None, out_channels: int) -> np.ndarray | None:
    if bias is None:
        return None
    b = as_float_array(bias, "bias", ndim=1, layout="(C_out,)")
    if b.shape[0] != out_channels:
        raise ValueError(f"bias must have length C_out = {out_channels}, got shape {b.shape}")
    return b


def _conv_record(ndim, x, w, bias, grad_output, unbatched, transposed, **fields) -> ConvArgs:
    """Check ``grad_output`` against the output shape and build the record in the common dtype."""
    want = (x.shape[0], fields["out_channels"], *fields["out_size"])
    g = None
    if grad_output is not None:
        shown = want[1:] if unbatched else want
        if ndim == 1:
            shown = shown[:-2] + shown[-1:]
        g = check_grad_output(grad_output, shown, "output").reshape(want)
    dtype, (x, w, bias, g) = _dtype_of(x, w, bias, g)
    return ConvArgs(input=x, weight=w, bias=bias, grad_output=g, ndim=ndim, unbatched=unbatched,
                    transposed=transposed, dtype=dtype, **fields)


def _size_context(x_shape, w_shape) -> str:
    return f"; input of shape {x_shape}, weight of shape {w_shape}"


_CONV_FIELDS = ("stride", "padding", "dilation", "output_padding", "groups", "out_channels", "out_size",
                "ndim", "unbatched", "transposed", "dtype")
_conv_checked = _Checked()


def _conv_cached(key, input, weight, bias, grad_output) -> ConvArgs | None:
    """The record of a call whose geometry passed the checks before (:class:`_Checked`), else None."""
    fields = _conv_checked.get(key)
    if fields is None:
        return None
    x, w, g = input, weight, grad_output
    if fields["unbatched"]:
        x = x[None]
    if fields["ndim"] == 1:
        x, w = x[:, :, None, :], w[:, :, None, :]
    if g is not None:
        g = g.reshape(x.shape[0], fields["out_channels"], *fields["out_size"])
    return ConvArgs(input=x, weight=w, bias=bias, grad_output=g, **fields)


def _conv_remember(key, a: ConvArgs) -> ConvArgs:
    _conv_checked.put(key, {name: getattr(a, name) for name in _CONV_FIELDS})
    return a


def conv_args(ndim: int, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
              stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1,
              *, grad_output: ArrayLike | None = None) -> ConvArgs:
    """Check the arguments of ``conv1d`` (``ndim=1``) or ``conv2d`` (``ndim=2``), torch's rules.

    ``weight`` is (C_out, C_in / groups, k_h, k_w) (``(..., k)`` in 1-D); the output size per axis is
    :func:`cnnbook.shapes.conv_output_size`. A geometry checked before is not checked again
    (:class:`_Checked`).
    """
    key = _Checked.key((input, weight, bias, grad_output), ("conv", ndim, stride, padding, dilation, groups))
    cached = _conv_cached(key, input, weight, bias, grad_output)
    if cached is not None:
        return cached
    return _conv_remember(key, _conv_args(ndim, input, weight, bias, stride, padding, dilation, groups,
                                          grad_output))


def _conv_args(ndim, input, weight, bias, stride, padding, dilation, groups, grad_output) -> ConvArgs:
    x, w, unbatched = _conv_arrays(ndim, input, weight, transposed=False)
    original = (np.shape(input), np.shape(weight))
    s = positive_tuple(stride, "stride", ndim)
    d = positive_tuple(dilation, "dilation", ndim)
    c_in, c_out, kernel = x.shape[1], w.shape[0], w.shape[2:]
    groups = check_groups(groups, c_in, c_out)
    if c_in != w.shape[1] * groups:
        raise ValueError(
            f"channel mismatch: input has {c_in} channels but weight.shape[1] * groups = "
            f"{w.shape[1]} * {groups} = {w.shape[1] * groups}"
        )
    spec = conv_padding(padding, s, ndim)
    s, d = _lift(s, ndim, 1), _lift(d, ndim, 1)
    if spec == "same":
        pads = shapes.same_padding(kernel, d)
    else:
        p = (0,) * ndim if spec == "valid" else spec
        pads = tuple((q, q) for q in _lift(p, ndim, 0))
    try:
        out = shapes.conv_output_size(x.shape[2:], kernel, s, pads, d)
        leftover = shapes.conv_leftover(x.shape[2:], kernel, s, pads, d)
    except ValueError as error:
        raise ValueError(f"{error}{_size_context(*original)}") from None
    return _conv_record(ndim, x, w, _conv_bias(bias, c_out), grad_output, unbatched, False,
                        stride=s, padding=(*pads[0], *pads[1]), dilation=d, output_padding=leftover,
                        groups=groups, out_channels=c_out, out_size=out)


def conv_transpose_args(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
                        stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                        groups: int = 1, dilation: IntOrTuple = 1, *,
                        grad_output: ArrayLike | None = None) -> ConvArgs:
    """Check the arguments of ``conv_transpose2d``, torch's rules.

    ``weight`` is (C_in, C_out / groups, k_h, k_w); the output size per axis is
    :func:`cnnbook.shapes.conv_transpose_output_size`. A geometry checked before is not checked again.
    """
    key = _Checked.key((input, weight, bias, grad_output),
                       ("transposed", stride, padding, output_padding, groups, dilation))
    cached = _conv_cached(key, input, weight, bias, grad_output)
    if cached is not None:
        return cached
    return _conv_remember(key, _conv_transpose_args(input, weight, bias, stride, padding, output_padding,
                                                    groups, dilation, grad_output))


def _conv_transpose_args(input, weight, bias, stride, padding, output_padding, groups, dilation,
                         grad_output) -> ConvArgs:
    x, w, unbatched = _conv_arrays(2, input, weight, transposed=True)
    s = positive_tuple(stride, "stride", 2)
    d = positive_tuple(dilation, "dilation", 2)
    c_in = x.shape[1]
    if isinstance(padding, str):
        raise TypeError(f"padding of a transposed convolution must be an int or a tuple of ints, got {padding!r}")
    if c_in != w.shape[0]:
        raise ValueError(
            f"channel mismatch: input has {c_in} channels but weight.shape[0] = {w.shape[0]} "
            f"(weight is (C_in, C_out/groups, ...))"
        )
    groups = check_groups(groups, c_in, c_in)
    ph, pw = nonnegative_tuple(padding, "padding", 2)
    op = nonnegative_tuple(output_padding, "output_padding", 2)
    try:
        out = shapes.conv_transpose_output_size(x.shape[2:], w.shape[2:], s, (ph, pw), op, d)
    except ValueError as error:
        raise ValueError(f"{error}{_size_context(np.shape(input), np.shape(weight))}") from None
    c_out = w.shape[1] * groups
    return _conv_record(2, x, w, _conv_bias(bias, c_out), grad_output, unbatched, True,
                        stride=s, padding=(ph, ph, pw, pw), dilation=d, output_padding=op,
                        groups=groups, out_channels=c_out, out_size=out)


# --------------------------------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PoolArgs:
    """The checked arguments of max/avg pooling (torch's rules), per axis (height, width).

    Attributes
    ----------
    input : ndarray (N, C, H, W) (an unbatched input gets a batch axis of 1; :meth:`finish` drops it)
    grad_output : ndarray (N, C, H_out, W_out) or None (the backward functions' ``G``)
    kernel_size, stride, padding, dilation : (int, int); ``stride=None`` is ``kernel_size``
    ceil_mode : bool
    out_size : (H_out, W_out), :func:`cnnbook.shapes.pool_output_size`
    unbatched : bool
    dtype : the dtype of ``input`` and ``grad_output``
    """

    input: np.ndarray
    grad_output: np.ndarray | None
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    ceil_mode: bool
    out_size: tuple[int, int]
    unbatched: bool
    dtype: np.dtype

    def finish(self, y: np.ndarray) -> np.ndarray:
        """An (N, C, ...) result in the caller's layout (no batch axis for an unbatched input)."""
        return y[0] if self.unbatched else y


def _pooled_grad_output(grad_output: ArrayLike | None, x: np.ndarray, out: tuple[int, int],
                        unbatched: bool) -> np.ndarray | None:
    """A pooling backward's ``grad_output`` (N, C, H_out, W_out) for the batched input ``x``, checked
    against the caller's layout (no batch axis for an unbatched input); None stays None."""
    if grad_output is None:
        return None
    want = x.shape[:2] + out
    return check_grad_output(grad_output, want[1:] if unbatched else want, "pooling output").reshape(want)


def pool_args(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
              padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False, *,
              grad_output: ArrayLike | None = None) -> PoolArgs:
    """Check the arguments of ``max_pool2d`` / ``avg_pool2d`` (average pooling passes ``dilation=1``).
    A geometry checked before is not checked again (:class:`_Checked`)."""
    key = _Checked.key((input, grad_output), ("pool", kernel_size, stride, padding, dilation, ceil_mode))
    fields = _pool_checked.get(key)
    if fields is not None:
        x, g = (input[None], grad_output) if fields["unbatched"] else (input, grad_output)
        if g is not None:
            g = g.reshape(x.shape[:2] + fields["out_size"])
        return PoolArgs(input=x, grad_output=g, **fields)
    a = _pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, grad_output)
    _pool_checked.put(key, {name: getattr(a, name) for name in _POOL_FIELDS})
    return a


_POOL_FIELDS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "out_size", "unbatched", "dtype")
_pool_checked = _Checked()


def _pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, grad_output) -> PoolArgs:
    x = as_float_array(input, "input", ndim=(3, 4), layout="(N, C, H, W) or (C, H, W)")
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    k = positive_tuple(kernel_size, "kernel_size", 2)
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    s = k if no_stride else positive_tuple(stride, "stride", 2)
    p = nonnegative_tuple(padding, "padding", 2)
    d = positive_tuple(dilation, "dilation", 2)
    ceil_mode = check_bool(ceil_mode, "ceil_mode")
    try:
        out = shapes.pool_output_size(x.shape[-2:], k, s, p, d, ceil_mode)
    except ValueError as error:
        raise ValueError(f"{error} (input of spatial shape {x.shape[-2:]})") from None
    g = _pooled_grad_output(grad_output, x, out, unbatched)
    dtype, (x, g) = _dtype_of(x, g)
    return PoolArgs(input=x, grad_output=g, kernel_size=k, stride=s, padding=p, dilation=d,
                    ceil_mode=ceil_mode, out_size=out, unbatched=unbatched, dtype=dtype)


# --------------------------------------------------------------------------------------------------
# linear, activations, loss
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class LinearArgs:
    """The checked arguments of ``linear``: ``input`` (*, in_features), ``weight`` (out_features,
    in_features), ``bias`` (out_features,) or None, ``grad_output`` (*, out_features) or None, all in
    ``dtype``."""

    input: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    grad_output: np.ndarray | None
    dtype: np.dtype


def linear_args(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *,
                grad_output: ArrayLike | None = None) -> LinearArgs:
    """Check the arguments of ``linear`` (and, with ``grad_output``, of ``linear_backward``)."""
    x = as_float_array(input, "input")
    w = as_float_array(weight, "weight", ndim=2, layout="(out_features, in_features)")
    if x.ndim < 1:
        raise ValueError("input must have at least 1 dimension (*, in_features), got a scalar")
    if x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"input's last dimension ({x.shape[-1]}) must equal weight's in_features ({w.shape[1]}); "
            f"weight has shape (out_features, in_features) = {w.shape}"
        )
    b = None
    if bias is not None:
        b = as_float_array(bias, "bias", ndim=1, layout="(out_features,)")
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"bias must have length out_features = {w.shape[0]}, got {b.shape[0]}")
    g = None if grad_output is None else check_grad_output(grad_output, x.shape[:-1] + (w.shape[0],), "output")
    dtype, (x, w, b, g) = _dtype_of(x, w, b, g)
    return LinearArgs(input=x, weight=w, bias=b, grad_output=g, dtype=dtype)


@dataclass(frozen=True, eq=False)
class ActivationArgs:
    """The checked arguments of an activation's backward function: ``grad_output`` and ``input`` of
    the same shape, both in ``dtype``."""

    input: np.ndarray
    grad_output: np.ndarray
    dtype: np.dtype


def activation_args(grad_output: ArrayLike, input: ArrayLike) -> ActivationArgs:
    """Check the arguments of ``relu_backward``, ``sigmoid_backward``, ``log_softmax_backward``."""
    x = as_float_array(input, "input")
    g = check_grad_output(grad_output, x.shape, "input")
    dtype, (x, g) = _dtype_of(x, g)
    return ActivationArgs(input=x, grad_output=g, dtype=dtype)


@dataclass(frozen=True, eq=False)
class CrossEntropyArgs:
    """The checked arguments of ``cross_entropy``: logits ``input`` (N, K) and class indices
    ``target`` (N,) in ``[0, K)`` (an ``intp`` array)."""

    input: np.ndarray
    target: np.ndarray


def cross_entropy_args(input: ArrayLike, target: ArrayLike) -> CrossEntropyArgs:
    """Check the arguments of ``cross_entropy`` and ``cross_entropy_backward``."""
    x = as_float_array(input, "input", ndim=2, layout="(N, K) of logits")
    t = np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"target must be an integer array of class indices, got dtype {t.dtype} "
            "(class probabilities are not supported)"
        )
    if t.shape != (x.shape[0],):
        raise ValueError(
            f"target must have shape (N,) = ({x.shape[0]},) to match input's batch size, got {t.shape}"
        )
    classes = x.shape[1]
    if t.size and (t.min() < 0 or t.max() >= classes):
        raise ValueError(f"target class indices must be in [0, {classes - 1}] (K = {classes} classes), "
                         f"got values in [{t.min()}, {t.max()}]")
    return CrossEntropyArgs(input=x, target=t.astype(np.intp))


# --------------------------------------------------------------------------------------------------
# im2col / col2im
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnfoldArgs:
    """The window arguments of ``im2col`` / ``col2im`` (torch's ``unfold`` / ``fold``): ``kernel_size``,
    ``stride``, ``dilation`` as (int, int) and ``padding`` as (top, bottom, left, right)."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    dilation: tuple[int, int]

    def out_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """The number of window positions (H_out, W_out) on an (H, W) image
        (:func:`cnnbook.shapes.conv_output_size`)."""
        top, bottom, left, right = self.padding
        return shapes.conv_output_size(tuple(size), self.kernel_size, self.stride, ((top, bottom), (left, right)),
                                       self.dilation)


def unfold_args(kernel_size: IntOrTuple, stride: IntOrTuple = 1, padding: int | Sequence[int] = 0,
                dilation: IntOrTuple = 1) -> UnfoldArgs:
    """Check the window arguments of ``im2col`` / ``col2im``; ``padding`` may also be (top, bottom, left, right)."""
    return UnfoldArgs(kernel_size=positive_tuple(kernel_size, "kernel_size", 2),
                      stride=positive_tuple(stride, "stride", 2),
                      padding=padding_sides(padding),
                      dilation=positive_tuple(dilation, "dilation", 2))


# ==================================================================================================
# the convolution family of chapter 9: unfold/fold, 3-D convolution, unshared and tiled convolution
# ==================================================================================================
@dataclass(frozen=True, eq=False)
class FoldArgs:
    """The checked arguments of ``unfold``, ``fold`` and their backward functions (torch's rules).

    Attributes
    ----------
    input : ndarray
        ``unfold``: the image batch (N, C, H, W); ``fold``: the columns (N, C k_h k_w, L).
        An unbatched input gets a batch axis of 1 (:meth:`finish` drops it again).
    grad_output : ndarray or None
        The backward functions' ``G``: the shape of the forward result, with the batch axis.
    window : UnfoldArgs
        kernel_size, stride, dilation (int, int) and padding (top, bottom, left, right), as
        :func:`cnnbook.im2col` takes them.
    channels : int
        C, the channels of the image.
    size : (H, W)
        The image: ``unfold``'s input, ``fold``'s ``output_size``.
    blocks : (H_out, W_out)
        The window positions on the image, ``L = H_out W_out`` (:func:`cnnbook.shapes.conv_output_size`).
    unbatched : bool
    dtype : float32 or float64, the dtype of ``input`` and ``grad_output``
    """

    input: np.ndarray
    grad_output: np.ndarray | None
    window: UnfoldArgs
    channels: int
    size: tuple[int, int]
    blocks: tuple[int, int]
    unbatched: bool
    dtype: np.dtype

    @property
    def image_shape(self) -> tuple[int, int, int, int]:
        """(N, C, H, W), the shape of the batched image."""
        return (self.input.shape[0], self.channels, *self.size)

    @property
    def columns_shape(self) -> tuple[int, int, int]:
        """(N, C k_h k_w, L), the shape of the batched columns."""
        kh, kw = self.window.kernel_size
        return (self.input.shape[0], self.channels * kh * kw, self.blocks[0] * self.blocks[1])

    def finish(self, y: np.ndarray) -> np.ndarray:
        """A batched result in the caller's layout (no batch axis for an unbatched input)."""
        return y[0] if self.unbatched else y


def _fold_window(kernel_size: IntOrTuple, dilation: IntOrTuple, padding: IntOrTuple,
                 stride: IntOrTuple) -> UnfoldArgs:
    """torch's window arguments of unfold/fold: ints or pairs; the padding is the same on both sides."""
    ph, pw = nonnegative_tuple(padding, "padding", 2)
    return UnfoldArgs(kernel_size=positive_tuple(kernel_size, "kernel_size", 2),
                      stride=positive_tuple(stride, "stride", 2),
                      padding=(ph, ph, pw, pw),
                      dilation=positive_tuple(dilation, "dilation", 2))


def _blocks(window: UnfoldArgs, size: tuple[int, int], what: str) -> tuple[int, int]:
    try:
        return window.out_size(size)
    except ValueError as error:
        raise ValueError(f"{error} ({what} of spatial size {tuple(size)})") from None


def _fold_record(x: np.ndarray, grad_output: ArrayLike | None, want: tuple[int, ...], unbatched: bool,
                 of: str, **fields) -> FoldArgs:
    g = None
    if grad_output is not None:
        g = check_grad_output(grad_output, want[1:] if unbatched else want, of).reshape(want)
    dtype, (x, g) = _dtype_of(x, g)
    return FoldArgs(input=x, grad_output=g, unbatched=unbatched, dtype=dtype, **fields)


def unfold_array_args(input: ArrayLike, kernel_size: IntOrTuple, dilation: IntOrTuple = 1,
                      padding: IntOrTuple = 0, stride: IntOrTuple = 1, *,
                      grad_output: ArrayLike | None = None) -> FoldArgs:
    """Check the arguments of ``unfold`` (and, with ``grad_output``, of ``unfold_backward``).

    ``input`` is (N, C, H, W) or (C, H, W); the result (N, C k_h k_w, L) has one column per window
    position. (:func:`unfold_args` checks the window arguments alone, for :func:`cnnbook.im2col`.)
    """
    x = as_float_array(input, "input", ndim=(3, 4), layout="(N, C, H, W) or (C, H, W)")
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    window = _fold_window(kernel_size, dilation, padding, stride)
    size = x.shape[2:]
    blocks = _blocks(window, size, "input")
    kh, kw = window.kernel_size
    want = (x.shape[0], x.shape[1] * kh * kw, blocks[0] * blocks[1])
    return _fold_record(x, grad_output, want, unbatched, "unfold output", window=window,
                        channels=x.shape[1], size=size, blocks=blocks)


def fold_args(input: ArrayLike, output_size: IntOrTuple, kernel_size: IntOrTuple, dilation: IntOrTuple = 1,
              padding: IntOrTuple = 0, stride: IntOrTuple = 1, *,
              grad_output: ArrayLike | None = None) -> FoldArgs:
    """Check the arguments of ``fold`` (and, with ``grad_output``, of ``fold_backward``).

    ``input`` is (N, C k_h k_w, L) or (C k_h k_w, L): its second-last axis must be a multiple of
    ``k_h k_w`` and its last must be the number of window positions on ``output_size``.
    """
    x = as_float_array(input, "input", ndim=(2, 3), layout="(N, C*k_h*k_w, L) or (C*k_h*k_w, L)")
    unbatched = x.ndim == 2
    if unbatched:
        x = x[None]
    window = _fold_window(kernel_size, dilation, padding, stride)
    size = check_at_least(int_tuple(output_size, "output_size", 2), "output_size", 1)
    kh, kw = window.kernel_size
    rows, length = x.shape[1:]
    if rows % (kh * kw):
        raise ValueError(f"input's dimension {x.ndim - 2 - unbatched} must be divisible by the product of "
                         f"kernel_size {kh} * {kw} = {kh * kw}, got {rows}")
    blocks = _blocks(window, size, "output_size")
    if blocks[0] * blocks[1] != length:
        raise ValueError(f"input's last dimension must be the number of sliding blocks H_out * W_out = "
                         f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]} for output_size {size}, "
                         f"got {length}")
    want = (x.shape[0], rows // (kh * kw), *size)
    return _fold_record(x, grad_output, want, unbatched, "fold output", window=window,
                        channels=rows // (kh * kw), size=size, blocks=blocks)


@dataclass(frozen=True, eq=False)
class Conv3dArgs:
    """The checked arguments of ``conv3d`` / ``conv3d_backward`` (torch's rules), per axis (depth,
    height, width).

    Attributes
    ----------
    input : ndarray (N, C_in, D, H, W) (an unbatched input gets a batch axis of 1)
    weight : ndarray (C_out, C_in / groups, k_d, k_h, k_w)
    bias : ndarray (C_out,) or None
    grad_output : ndarray (N, C_out, D_out, H_out, W_out) or None
    stride, dilation : (int, int, int)
    padding : ((before, after), (before, after), (before, after)), ``'same'``/``'valid'`` resolved
    leftover : (int, int, int)
        The cells of the padded input after the last window (:func:`cnnbook.shapes.conv_leftover`).
    groups, out_channels : int
    out_size : (D_out, H_out, W_out)
    unbatched : bool
    dtype : float32 or float64, the dtype of every array above
    """

    input: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    grad_output: np.ndarray | None
    stride: tuple[int, int, int]
    padding: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int, int]
    leftover: tuple[int, int, int]
    groups: int
    out_channels: int
    out_size: tuple[int, int, int]
    unbatched: bool
    dtype: np.dtype

    def finish(self, y: np.ndarray) -> np.ndarray:
        """A batched result in the caller's layout (no batch axis for an unbatched input)."""
        return y[0] if self.unbatched else y


def _resolved_padding(padding: Padding, stride: tuple[int, ...], kernel: tuple[int, ...],
                      dilation: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """``(before, after)`` per axis from an int, a tuple, ``'valid'`` or ``'same'`` (stride 1 only)."""
    n = len(kernel)
    spec = conv_padding(padding, stride, n)
    if spec == "same":
        return tuple(shapes.same_padding(kernel, dilation))
    p = (0,) * n if spec == "valid" else spec
    return tuple((q, q) for q in p)


def conv3d_args(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
                grad_output: ArrayLike | None = None) -> Conv3dArgs:
    """Check the arguments of ``conv3d`` (and, with ``grad_output``, of ``conv3d_backward``).

    ``weight`` is (C_out, C_in / groups, k_d, k_h, k_w); the output size per axis is
    :func:`cnnbook.shapes.conv_output_size`.
    """
    x = as_float_array(input, "input", ndim=(4, 5), layout="(N, C, D, H, W) or (C, D, H, W)")
    w = as_float_array(weight, "weight", ndim=5, layout="(C_out, C_in/groups, k_d, k_h, k_w)")
    original = (x.shape, w.shape)
    unbatched = x.ndim == 4
    if unbatched:
        x = x[None]
    if min(w.shape[2:]) < 1:
        raise ValueError(f"weight must have a non-empty kernel, got weight of shape {w.shape}")
    s = positive_tuple(stride, "stride", 3)
    d = positive_tuple(dilation, "dilation", 3)
    c_in, c_out, kernel = x.shape[1], w.shape[0], w.shape[2:]
    groups = check_groups(groups, c_in, c_out)
    if c_in != w.shape[1] * groups:
        raise ValueError(f"channel mismatch: input has {c_in} channels but weight.shape[1] * groups = "
                         f"{w.shape[1]} * {groups} = {w.shape[1] * groups}")
    pads = _resolved_padding(padding, s, kernel, d)
    try:
        out = shapes.conv_output_size(x.shape[2:], kernel, s, pads, d)
        leftover = shapes.conv_leftover(x.shape[2:], kernel, s, pads, d)
    except ValueError as error:
        raise ValueError(f"{error}{_size_context(*original)}") from None
    g = None
    if grad_output is not None:
        want = (x.shape[0], c_out, *out)
        g = check_grad_output(grad_output, want[1:] if unbatched else want, "output").reshape(want)
    dtype, (x, w, b, g) = _dtype_of(x, w, _conv_bias(bias, c_out), g)
    return Conv3dArgs(input=x, weight=w, bias=b, grad_output=g, stride=s, padding=pads, dilation=d,
                      leftover=leftover, groups=groups, out_channels=c_out, out_size=out,
                      unbatched=unbatched, dtype=dtype)


@dataclass(frozen=True, eq=False)
class UnsharedArgs:
    """The checked arguments of the unshared (locally connected) and the tiled convolution.

    Output position ``(i, j)`` uses weight set ``(i mod t_h, j mod t_w)``: the unshared convolution
    has one set per position (``tiles == out_size``), the tiled one ``t_h x t_w`` sets cycled over the
    positions, and ``tiles == (1, 1)`` is the ordinary convolution.

    Attributes
    ----------
    input : ndarray (N, C_in, H, W) (an unbatched input gets a batch axis of 1)
    weight : ndarray (C_out, t_h, t_w, C_in, k_h, k_w)
    bias : ndarray (C_out, t_h, t_w) or None
    grad_output : ndarray (N, C_out, H_out, W_out) or None
    stride, dilation : (int, int)
    padding : (top, bottom, left, right), ``'same'``/``'valid'`` resolved
    tiles : (t_h, t_w)
    out_channels : int
    out_size : (H_out, W_out)
    unbatched : bool
    dtype : float32 or float64, the dtype of every array above
    """

    input: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    grad_output: np.ndarray | None
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    dilation: tuple[int, int]
    tiles: tuple[int, int]
    out_channels: int
    out_size: tuple[int, int]
    unbatched: bool
    dtype: np.dtype

    @property
    def kernel_size(self) -> tuple[int, int]:
        return self.weight.shape[4:]

    def finish(self, y: np.ndarray) -> np.ndarray:
        """A batched result in the caller's layout (no batch axis for an unbatched input)."""
        return y[0] if self.unbatched else y


def unshared_args(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                  padding: Padding = 0, dilation: IntOrTuple = 1, *, tiled: bool = False,
                  grad_output: ArrayLike | None = None) -> UnsharedArgs:
    """Check the arguments of ``conv2d_unshared`` (``tiled=False``) or ``conv2d_tiled`` (``tiled=True``).

    ``weight`` is (C_out, t_h, t_w, C_in, k_h, k_w). Unshared: ``(t_h, t_w)`` must be the output size
    ``(H_out, W_out)``, one weight set per output position. Tiled: ``1 <= t <= `` the output size on
    each axis. ``bias`` is (C_out, t_h, t_w).
    """
    x = as_float_array(input, "input", ndim=(3, 4), layout="(N, C_in, H, W) or (C_in, H, W)")
    sets = "t_h, t_w" if tiled else "H_out, W_out"
    w = as_float_array(weight, "weight", ndim=6, layout=f"(C_out, {sets}, C_in, k_h, k_w)")
    original = (x.shape, w.shape)
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    if min(w.shape) < 1:
        raise ValueError(f"weight must not have an empty axis, got weight of shape {w.shape}")
    c_in, c_out, kernel, tiles = x.shape[1], w.shape[0], w.shape[4:], w.shape[1:3]
    if w.shape[3] != c_in:
        raise ValueError(f"channel mismatch: input has {c_in} channels but weight.shape[3] = {w.shape[3]} "
                         f"(weight is (C_out, {sets}, C_in, k_h, k_w))")
    s = positive_tuple(stride, "stride", 2)
    d = positive_tuple(dilation, "dilation", 2)
    pads = _resolved_padding(padding, s, kernel, d)
    try:
        out = shapes.conv_output_size(x.shape[2:], kernel, s, pads, d)
    except ValueError as error:
        raise ValueError(f"{error}{_size_context(*original)}") from None
    if not tiled and tiles != out:
        raise ValueError(f"weight must have one weight set per output position: weight.shape[1:3] must be "
                         f"the output size (H_out, W_out) = {out}, got {tiles} (weight of shape {w.shape}, "
                         f"input of shape {original[0]})")
    if tiled and (tiles[0] > out[0] or tiles[1] > out[1]):
        raise ValueError(f"the tile size (t_h, t_w) = weight.shape[1:3] = {tiles} must not exceed the output "
                         f"size (H_out, W_out) = {out}: some weight sets would never be used")
    b = None
    if bias is not None:
        b = as_float_array(bias, "bias", ndim=3, layout=f"(C_out, {sets})")
        if b.shape != (c_out, *tiles):
            raise ValueError(f"bias must have shape (C_out, {sets}) = {(c_out, *tiles)}, got {b.shape}")
    g = None
    if grad_output is not None:
        want = (x.shape[0], c_out, *out)
        g = check_grad_output(grad_output, want[1:] if unbatched else want, "output").reshape(want)
    dtype, (x, w, b, g) = _dtype_of(x, w, b, g)
    return UnsharedArgs(input=x, weight=w, bias=b, grad_output=g, stride=s,
                        padding=(*pads[0], *pads[1]), dilation=d, tiles=tiles, out_channels=c_out,
                        out_size=out, unbatched=unbatched, dtype=dtype)


# --------------------------------------------------------------------------------------------------
# chapter 10: batch normalization, adaptive average pooling, dropout
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class BatchNormArgs:
    """The checked arguments of ``batch_norm`` and ``batch_norm_backward``.

    The input (N, C), (N, C, L) or (N, C, H, W) is seen as (N, C, M) with ``M`` the product of the
    spatial sizes (1 for (N, C)): the statistics of channel ``c`` are over the ``m = N M`` values
    ``input[:, c, :]``. :meth:`finish` gives a result back the caller's shape.

    Attributes
    ----------
    input : ndarray (N, C, M)
    running_mean, running_var : ndarray (C,) or None
        The caller's own arrays (not converted: ``batch_norm`` updates them in place in training mode).
    weight, bias : ndarray (C,) or None, in ``dtype``
    grad_output : ndarray (N, C, M) or None
    training : bool
    momentum : float in [0, 1]
    eps : float > 0
    shape : the caller's input shape
    dtype : float32 or float64
    """

    input: np.ndarray
    running_mean: np.ndarray | None
    running_var: np.ndarray | None
    weight: np.ndarray | None
    bias: np.ndarray | None
    grad_output: np.ndarray | None
    training: bool
    momentum: float
    eps: float
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def count(self) -> int:
        """``m = N M``, the number of values each channel's statistics are taken over."""
        return self.input.shape[0] * self.input.shape[2]

    def finish(self, y: np.ndarray) -> np.ndarray:
        """An (N, C, M) result in the caller's shape."""
        return y.reshape(self.shape)


def _real_number(value: object, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Integral, float, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def _channel_vector(value: ArrayLike | None, name: str, channels: int, writable: bool = False) -> np.ndarray | None:
    """A per-channel vector (C,): running statistics, weight or bias."""
    if value is None:
        return None
    if writable and not (isinstance(value, np.ndarray) and value.dtype in FLOAT_TYPES):
        raise TypeError(f"{name} must be a float32 or float64 NumPy array in training mode (it is updated "
                        f"in place), got {type(value).__name__}"
                        + (f" of dtype {value.dtype}" if isinstance(value, np.ndarray) else ""))
    arr = value if writable else as_float_array(value, name)
    if arr.shape != (channels,):
        raise ValueError(f"{name} must have shape (C,) = ({channels},), one entry per channel of the input, "
                         f"got {arr.shape}")
    return arr


def batch_norm_args(input: ArrayLike, running_mean: ArrayLike | None, running_var: ArrayLike | None,
                    weight: ArrayLike | None = None, bias: ArrayLike | None = None, training: bool = False,
                    momentum: float = 0.1, eps: float = 1e-5, *,
                    grad_output: ArrayLike | None = None) -> BatchNormArgs:
    """Check the arguments of ``batch_norm`` (and, with ``grad_output``, of ``batch_norm_backward``).

    torch's rules: the running statistics may be None only in training mode (the batch statistics are
    then used and nothing is recorded); training needs more than one value per channel; ``momentum`` is in
    [0, 1] and ``eps`` > 0.
    """
    x = as_float_array(input, "input", ndim=(2, 3, 4), layout="(N, C), (N, C, L) or (N, C, H, W)")
    training = check_bool(training, "training")
    momentum, eps = _real_number(momentum, "momentum"), _real_number(eps, "eps")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    shape, channels = x.shape, x.shape[1]
    x3 = x.reshape(shape[0], channels, -1)
    in_place = training and grad_output is None
    rm = _channel_vector(running_mean, "running_mean", channels, writable=in_place)
    rv = _channel_vector(running_var, "running_var", channels, writable=in_place)
    if (rm is None) != (rv is None):
        raise ValueError("running_mean and running_var must both be arrays or both be None")
    if not training and rm is None:
        raise ValueError("running_mean and running_var must be given in evaluation mode (training=False)")
    if training and x3.shape[0] * x3.shape[2] <= 1:
        raise ValueError(f"expected more than 1 value per channel when training, got input of shape {shape}")
    w = _channel_vector(weight, "weight", channels)
    b = _channel_vector(bias, "bias", channels)
    g = None if grad_output is None else check_grad_output(grad_output, shape, "input").reshape(x3.shape)
    dtype, (x3, w, b, g) = _dtype_of(x3, w, b, g)
    return BatchNormArgs(input=x3, running_mean=rm, running_var=rv, weight=w, bias=b, grad_output=g,
                         training=training, momentum=momentum, eps=eps, shape=shape, dtype=dtype)


@dataclass(frozen=True, eq=False)
class AdaptivePoolArgs:
    """The checked arguments of ``adaptive_avg_pool2d``.

    Attributes
    ----------
    input : ndarray (N, C, H, W) (an unbatched input gets a batch axis of 1; :meth:`finish` drops it)
    grad_output : ndarray (N, C, H_out, W_out) or None
    out_size : (H_out, W_out), ``None`` entries resolved (:func:`cnnbook.shapes.adaptive_pool_output_size`)
    rows, cols : tuple of (start, end), the bin of every output row and column
        (:func:`cnnbook.shapes.adaptive_pool_bins`)
    unbatched : bool
    dtype : float32 or float64
    """

    input: np.ndarray
    grad_output: np.ndarray | None
    out_size: tuple[int, int]
    rows: tuple[tuple[int, int], ...]
    cols: tuple[tuple[int, int], ...]
    unbatched: bool
    dtype: np.dtype

    def finish(self, y: np.ndarray) -> np.ndarray:
        return y[0] if self.unbatched else y


def adaptive_pool_args(input: ArrayLike, output_size: int | Sequence[int | None] | None, *,
                       grad_output: ArrayLike | None = None) -> AdaptivePoolArgs:
    """Check the arguments of ``adaptive_avg_pool2d`` and its backward (output sizes >= 1; a ``None``
    entry keeps the input's size, as in torch)."""
    x = as_float_array(input, "input", ndim=(3, 4), layout="(N, C, H, W) or (C, H, W)")
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    if min(x.shape[-2:]) < 1:
        raise ValueError(f"input must have a non-empty spatial size, got input of shape {x.shape}")
    out = shapes.adaptive_pool_output_size(x.shape[-2:], output_size)
    rows, cols = (tuple(shapes.adaptive_pool_bins(n, o)) for n, o in zip(x.shape[-2:], out))
    g = _pooled_grad_output(grad_output, x, out, unbatched)
    dtype, (x, g) = _dtype_of(x, g)
    return AdaptivePoolArgs(input=x, grad_output=g, out_size=out, rows=rows, cols=cols, unbatched=unbatched,
                            dtype=dtype)


@dataclass(frozen=True, eq=False)
class DropoutArgs:
    """The checked arguments of ``dropout`` and ``dropout_backward``: ``input`` (any shape), ``mask`` (a
    bool array of the input's shape: True = kept) or None (to be drawn), ``grad_output`` or None, ``p``
    in [0, 1], ``training``, and ``dtype``."""

    input: np.ndarray
    mask: np.ndarray | None
    grad_output: np.ndarray | None
    p: float
    training: bool
    dtype: np.dtype


def as_generator(generator: int | np.random.Generator | None, name: str = "generator") -> np.random.Generator:
    """``None`` (fresh entropy), an int seed, or a ``numpy.random.Generator`` (used as is, so it advances)."""
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is None or _is_int(generator):
        return np.random.default_rng(generator)
    raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator, got {generator!r}")


def dropout_args(input: ArrayLike, p: float = 0.5, training: bool = True, mask: ArrayLike | None = None, *,
                 grad_output: ArrayLike | None = None) -> DropoutArgs:
    """Check the arguments of ``dropout`` / ``dropout_backward``: ``p`` in [0, 1] (torch's rule), a
    ``mask`` of booleans with the input's shape."""
    x = as_float_array(input, "input")
    p = _real_number(p, "p")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability p must be in [0, 1], got {p}")
    training = check_bool(training, "training")
    m = None
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"mask must be a bool array (True = kept), got dtype {m.dtype}")
        if m.shape != x.shape:
            raise ValueError(f"mask must have the input's shape {x.shape}, got {m.shape}")
    g = None if grad_output is None else check_grad_output(grad_output, x.shape, "input")
    dtype, (x, g) = _dtype_of(x, g)
    return DropoutArgs(input=x, mask=m, grad_output=g, p=p, training=training, dtype=dtype)
