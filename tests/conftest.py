"""Shared test settings: deterministic hypothesis runs, torch in float64 on the CPU; the built site
served locally and a chromium for the browser tests (tests/test_site.py, tests/test_quiz_site.py)."""
import os
import sys
from pathlib import Path

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

# The book's Sphinx extension (tools/cnnbook_site.py) is imported by a few tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))


@pytest.fixture
def rng():
    """A fixed-seed generator for tests that need random arrays."""
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def site() -> Path:
    """The built website (a clear failure if it is missing)."""
    from browser_util import require_site

    return require_site()


@pytest.fixture(scope="module")
def server(site):
    """The built website on a local http.server."""
    from browser_util import StaticServer

    with StaticServer(site) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    from browser_util import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
