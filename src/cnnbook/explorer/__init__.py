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
- :mod:`~cnnbook.explorer.tracing`: :class:`~cnnbook.explorer.tracing.Window`, the relation between
  an output panel and the input (and kernel) panel it is computed from,
  :class:`~cnnbook.explorer.tracing.Field`, a unit and its receptive field through a stack of layers,
  :class:`~cnnbook.explorer.tracing.Ratio`, cells of a table that are the quotient of two other cells,
  and :func:`~cnnbook.explorer.tracing.torch_call`;
- :mod:`~cnnbook.explorer.images`: :class:`~cnnbook.explorer.images.OwnImage`, how an explorer takes the
  reader's own image (decoded with OpenCV, grey, fitted, with messages for files it cannot use);
- :mod:`~cnnbook.explorer.assets`: ``explorer.css`` and ``explorer.js``, loaded once per page (and by
  the live face in JupyterLab): the static viewer, the shareable URL fragment, and tracing.

To add an explorer: write a factory in a topic module of :mod:`cnnbook.explorers`, decorated with
:func:`explorer_factory` and returning an :class:`Explorer`; call it in a chapter; list it in
:data:`BOOK` with the chapter and the arguments the chapter passes. The contract tests then check that
it rebuilds from its page, that its static viewer holds exactly what the model computes for every
setting, and that its live widget recomputes; its topic tests check its numbers against torch.

Tracing is opt-in, per view, and changes nothing for an explorer that does not declare it. To let the
reader click a cell and see what it is made of (on the website and live in JupyterLab):

1. name the panels involved: ``Panel(..., name="input")``, ``Panel(..., name="output")`` (and the kernel's);
2. declare how the output is computed, in panel coordinates: ``View(..., trace=[Window("output", "input",
   k, stride=s, padding=p, dilation=d, kernel="kernel", shown_padding=p)])`` (``shown_padding``: the
   rings of padding the input panel draws; ``op="max"``/``"avg"`` for pooling; ``transposed=True`` for
   stamps that add up, as in a transposed convolution or a gradient; ``flip=True`` when the kernel
   panel shows ``rot180`` of the weights); or, for units several layers up, their receptive field:
   ``Field.through("map0", "digit", [(k, s, p, d), ...])`` (a unit ``(i, j)`` reads the input cells
   ``start + i·jump + offset``, the offsets where some path arrives, clipped to the panel; several
   relations may share an input panel, e.g. one field per feature map); or, for a table of counts
   divided by a reference, ``Ratio("grouped", "grouped", "standard", [((1, 0), (0, 0), (0, 0)), ...])``
   (output cell ``(1, 0)`` is the numerator panel's ``(0, 0)`` over the denominator panel's ``(0, 0)``;
   the three panels may be one);
3. optionally show the PyTorch call: ``View(..., torch_call=torch_call("conv2d", "x", "w", stride=s,
   defaults=CONV_DEFAULTS))`` (or a few lines of code ending in the call, shown as they are: the cost
   explorer's ``torch.nn`` layers, the depth explorer's torch twin of its network); its names are the
   reader's tensors (``x`` the input without the padding drawn, ``w`` the weights).

``explorer.js`` then lights, for a picked output cell, the input cells and taps of its window (and an
input cell's readers), writes the equation with the panels' numbers (for a field: the rows and columns
it covers, and the unit's value; for a ratio: numerator / denominator; a picked count lights the
quotients it enters), and steps through the cells of the first relation's output panel, and keeps the page's URL
fragment on the setting of the explorer last moved (``#explorer=<name>&<control>=<value>...&pick=<panel>.
<row>.<col>``, restored when the page opens; a "copy link" button). Only the numbers an equation reads
are written into the page (a window's input and kernel, a field's output; a ratio's panels are tables). The browser tests
(tests/test_site.py) find every page whose explorer declares a trace and check the lit cells against
``linked`` of every relation naming the picked panel, and the equation's value against the output
panel; tests/test_tracing.py runs every view's PyTorch call and compares it with the view.

The reader's own image is opt-in too: ``Explorer(..., own_image=OwnImage((height, width), min_side, use))``
where ``use(image)`` makes ``compute`` work on that grey float image (``None``: the book's image again).
JupyterLab then shows an upload control; the website too when ``OwnImage.browser`` tells ``explorer.js``
how to recompute a view (only ``{"kind": "correlate", ...}``, the kernel gallery's nine 3×3 kernels).
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
from .tracing import Field, Ratio, Window, torch_call

__all__ = [
    "Control", "Slider", "Dropdown", "Panel", "View", "Explorer", "checksum", "MAX_SETTINGS",
    "FACE_ENV", "display_face",
    "render_panel", "render_view", "to_html", "payload",
    "explorer_factory", "rebuild", "FACTORIES", "BookExplorer", "BOOK", "Window", "Field", "Ratio",
    "torch_call",
]
