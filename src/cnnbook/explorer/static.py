"""The static face of an explorer: HTML for a view, and the precomputed viewer of the website.

The website has no kernel behind it, so :func:`to_html` computes the view of every setting of the
explorer's (bounded) grid when the page is built and writes them into the page; the script
``explorer.js`` (:mod:`cnnbook.explorer.assets`, loaded once per page with ``explorer.css``) swaps them
when a control moves. The live face renders with the same :func:`render_view`, so the website shows
exactly what JupyterLab shows.

The viewer's root element carries ``data-explorer`` (its name), ``data-factory`` and ``data-args`` (how to
rebuild it: ``module:function`` and JSON keyword arguments), and, for the setting on display,
``data-setting`` (JSON), ``data-shape`` (the output shape) and ``data-checksum`` (:func:`checksum` of the
output), so a browser test can check the page against ``cnnbook``. Its controls are ``[data-control]``
elements, the slider value labels ``[data-value-of]``, the shape ``[data-role="shape"]``; the views live
in ``.cnnbook-body``, the precomputed states in its ``script[type="application/json"]`` (:func:`payload`).
"""
from __future__ import annotations

import base64
import html
import itertools
import json
import re
from typing import Any

import numpy as np

from .model import Control, Explorer, Panel, View, checksum, jsonable

#: Arrays with at most this many rows and columns are shown as tables of numbers by default.
NUMBERS_UP_TO = 12
#: The colour of NaN cells: explorers mark cells that hold no value (e.g. padding) with NaN.
NAN_RGB = (250, 205, 215)
#: The colour of the outlines drawn into image panels (tables outline with CSS: ``td.hl``).
OUTLINE_RGB = (220, 30, 30)
#: Image panels are shown at least this many screen pixels wide (pixelated), so a reader sees the pixels.
MIN_IMAGE_WIDTH = 192

_ids = itertools.count()


# ---------------------------------------------------------------------------------------- panels
def _format_number(v: float, decimals: int) -> str:
    if not np.isfinite(v):
        return "-inf" if v < 0 else ("inf" if v > 0 else "nan")
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".")


def _colour(values: np.ndarray, cmap: str, vmin: float, vmax: float) -> np.ndarray:
    """RGB uint8 colours of ``values`` under a matplotlib colour map (NaN: :data:`NAN_RGB`)."""
    from matplotlib import colormaps

    span = (vmax - vmin) or 1.0
    with np.errstate(invalid="ignore"):
        t = np.nan_to_num(np.clip((values - vmin) / span, 0.0, 1.0), nan=0.0)  # +-inf clip to 1 / 0
    rgb = (colormaps[cmap](t)[..., :3] * 255).astype(np.uint8)
    rgb[np.isnan(values)] = NAN_RGB
    return rgb


def _limits(panel: Panel, a: np.ndarray) -> tuple[float, float]:
    finite = a[np.isfinite(a)]
    lo = panel.vmin if panel.vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = panel.vmax if panel.vmax is not None else (float(finite.max()) if finite.size else 1.0)
    return lo, hi


def _panel_table(panel: Panel, a: np.ndarray) -> str:
    """A table of the numbers on their colours; a cell's class ``w`` asks for white ink (on a dark
    colour), ``hl`` outlines it. (``explorer.js`` numbers the cells with ``data-row``/``data-col`` in the
    browser, which keeps the precomputed views light.)"""
    lo, hi = _limits(panel, a)
    rgb = _colour(a, panel.cmap, lo, hi)
    marked = np.zeros(a.shape, dtype=bool)
    for r, c, h, w in panel.highlight:
        marked[max(r, 0): r + h, max(c, 0): c + w] = True
    rows = []
    for i in range(a.shape[0]):
        cells = []
        for j in range(a.shape[1]):
            r, g, b = (int(x) for x in rgb[i, j])
            classes = " ".join(name for name, on in (("w", 0.299 * r + 0.587 * g + 0.114 * b <= 140),
                                                      ("hl", marked[i, j])) if on)
            cls = f' class="{classes}"' if classes else ""
            cells.append(
                f'<td{cls} style="background:#{r:02x}{g:02x}{b:02x}">'
                f"{_format_number(float(a[i, j]), panel.decimals)}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return '<table class="cnnbook-grid">' + "".join(rows) + "</table>"


def _panel_image(panel: Panel, a: np.ndarray) -> str:
    """A PNG of the colour-mapped array, shown ``scale`` times larger with square pixels.

    Without outlines the PNG holds one pixel per cell and the browser enlarges it (``width``/``height``
    and ``image-rendering: pixelated``), which keeps pages light; outlines are drawn into an enlarged PNG.
    """
    import cv2

    lo, hi = _limits(panel, a)
    rgb = _colour(a, panel.cmap, lo, hi)
    scale = max(panel.scale or max(1, MIN_IMAGE_WIDTH // max(a.shape)), -(-MIN_IMAGE_WIDTH // a.shape[1]))
    big = rgb
    if panel.highlight:
        big = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    for r, c, h, w in panel.highlight:  # an outline around each highlighted rectangle
        r0, c0 = max(r, 0) * scale, max(c, 0) * scale
        r1, c1 = min(r + h, a.shape[0]) * scale - 1, min(c + w, a.shape[1]) * scale - 1
        if r1 > r0 and c1 > c0:
            big[r0, c0:c1 + 1] = big[r1, c0:c1 + 1] = OUTLINE_RGB
            big[r0:r1 + 1, c0] = big[r0:r1 + 1, c1] = OUTLINE_RGB
    ok, png = cv2.imencode(".png", np.ascontiguousarray(big[..., ::-1]))  # OpenCV wants BGR
    if not ok:  # pragma: no cover - cv2 always encodes a uint8 image
        raise RuntimeError("PNG encoding failed")
    data = base64.b64encode(png.tobytes()).decode()
    height, width = a.shape[0] * scale, a.shape[1] * scale
    return (f'<img alt="{html.escape(panel.title)}" width="{width}" height="{height}" '
            f'src="data:image/png;base64,{data}">')


#: Traced image panels carry their values (for the equation line) rounded to this many decimals.
VALUE_DECIMALS = 6


def _image_values(a: np.ndarray, decimals: int = VALUE_DECIMALS) -> str:
    """The array as JSON rows, rounded to ``decimals`` (NaN as null, infinities clipped)."""
    def number(v: float) -> float | int:
        v = float(np.round(np.clip(v, -1e300, 1e300), decimals)) + 0.0
        return int(v) if v.is_integer() and abs(v) < 2 ** 53 else v

    rows = [[None if np.isnan(v) else number(v) for v in row] for row in a]
    return json.dumps(rows, separators=(",", ":"))


def render_panel(panel: Panel, name: str | None = None, traced: bool = False,
                 value_decimals: int = VALUE_DECIMALS) -> str:
    """HTML for one panel: its title, its shape and the table or image, in a ``figure.cnnbook-panel``
    whose ``data-panel`` is ``panel.name`` (else ``name``, else ``"panel"``).

    An image sits in a ``div.cnnbook-img`` with ``data-rows``/``data-cols``; when ``traced`` (a tracing
    relation needs the panel's numbers) it also carries its values (``data-values``, rounded to
    ``value_decimals``), for the equation line."""
    a = np.asarray(panel.array, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"panel {panel.title!r} must be a 2-D array, got shape {a.shape}")
    numbers = panel.numbers if panel.numbers is not None else max(a.shape) <= NUMBERS_UP_TO
    if numbers:
        body = _panel_table(panel, a)
    else:
        values = f" data-values='{_image_values(a, value_decimals)}'" if traced else ""
        body = (f'<div class="cnnbook-img" data-rows="{a.shape[0]}" data-cols="{a.shape[1]}"{values}>'
                f"{_panel_image(panel, a)}</div>")
    caption = f"{html.escape(panel.title)} <span class='cnnbook-dim'>{a.shape[0]}&times;{a.shape[1]}</span>"
    key = html.escape(panel.name or name or "panel", quote=True)
    return (f'<figure class="cnnbook-panel" data-panel="{key}"><figcaption>{caption}</figcaption>'
            f"{body}</figure>")


def _valued_panels(trace) -> dict[str, int]:
    """The panels whose numbers an equation line reads, with the decimals it needs: the input and kernel
    of a :class:`~cnnbook.explorer.tracing.Window` (the terms it adds up, :data:`VALUE_DECIMALS`; its
    result is computed from them), only the output of a :class:`~cnnbook.explorer.tracing.Field` (its
    value, rounded as the equation prints it)."""
    valued: dict[str, int] = {}
    for rel in trace:
        if rel.op == "field":
            valued[rel.output] = max(valued.get(rel.output, 0), rel.decimals)
        else:
            for n in (rel.input, rel.kernel, getattr(rel, "denominator", None)):
                if n:
                    valued[n] = VALUE_DECIMALS
    return valued


def render_view(view: View) -> str:
    """HTML for a whole view: the output shape line, the text, the panels side by side (with the tracing
    relations as JSON in ``data-trace``) and the PyTorch call (``[data-role="torch-call"]``)."""
    shape = "(" + ", ".join(str(s) for s in view.shape) + ")"
    valued = _valued_panels(view.trace)
    text = f' <span class="cnnbook-text">{html.escape(view.text)}</span>' if view.text else ""
    panels = "".join(render_panel(p, f"panel-{k}", traced=p.name in valued, value_decimals=valued.get(p.name, 0))
                     for k, p in enumerate(view.panels))
    trace = ""
    if view.trace:
        blob = json.dumps([rel.to_json() for rel in view.trace], separators=(",", ":"))
        trace = f' data-trace="{html.escape(blob, quote=True)}"'
    call = (f'<div class="cnnbook-torch">PyTorch: <code data-role="torch-call">{html.escape(view.torch_call)}'
            '</code> <button type="button" data-role="copy-call">copy</button></div>' if view.torch_call else "")
    return (
        f'<div class="cnnbook-shape">output shape: <code data-role="shape">{shape}</code>{text}</div>'
        f'<div class="cnnbook-panels"{trace}>{panels}</div>{call}'
    )


# ---------------------------------------------------------------------------------------- viewer
def payload(explorer: Explorer) -> dict[str, Any]:
    """Every setting of ``explorer`` precomputed, as the viewer's script reads it.

    ``fragments``: the distinct :func:`render_view` HTML strings; ``entries``: for each setting, keyed
    by the indices of its values joined by commas (``"2,0,1"``), ``[fragment index, shape as JSON,
    checksum]``; ``labels`` and ``values``: per control, what the reader sees and the setting's values;
    ``images``: the distinct ``data-values`` (JSON text) of traced image panels, which the fragments name
    by index (``data-values-ref``: a photograph shown in every view is written once; :func:`inline_values`
    puts them back); ``traces``: likewise the distinct ``data-trace`` (escaped JSON) of the views, named by
    ``data-trace-ref`` (the same relations under every setting are written once; the viewer puts them
    back before it shows a fragment).
    """
    fragments: list[str] = []
    seen: dict[str, int] = {}
    images: list[str] = []
    image_index: dict[str, int] = {}
    traces: list[str] = []
    trace_index: dict[str, int] = {}
    entries = {}

    def ref(match: re.Match) -> str:
        k = image_index.setdefault(match.group(1), len(images))
        if k == len(images):
            images.append(match.group(1))
        return f"data-values-ref='{k}'"

    def trace_ref(match: re.Match) -> str:
        k = trace_index.setdefault(match.group(1), len(traces))
        if k == len(traces):
            traces.append(match.group(1))
        return f'data-trace-ref="{k}"'

    for idx, setting in explorer.indexed_settings():
        v = explorer.view(**setting)
        frag = _TRACE.sub(trace_ref, _VALUES.sub(ref, render_view(v)))
        k = seen.setdefault(frag, len(fragments))
        if k == len(fragments):
            fragments.append(frag)
        entries[",".join(map(str, idx))] = [k, json.dumps(list(v.shape)), checksum(v.output)]
    return {
        "fragments": fragments,
        "entries": entries,
        "labels": [c.labels for c in explorer.controls],
        "values": [jsonable(c.values) for c in explorer.controls],
        "images": images,
        "traces": traces,
    }


def inline_values(fragment: str, images: list[str], traces: list[str] = ()) -> str:
    """A fragment of :func:`payload` with its ``data-values-ref`` (and ``data-trace-ref``) replaced by the
    values (and relations) they name: the :func:`render_view` HTML it was made from."""
    fragment = inline_traces(fragment, traces)
    return re.sub(r"data-values-ref='(\d+)'", lambda m: f"data-values='{images[int(m.group(1))]}'", fragment)


def inline_traces(fragment: str, traces: list[str]) -> str:
    """A fragment of :func:`payload` with its ``data-trace-ref`` replaced by the relations it names (as the
    viewer shows it: ``explorer.js`` does the same)."""
    return re.sub(r'data-trace-ref="(\d+)"', lambda m: f'data-trace="{traces[int(m.group(1))]}"', fragment)


#: The values attribute of a traced image panel (:func:`_image_values`), as :func:`payload` finds it.
_VALUES = re.compile(r"data-values='([^']*)'")
#: The tracing relations of a view (escaped JSON, :func:`render_view`), as :func:`payload` finds them.
_TRACE = re.compile(r'data-trace="([^"]*)"')


def _control_html(c: Control) -> str:
    name = html.escape(c.name, quote=True)
    if c.kind == "dropdown":
        opts = "".join(
            f"<option{' selected' if i == c.default_index else ''}>{html.escape(lab)}</option>"
            for i, lab in enumerate(c.labels)
        )
        widget = f'<select data-control="{name}">{opts}</select>'
    else:
        widget = (
            f'<input type="range" data-control="{name}" min="0" max="{len(c.values) - 1}" '
            f'step="1" value="{c.default_index}">'
            f'<output data-value-of="{name}">{html.escape(c.labels[c.default_index])}</output>'
        )
    return f"<label>{html.escape(c.label)} {widget}</label>"


def to_html(explorer: Explorer) -> str:
    """The viewer: controls, the default view, and every precomputed view (:func:`payload`) as JSON.

    The markup needs ``explorer.css`` and ``explorer.js`` on the page (:mod:`cnnbook.explorer.assets`);
    the book's Sphinx extension adds them to every page once.
    """
    data = payload(explorer)
    first = data["entries"][",".join(str(c.default_index) for c in explorer.controls)]
    attrs = {
        "id": f"cnnbook-explorer-{explorer.name}-{next(_ids)}",
        "class": "cnnbook-explorer",
        "data-explorer": explorer.name,
        "data-factory": explorer.factory or "",
        "data-args": json.dumps(explorer.args, sort_keys=True),
        "data-setting": json.dumps(jsonable(explorer.default_setting)),
        "data-shape": first[1],
        "data-checksum": first[2],
    }
    if explorer.own_image is not None and explorer.own_image.browser is not None:
        own = explorer.own_image
        attrs["data-own-image"] = json.dumps({**own.browser, "max": list(own.max_shape), "min": own.min_side},
                                             separators=(",", ":"))
    attr_html = " ".join(f'{k}="{html.escape(str(v), quote=True)}"' for k, v in attrs.items())
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    title = f'<div class="cnnbook-title">{html.escape(explorer.title)}</div>' if explorer.title else ""
    controls = "".join(_control_html(c) for c in explorer.controls)
    return (
        f"<div {attr_html}>{title}"
        f'<div class="cnnbook-controls">{controls}</div>'
        f'<div class="cnnbook-body">{inline_traces(data["fragments"][first[0]], data["traces"])}</div>'
        f'<script type="application/json">{blob}</script></div>'
    )
