"""Shared utilities for the tests that compare cnnbook with PyTorch.

* ``to_torch`` / ``to_numpy`` move arrays across without changing the dtype;
* ``assert_close`` compares a cnnbook result with torch's, dtype-aware (tolerances explained there);
* hypothesis strategies that only generate configurations torch accepts (every output size >= 1).

Array *values* are drawn from a NumPy generator seeded by hypothesis (``draw(seeds)``), so the examples
are reproducible and shrinkable without hypothesis having to build every float itself.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from cnnbook import functional as F
from cnnbook import reference as R

torch.set_num_threads(1)  # small tensors: one thread is fastest, and steady on a shared 2-core machine

#: Run a test for the fast path (cnnbook.functional) and for the loops (cnnbook.reference), as ``module``.
BOTH_TREES = pytest.mark.parametrize("module", [F, R], ids=["functional", "reference"])

DTYPES = (np.float32, np.float64)
dtypes = st.sampled_from(DTYPES)
seeds = st.integers(min_value=0, max_value=2**32 - 1)

# Limits from the brief: keep every example small so the suite finishes in a few minutes.
MAX_SPATIAL = 12
MAX_BATCH = 3


def to_torch(x, requires_grad: bool = False) -> torch.Tensor:
    """A torch tensor holding a copy of ``x`` (same dtype), optionally a leaf requiring grad."""
    t = torch.tensor(np.asarray(x))
    return t.requires_grad_(requires_grad) if requires_grad else t


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def tolerances(dtype) -> tuple[float, float]:
    """(rtol, atol) for comparing a result of dtype ``dtype`` with torch in the same dtype.

    float64: both sides round at ~1e-16 per operation; a sum of a few hundred products (the largest
    reduction in these small shapes) differs by far less than 1e-10 of its magnitude, so 1e-10 still
    catches any real indexing mistake while allowing a different summation order from torch.
    float32: unit roundoff 6e-8; reductions of up to ~500 terms summed in a different order than torch
    (BLAS blocking, im2col vs direct) can differ by a few 1e-6 of the magnitude -> rtol 1e-4, atol 1e-5.
    The absolute tolerance is scaled by the magnitude of the expected values (at least 1).
    """
    if np.dtype(dtype) == np.float64:
        return 1e-9, 1e-10
    return 1e-4, 1e-5


def assert_close(actual, expected, dtype=None, what: str = "") -> None:
    """Shapes equal, dtype equal to ``dtype`` (if given), values within ``tolerances(dtype)``."""
    if isinstance(expected, torch.Tensor):
        expected = to_numpy(expected)
    expected = np.asarray(expected)
    assert isinstance(actual, np.ndarray), f"{what}: expected a NumPy array, got {type(actual).__name__}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != torch {expected.shape}"
    if dtype is not None:
        assert actual.dtype == np.dtype(dtype), f"{what}: dtype {actual.dtype} != {np.dtype(dtype)}"
    rtol, atol = tolerances(dtype if dtype is not None else expected.dtype)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale, err_msg=what)


def randn(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def tie_free(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """Distinct values spaced 0.5 apart (a shuffled ramp): no ties in any pooling window, and a finite
    difference step of 1e-6 never moves an arg-max."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.5).reshape(shape).astype(dtype)


# ------------------------------------------------------------------------------------------------
# arrays and keyword arguments of the configurations drawn below
# ------------------------------------------------------------------------------------------------
def conv_arrays(cfg: dict, transposed: bool = False):
    """``(rng, x, w, b)`` for a :func:`conv_configs` (1-D or 2-D) or, ``transposed``, a
    :func:`conv_transpose_configs` configuration: input (N, C_in, *size), weight (C_out, C_in/groups,
    *kernel) or transposed (C_in, C_out/groups, *kernel), bias (C_out,); ``rng`` continues for the
    upstream gradient."""
    rng = np.random.default_rng(cfg["seed"])
    dt, groups = cfg["dtype"], cfg["groups"]
    x = randn(rng, (cfg["n"], cfg["c_in"], *cfg["size"]), dt)
    channels = (cfg["c_in"], cfg["c_out"] // groups) if transposed else (cfg["c_out"], cfg["c_in"] // groups)
    w = randn(rng, (*channels, *cfg["kernel"]), dt)
    b = randn(rng, (cfg["c_out"],), dt)
    return rng, x, w, b


def conv_kwargs(cfg: dict) -> dict:
    return dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"])


def conv_transpose_kwargs(cfg: dict) -> dict:
    return dict(stride=cfg["stride"], padding=cfg["padding"], output_padding=cfg["output_padding"],
                groups=cfg["groups"], dilation=cfg["dilation"])


def max_pool_kwargs(cfg: dict) -> dict:
    """The keyword arguments of max_pool2d for a :func:`pool_configs` configuration."""
    return dict(kernel_size=cfg["kernel"], stride=cfg["stride"], padding=cfg["padding"],
                dilation=cfg["dilation"], ceil_mode=cfg["ceil_mode"])


def avg_pool_kwargs(cfg: dict, count_include_pad: bool) -> dict:
    """The keyword arguments of avg_pool2d for a :func:`pool_configs` configuration (no dilation)."""
    return dict(kernel_size=cfg["kernel"], stride=cfg["stride"], padding=cfg["padding"],
                ceil_mode=cfg["ceil_mode"], count_include_pad=count_include_pad)


# ------------------------------------------------------------------------------------------------
# hypothesis strategies
# ------------------------------------------------------------------------------------------------
def conv_out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def pool_out(size, k, s, p, d, ceil_mode):
    """torch's pooling output size (pooling_output_shape in ATen)."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def window_hits_input(size, k, s, p, d, out):
    """True if every pooling window along this axis covers at least one real (non-padding) cell.

    torch accepts padding <= kernel_size // 2 even with dilation, so with dilation a window can lie
    entirely in the padding (e.g. size 1, kernel 2, padding 1, dilation 2: taps at -1 and 1). torch 2.13
    then returns -inf with an out-of-range index, and its max_pool2d backward writes outside the input
    (heap corruption / segfault in this environment). Such configurations are excluded.
    """
    return all(any(0 <= i * s - p + u * d < size for u in range(k)) for i in range(out))


def convt_out(size, k, s, p, op, d):
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


@st.composite
def conv_configs(draw, ndim: int = 2, max_spatial: int = MAX_SPATIAL, max_batch: int = MAX_BATCH,
                 max_kernel: int = 4, max_stride: int = 3, max_dilation: int = 3, max_padding: int = 2,
                 allow_string_padding: bool = True, max_groups: int = 3, max_per_group: int = 2):
    """A convolution configuration torch accepts: a dict with shapes, per-axis stride/padding/dilation
    (ints or tuples), groups, and a dtype. ``padding`` may be 'valid' or 'same' (then stride 1)."""
    groups = draw(st.integers(1, max_groups))
    c_in = groups * draw(st.integers(1, max_per_group))
    c_out = groups * draw(st.integers(1, max_per_group))
    n = draw(st.integers(1, max_batch))
    k = tuple(draw(st.integers(1, max_kernel)) for _ in range(ndim))
    d = tuple(draw(st.integers(1, max_dilation)) for _ in range(ndim))
    mode = draw(st.sampled_from(["ints", "ints", "ints", "valid", "same"]) if allow_string_padding
                else st.just("ints"))
    if mode == "same":
        s = (1,) * ndim
    else:
        s = tuple(draw(st.integers(1, max_stride)) for _ in range(ndim))
    if mode == "ints":
        p = tuple(draw(st.integers(0, max_padding)) for _ in range(ndim))
    else:
        p = (0,) * ndim
    size = []
    for i in range(ndim):
        lo = max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i])  # output size >= 1
        size.append(draw(st.integers(lo, max(lo, max_spatial))))
    # int-or-tuple: sometimes pass a plain int when both axes agree (torch accepts both)
    def maybe_int(t):
        return t[0] if len(set(t)) == 1 and draw(st.booleans()) else t
    return dict(
        n=n, c_in=c_in, c_out=c_out, groups=groups, kernel=k, size=tuple(size),
        stride=maybe_int(s), padding=mode if mode != "ints" else maybe_int(p), dilation=maybe_int(d),
        dtype=draw(dtypes), seed=draw(seeds),
    )


@st.composite
def conv_transpose_configs(draw, max_spatial: int = 8, max_batch: int = MAX_BATCH, max_kernel: int = 4,
                           max_stride: int = 3, max_dilation: int = 3, max_padding: int = 2):
    """A conv_transpose2d configuration torch accepts (output_padding < stride or < dilation per axis,
    output size >= 1)."""
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    n = draw(st.integers(1, max_batch))
    k = tuple(draw(st.integers(1, max_kernel)) for _ in range(2))
    s = tuple(draw(st.integers(1, max_stride)) for _ in range(2))
    d = tuple(draw(st.integers(1, max_dilation)) for _ in range(2))
    p = tuple(draw(st.integers(0, max_padding)) for _ in range(2))
    op = tuple(draw(st.integers(0, max(s[i], d[i]) - 1)) for i in range(2))
    size = []
    for i in range(2):
        h = draw(st.integers(1, max_spatial))
        while convt_out(h, k[i], s[i], p[i], op[i], d[i]) < 1:
            h += 1
        size.append(h)
    return dict(n=n, c_in=c_in, c_out=c_out, groups=groups, kernel=k, size=tuple(size), stride=s,
                padding=p, output_padding=op, dilation=d, dtype=draw(dtypes), seed=draw(seeds))


@st.composite
def pool_configs(draw, max_spatial: int = MAX_SPATIAL, max_batch: int = MAX_BATCH, max_kernel: int = 4,
                 with_dilation: bool = True):
    """A pooling configuration torch accepts: padding <= kernel // 2, output size >= 1,
    stride None (= kernel_size) or explicit."""
    n = draw(st.integers(1, max_batch))
    c = draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, max_kernel)) for _ in range(2))
    explicit_stride = draw(st.booleans())
    s = tuple(draw(st.integers(1, 3)) for _ in range(2)) if explicit_stride else k
    d = tuple(draw(st.integers(1, 2)) for _ in range(2)) if with_dilation else (1, 1)
    p = tuple(draw(st.integers(0, k[i] // 2)) for i in range(2))
    ceil_mode = draw(st.booleans())
    size = []
    for i in range(2):
        # with ceil_mode torch also accepts a window larger than the padded input (output size 1)
        lo = 1 if ceil_mode else max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i])
        h = draw(st.integers(lo, max(lo, max_spatial)))
        while pool_out(h, k[i], s[i], p[i], d[i], ceil_mode) < 1 or not window_hits_input(
                h, k[i], s[i], p[i], d[i], pool_out(h, k[i], s[i], p[i], d[i], ceil_mode)):
            h += 1
        size.append(h)
    def maybe_int(t):
        return t[0] if len(set(t)) == 1 and draw(st.booleans()) else t
    return dict(n=n, c=c, kernel=maybe_int(k), stride=maybe_int(s) if explicit_stride else None,
                padding=maybe_int(p), dilation=maybe_int(d), ceil_mode=ceil_mode, size=tuple(size),
                dtype=draw(dtypes), seed=draw(seeds))


# ------------------------------------------------------------------------------------------------
# training a torch twin step for step
# ------------------------------------------------------------------------------------------------
def torch_sgd_losses(twin: torch.nn.Module, x: np.ndarray, y: np.ndarray, batches, lr: float,
                     momentum: float) -> list[float]:
    """Train ``twin`` with ``torch.optim.SGD`` and cross-entropy on the minibatches ``x[idx], y[idx]`` for
    each index array of ``batches`` (what cnnbook's ``train_step`` does); return the loss of every step."""
    opt = torch.optim.SGD(twin.parameters(), lr=lr, momentum=momentum)
    losses = []
    for idx in batches:
        loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses
