"""The explorers' stylesheet and script, shipped as package files.

``explorer.css`` styles both faces; ``explorer.js`` drives the static viewer
(:func:`cnnbook.explorer.static.to_html`). The book's Sphinx extension copies both into the website's
static folder and adds them to every page once; the live face injects the stylesheet into its widget.
"""
from __future__ import annotations

from importlib import resources

#: The files of this folder, in the order a page includes them.
ASSETS = ("explorer.css", "explorer.js")


def read_asset(name: str) -> str:
    """The text of one of :data:`ASSETS`."""
    if name not in ASSETS:
        raise ValueError(f"name must be one of {ASSETS}, got {name!r}")
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
