"""cnnbook.timing: the minimum over runs, the matrix-multiply rate, the geometric mean."""
import math

import numpy as np
import pytest

from cnnbook import timing


def test_best_time_is_the_minimum_over_the_timed_runs(monkeypatch):
    """A fake clock: the warm-up call takes no time, the timed runs 3, 1 and 2 ticks."""
    now, durations, calls = [0.0], iter([3, 1, 2]), []

    def fn():
        if calls:
            now[0] += next(durations)
        calls.append(1)

    monkeypatch.setattr(timing.time, "perf_counter", lambda: now[0])
    assert timing.best_time(fn, repeat=3) == 1.0 and len(calls) == 4
    with pytest.raises(ValueError, match="repeat must be >= 1"):
        timing.best_time(fn, repeat=0)


def test_matmul_rate_is_two_n_cubed_over_the_time(monkeypatch):
    monkeypatch.setattr(timing, "best_time", lambda fn, repeat: (fn(), 0.5)[1])
    assert timing.matmul_rate(64) == 2 * 64 ** 3 / 0.5


def test_geometric_mean_of_ratios():
    assert timing.geometric_mean([2.0, 0.5]) == pytest.approx(1.0)
    assert timing.geometric_mean([1.0, 8.0, 27.0]) == pytest.approx(math.prod([1, 8, 27]) ** (1 / 3))
    with pytest.raises(ValueError, match="positive numbers"):
        timing.geometric_mean([1.0, 0.0])
    assert timing.blas_threads() >= 1 and np is not None


def test_numpy_runs_the_blas_kernels_the_environment_names():
    """When the environment variable OPENBLAS_CORETYPE names a set of kernels, NumPy's OpenBLAS runs
    those and blas_kernels says so (the benchmark and chapter 9 print it next to their rates)."""
    import os

    forced = os.environ.get("OPENBLAS_CORETYPE")
    text = timing.blas_kernels()
    if forced and text.startswith("openblas"):
        assert text.endswith(f"{forced} kernels"), text
    assert "kernels" in text or text == "no BLAS library reported"
