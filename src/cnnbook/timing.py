"""Measuring speed on the reader's machine: wall times, the machine's matrix-multiply rate, ratios.

The chapters and the benchmark (``benchmarks/run.py``) time code with these few functions, so a number a
page prints and a number the benchmark prints were measured the same way. Times are wall-clock seconds;
a rate is in floating-point operations per second (a multiply-add counts as two).
"""
from __future__ import annotations

import math
import time
from typing import Callable, Iterable

import numpy as np

__all__ = ["best_time", "matmul_rate", "geometric_mean", "blas_threads", "blas_kernels"]


def best_time(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """The shortest wall time of ``fn()`` over ``repeat`` runs, after ``warmup`` untimed runs.

    The minimum, not the mean: other work on the machine only ever adds time, so the fastest run is the
    best estimate of what the code itself costs.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"repeat must be >= 1 and warmup >= 0, got repeat={repeat}, warmup={warmup}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_rate(n: int = 2048, dtype=np.float32, repeat: int = 3) -> float:
    """The machine's matrix-multiply rate in FLOP/s: an ``n x n`` by ``n x n`` product of ``dtype``
    (``2 n^3`` operations) timed with :func:`best_time`. For our purposes, the limit a convolution can
    reach when its arithmetic is handed to the same BLAS library."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
    out = np.empty((n, n), dtype)
    return 2.0 * n ** 3 / best_time(lambda: np.matmul(a, b, out=out), repeat)


def geometric_mean(values: Iterable[float]) -> float:
    """``(v_1 v_2 ... v_m)^(1/m)``: the mean of ratios (a 2x slower case and a 2x faster one average to 1)."""
    values = list(values)
    if not values or min(values) <= 0:
        raise ValueError(f"values must be a non-empty list of positive numbers, got {values!r}")
    return math.exp(sum(math.log(v) for v in values) / len(values))


def blas_threads() -> int:
    """The number of threads of NumPy's BLAS library (``threadpoolctl``'s view; 1 if it reports none)."""
    return max((p["num_threads"] for p in _blas_pools()), default=1)


def _blas_pools() -> list[dict]:
    """``threadpoolctl``'s records of the BLAS libraries loaded in this process."""
    from threadpoolctl import threadpool_info

    return [p for p in threadpool_info() if p.get("user_api") == "blas"]


def blas_kernels() -> str:
    """Which BLAS library NumPy calls and the kernels it chose for this processor, e.g.
    ``"openblas 0.3.31, SkylakeX kernels"`` (``threadpoolctl``'s view; OpenBLAS picks its kernels from the
    CPU's identity when it loads, or takes the ones the environment variable ``OPENBLAS_CORETYPE`` names)."""
    pools = _blas_pools()
    if not pools:
        return "no BLAS library reported"
    p = pools[0]
    kernels = f", {p['architecture']} kernels" if p.get("architecture") else ""
    return f"{p.get('internal_api', 'blas')} {p.get('version') or ''}".strip() + kernels
