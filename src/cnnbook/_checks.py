"""Argument checking shared by every operation.

Each check raises a ``TypeError`` (wrong kind of value) or a ``ValueError`` (right kind, violated
constraint) whose message names the argument and the constraint, e.g.
``ValueError: stride must be >= 1 in every dimension, got (0, 1)``.
"""
from __future__ import annotations

from numbers import Integral
from typing import Sequence

import numpy as np

FLOAT_TYPES = (np.float32, np.float64)


def as_float_array(x, name: str, ndim: int | Sequence[int] | None = None, layout: str = "") -> np.ndarray:
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


def int_tuple(value, name: str, n: int) -> tuple[int, ...]:
    """Expand an int-or-tuple argument (torch's ``_pair``/``_single``) to a tuple of ``n`` ints."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, Integral):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(
        isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)) for v in value
    ):
        return tuple(int(v) for v in value)
    raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")


def check_at_least(values: tuple[int, ...], name: str, minimum: int) -> tuple[int, ...]:
    """Raise ``ValueError`` unless every entry of ``values`` is >= ``minimum``."""
    if any(v < minimum for v in values):
        shown = values[0] if len(set(values)) == 1 else values
        raise ValueError(f"{name} must be >= {minimum} in every dimension, got {shown}")
    return values


def positive_tuple(value, name: str, n: int) -> tuple[int, ...]:
    """An int-or-tuple argument that must be >= 1 (stride, dilation, kernel_size)."""
    return check_at_least(int_tuple(value, name, n), name, 1)


def nonnegative_tuple(value, name: str, n: int) -> tuple[int, ...]:
    """An int-or-tuple argument that must be >= 0 (padding, output_padding)."""
    return check_at_least(int_tuple(value, name, n), name, 0)


def check_groups(groups, in_channels: int, out_channels: int) -> int:
    """``groups`` must be a positive int dividing both channel counts."""
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, Integral):
        raise TypeError(f"groups must be an int, got {groups!r}")
    groups = int(groups)
    if groups < 1:
        raise ValueError(f"groups must be >= 1, got {groups}")
    if in_channels % groups:
        raise ValueError(f"groups={groups} must divide the input channels ({in_channels})")
    if out_channels % groups:
        raise ValueError(f"groups={groups} must divide the output channels ({out_channels})")
    return groups
