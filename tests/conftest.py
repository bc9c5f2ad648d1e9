"""Shared test settings: deterministic hypothesis runs, torch in float64 on the CPU."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Deterministic: the same examples on every run, no per-example deadline (torch's first call is slow).
settings.register_profile(
    "cnnbook",
    derandomize=True,
    deadline=None,
    max_examples=int(os.environ.get("CNNBOOK_MAX_EXAMPLES", "40")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("cnnbook")


@pytest.fixture
def rng():
    """A fixed-seed generator for tests that need random arrays."""
    return np.random.default_rng(0)
