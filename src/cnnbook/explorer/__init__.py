"""Explorers: one model, two faces.

An explorer is a function ``compute(**setting) -> View`` plus the controls that choose the setting.
Shown in JupyterLab it is a live ipywidgets UI that recomputes on every change; on the static website
there is no kernel, so every setting of its (bounded) grid is computed when the page is built and a
small script swaps the precomputed views when a control moves. The package is split by job:

- :mod:`~cnnbook.explorer.model`: :class:`Slider`, :class:`Dropdown`, :class:`Panel`, :class:`View`,
  :class:`Explorer`, :func:`checksum`, and :func:`display_face` (which face Jupyter shows);
- :mod:`~cnnbook.explorer.static`: :func:`render_view` (HTML of one view, used by both faces) and
  :func:`to_html`, the precomputed viewer of the website;
- :mod:`~cnnbook.explorer.live`: :class:`LiveExplorer`, the ipywidgets face (imported on first use);
- :mod:`~cnnbook.explorer.registry`: :func:`explorer_factory`, :func:`rebuild` and :data:`BOOK`, the
  explorers the book shows;
- :mod:`~cnnbook.explorer.assets`: ``explorer.css`` and ``explorer.js``, loaded once per page.

To add an explorer: write a factory in a topic module of :mod:`cnnbook.explorers`, decorated with
:func:`explorer_factory` and returning an :class:`Explorer`; call it in a chapter; list it in
:data:`BOOK` with the chapter and the arguments the chapter passes. The contract tests then check that
it rebuilds from its page, that its static viewer holds exactly what the model computes for every
setting, and that its live widget recomputes; its topic tests check its numbers against torch.
"""
from .model import (
    FACE_ENV,
    MAX_SETTINGS,
    Control,
    Dropdown,
    Explorer,
    Panel,
    Slider,
    View,
    checksum,
    display_face,
)
from .registry import BOOK, FACTORIES, BookExplorer, explorer_factory, rebuild
from .static import payload, render_panel, render_view, to_html

__all__ = [
    "Control", "Slider", "Dropdown", "Panel", "View", "Explorer", "checksum", "MAX_SETTINGS",
    "FACE_ENV", "display_face",
    "render_panel", "render_view", "to_html", "payload",
    "explorer_factory", "rebuild", "FACTORIES", "BookExplorer", "BOOK",
]
