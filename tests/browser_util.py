"""Shared pieces of the browser tests (tests/test_site.py, tests/test_lab.py).

Chromium is Debian's (`apt-get install chromium`; `make test` installs it when missing), driven by
Playwright's sync API. Playwright's own browser downloads are never used.
"""
from __future__ import annotations

import functools
import http.server
import os
import socket
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CNNBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: Where the built website is; `make test` builds it into _build/html first.
SITE = Path(os.environ.get("CNNBOOK_SITE", ROOT / "_build" / "html")).resolve()
#: Screenshots (and the per-page report) go next to the site: _build/screenshots/.
SCREENSHOTS = SITE.parent / "screenshots"


def require_chromium() -> str:
    """The chromium binary, or a clear failure telling how to get it."""
    import pytest

    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium. "
            "`make test` installs it (apt-get install -y chromium); or set CNNBOOK_CHROMIUM.",
            pytrace=False,
        )
    return CHROMIUM


def require_site() -> Path:
    """The built website, or a clear failure (not a skip) telling how to build it."""
    import pytest

    if not (SITE / "index.html").is_file():
        pytest.fail(
            f"no built website at {SITE} (index.html missing): run `make book` first "
            "(`make test` does), or point CNNBOOK_SITE at a built _build/html.",
            pytrace=False,
        )
    return SITE


def launch(playwright):
    return playwright.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


class StaticServer:
    """`python -m http.server` in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, directory: Path):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
