"""The live face of an explorer: an ipywidgets UI for JupyterLab that recomputes on every change.

:class:`LiveExplorer` is the widget itself (a ``VBox``): one ipywidgets control per
:class:`~cnnbook.explorer.model.Control` and an HTML output holding
:func:`~cnnbook.explorer.static.render_view` of the current setting. It never builds the static viewer.
A hidden ``Output`` widget carries ``explorer.js`` as a script output, which JupyterLab runs: the same
tracing as on the website (pick a cell, step through the positions) works on the live output.
"""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from .assets import read_asset
from .model import Control, Explorer, View
from .static import render_view

#: Show every control's whole label ("kernel size k", never "kernel siz...").
_STYLE = {"description_width": "initial"}


def control_widget(c: Control) -> w.ValueWidget:
    """The ipywidgets control for ``c``: a ``Dropdown``, an ``IntSlider`` over consecutive integers, or
    a ``SelectionSlider`` over any other values (labelled as the static face labels them)."""
    if c.kind == "dropdown":
        return w.Dropdown(options=list(zip(c.labels, c.values)), value=c.default, description=c.label,
                          style=_STYLE)
    consecutive = all(isinstance(v, int) for v in c.values) and c.values == list(
        range(c.values[0], c.values[-1] + 1))
    if consecutive:
        return w.IntSlider(value=c.default, min=c.values[0], max=c.values[-1], description=c.label,
                           continuous_update=False, style=_STYLE)
    return w.SelectionSlider(options=list(zip(c.labels, c.values)), value=c.default, description=c.label,
                             continuous_update=False, style=_STYLE)


class LiveExplorer(w.VBox):
    """The live widget of ``explorer``: its title, the stylesheet, the controls, and the output.

    Attributes
    ----------
    explorer : Explorer
        The model it shows.
    controls : dict of str to ipywidgets widget
        One per control of the explorer, by name; set a ``value`` to move it.
    output : ipywidgets.HTML
        ``render_view`` of the current setting, recomputed whenever a control moves.
    """

    def __init__(self, explorer: Explorer, **kwargs: Any):
        self.explorer = explorer
        self.controls = {c.name: control_widget(c) for c in explorer.controls}
        self.output = w.HTML(value=render_view(explorer.view()))
        for control in self.controls.values():
            control.observe(self._refresh, names="value")
        title = [w.HTML(f"<b>{html.escape(explorer.title)}</b>")] if explorer.title else []
        style = w.HTML(f"<style>{read_asset('explorer.css')}</style>")
        # explorer.js traces the cells of the output (JupyterLab runs a script output of an Output widget)
        script = w.Output(layout=w.Layout(display="none"))
        script.outputs = ({"output_type": "display_data", "metadata": {},
                           "data": {"application/javascript": read_asset("explorer.js"),
                                    "text/plain": "(the explorer's script)"}},)
        row = w.HBox(list(self.controls.values()), layout=w.Layout(flex_flow="row wrap"))
        extra = []
        if explorer.own_image is not None:
            self.upload = w.FileUpload(accept="image/*", multiple=False, description="your image")
            self.book_image = w.Button(description="the book's image", disabled=True)
            self.message = w.HTML("")
            self.upload.observe(self._on_upload, names="value")
            self.book_image.on_click(self._on_book_image)
            extra = [w.HBox([self.upload, self.book_image, self.message], layout=w.Layout(flex_flow="row wrap"))]
        super().__init__(title + [style, script, row] + extra + [self.output], **kwargs)
        self.add_class("cnnbook-live-explorer")

    @property
    def setting(self) -> dict:
        """The value of every control."""
        return {name: control.value for name, control in self.controls.items()}

    def view(self) -> View:
        """The view of the current setting."""
        return self.explorer.view(**self.setting)

    def _refresh(self, _change: Any = None) -> None:
        self.output.value = render_view(self.view())

    # -- the reader's own image
    def _say(self, text: str, problem: bool = False) -> None:
        cls = "cnnbook-image-problem" if problem else "cnnbook-image-note"
        self.message.value = f'<span class="{cls}" data-role="image-message">{html.escape(text)}</span>'

    def use_image(self, data: bytes, name: str = "the file") -> bool:
        """Show the explorer on the image in ``data`` (a file's bytes); a problem becomes a message.

        Returns whether the image is now shown.
        """
        from .images import ImageError, read_image_bytes

        own = self.explorer.own_image
        try:
            image, note = read_image_bytes(data, own.max_shape, own.min_side, name)
        except ImageError as error:
            self._say(str(error), problem=True)
            return False
        own.use(image)
        try:
            self._refresh()
        except Exception as error:  # never a traceback for the reader: back to the book's image
            own.use(None)
            self._refresh()
            self._say(f"This explorer cannot use {name}: {error}", problem=True)
            return False
        self.book_image.disabled = False
        self._say(note)
        return True

    def _on_upload(self, change: Any) -> None:
        files = change["new"]
        if files:
            f = files[0]
            self.use_image(bytes(f["content"]), f"“{f['name']}”")

    def _on_book_image(self, _button: Any = None) -> None:
        self.explorer.own_image.use(None)
        self.book_image.disabled = True
        self._refresh()
        self._say("Back to the book's image.")
