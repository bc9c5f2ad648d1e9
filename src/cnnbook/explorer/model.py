"""Explorers: one object, two faces.

An :class:`Explorer` is a function ``compute(**setting) -> View`` plus the controls that choose the
setting (sliders and drop-downs). Shown in JupyterLab it is a live ipywidgets UI that recomputes on every
change. On the static website there is no kernel, so the same object also carries a self-contained HTML
viewer: every setting of its (bounded) grid is computed when the page is built, and a few lines of
JavaScript swap the precomputed views when a control moves. Both faces render a view with the same
function (:func:`render_view`), so what the website shows is exactly what the live explorer shows.

The viewer's root element carries ``data-explorer`` (its name), ``data-factory`` and ``data-args`` (how to
rebuild it: ``module:function`` and JSON keyword arguments), and, for the setting on display,
``data-setting`` (JSON), ``data-shape`` (the output shape) and ``data-checksum`` (:func:`checksum` of the
output), so a browser test can check the page against ``cnnbook``.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import html
import importlib
import inspect
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

#: The largest number of settings a static viewer precomputes (keeps pages light and builds fast).
MAX_SETTINGS = 600
#: Arrays with at most this many rows and columns are shown as tables of numbers by default.
NUMBERS_UP_TO = 12


# ---------------------------------------------------------------------------------------- controls
@dataclass
class Control:
    """A named choice among ``values``; ``labels`` are what the reader sees."""

    name: str
    values: list
    labels: list[str]
    default: Any
    label: str
    kind: str  # "slider" or "dropdown"

    @property
    def default_index(self) -> int:
        return self.values.index(self.default)


def Slider(name: str, values: Sequence, default=None, label: str | None = None) -> Control:
    """A slider over ``values`` (e.g. ``range(1, 4)`` for a stride)."""
    values = list(values)
    if not values:
        raise ValueError(f"slider {name!r} needs at least one value")
    default = values[0] if default is None else default
    if default not in values:
        raise ValueError(f"default of slider {name!r} must be one of {values}, got {default!r}")
    return Control(name, values, [str(v) for v in values], default, label or name, "slider")


def Dropdown(name: str, options, default=None, label: str | None = None) -> Control:
    """A drop-down; ``options`` is a list of values or a dict ``{label: value}``."""
    if isinstance(options, dict):
        labels, values = [str(k) for k in options], list(options.values())
    else:
        values = list(options)
        labels = [str(v) for v in values]
    if not values:
        raise ValueError(f"drop-down {name!r} needs at least one option")
    default = values[0] if default is None else default
    if default not in values:
        raise ValueError(f"default of drop-down {name!r} must be one of {values}, got {default!r}")
    return Control(name, values, labels, default, label or name, "dropdown")


# ---------------------------------------------------------------------------------------- views
@dataclass
class Panel:
    """One 2-D array to show: a table of numbers (small arrays) or a colour-mapped image.

    ``highlight`` lists rectangles ``(row, col, height, width)`` to outline, e.g. the kernel window.
    """

    title: str
    array: np.ndarray
    numbers: bool | None = None
    cmap: str = "gray"
    vmin: float | None = None
    vmax: float | None = None
    highlight: Sequence[tuple[int, int, int, int]] = ()
    decimals: int = 2
    scale: int | None = None


@dataclass
class View:
    """What an explorer shows for one setting: the main ``output`` (its shape and checksum are
    displayed and exposed to tests), the panels to draw, and a line of text (e.g. the size formula)."""

    output: np.ndarray
    panels: list[Panel] = field(default_factory=list)
    text: str = ""

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in np.shape(self.output))


def checksum(array) -> str:
    """A short fingerprint of an array's shape and values rounded to 5 decimals."""
    a = np.round(np.asarray(array, dtype=np.float64), 5) + 0.0  # + 0.0 turns -0.0 into 0.0
    h = hashlib.sha1(repr(a.shape).encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _format_number(v: float, decimals: int) -> str:
    if not np.isfinite(v):
        return "-inf" if v < 0 else ("inf" if v > 0 else "nan")
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".")


#: The colour of NaN cells: explorers mark cells that hold no value (e.g. padding) with NaN.
NAN_RGB = (250, 205, 215)


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
            ink = "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"
            cls = ' class="hl"' if marked[i, j] else ""
            cells.append(
                f'<td{cls} style="background:rgb({r},{g},{b});color:{ink}">'
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
    scale = panel.scale or max(1, 192 // max(a.shape))
    big = rgb
    if panel.highlight:
        big = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    for r, c, h, w in panel.highlight:  # a red outline around each highlighted rectangle
        r0, c0 = max(r, 0) * scale, max(c, 0) * scale
        r1, c1 = min(r + h, a.shape[0]) * scale - 1, min(c + w, a.shape[1]) * scale - 1
        if r1 > r0 and c1 > c0:
            big[r0, c0:c1 + 1] = big[r1, c0:c1 + 1] = (220, 30, 30)
            big[r0:r1 + 1, c0] = big[r0:r1 + 1, c1] = (220, 30, 30)
    ok, png = cv2.imencode(".png", np.ascontiguousarray(big[..., ::-1]))  # OpenCV wants BGR
    if not ok:  # pragma: no cover - cv2 always encodes a uint8 image
        raise RuntimeError("PNG encoding failed")
    data = base64.b64encode(png.tobytes()).decode()
    height, width = a.shape[0] * scale, a.shape[1] * scale
    return (f'<img alt="{html.escape(panel.title)}" width="{width}" height="{height}" '
            f'src="data:image/png;base64,{data}">')


def render_panel(panel: Panel) -> str:
    """HTML for one panel: its title, its shape and the table or image."""
    a = np.asarray(panel.array, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"panel {panel.title!r} must be a 2-D array, got shape {a.shape}")
    numbers = panel.numbers if panel.numbers is not None else max(a.shape) <= NUMBERS_UP_TO
    body = _panel_table(panel, a) if numbers else _panel_image(panel, a)
    caption = f"{html.escape(panel.title)} <span class='cnnbook-dim'>{a.shape[0]}&times;{a.shape[1]}</span>"
    return f'<figure class="cnnbook-panel"><figcaption>{caption}</figcaption>{body}</figure>'


def render_view(view: View) -> str:
    """HTML for a whole view: the output shape line, the text and the panels side by side."""
    shape = "(" + ", ".join(str(s) for s in view.shape) + ")"
    text = f' <span class="cnnbook-text">{html.escape(view.text)}</span>' if view.text else ""
    panels = "".join(render_panel(p) for p in view.panels)
    return (
        f'<div class="cnnbook-shape">output shape: <code data-role="shape">{shape}</code>{text}</div>'
        f'<div class="cnnbook-panels">{panels}</div>'
    )


_CSS = """
.cnnbook-explorer{border:1px solid #ccd;border-radius:6px;padding:8px 10px;margin:8px 0;font-size:14px}
.cnnbook-explorer .cnnbook-title{font-weight:600;margin-bottom:4px}
.cnnbook-controls{display:flex;flex-wrap:wrap;gap:6px 18px;margin-bottom:6px;align-items:center}
.cnnbook-controls label{display:flex;gap:6px;align-items:center}
.cnnbook-panels{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.cnnbook-panel{margin:0}.cnnbook-panel figcaption{font-size:12px;color:#445}
.cnnbook-dim{color:#889}.cnnbook-panel img{image-rendering:pixelated;display:block}
table.cnnbook-grid{border-collapse:collapse;font:11px monospace;margin:0}
table.cnnbook-grid td{border:1px solid #bbb;min-width:26px;height:20px;text-align:center;padding:0 2px}
table.cnnbook-grid td.hl{outline:2px solid #e02020;outline-offset:-2px}
.cnnbook-text{color:#445;margin-left:10px}
"""

_JS = """
(function(){
  var root = document.getElementById(%(id)s);
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  var controls = Array.prototype.slice.call(root.querySelectorAll('[data-control]'));
  var body = root.querySelector('.cnnbook-body');
  function update(){
    var idx = controls.map(function(c){ return c.tagName === 'SELECT' ? c.selectedIndex : +c.value; });
    controls.forEach(function(c, k){
      var out = root.querySelector('[data-value-of="' + c.dataset.control + '"]');
      if (out) out.textContent = data.labels[k][idx[k]];
    });
    var e = data.entries[idx.join(',')];
    body.innerHTML = data.fragments[e[0]];
    root.dataset.shape = e[1];
    root.dataset.checksum = e[2];
    var setting = {};
    controls.forEach(function(c, k){ setting[c.dataset.control] = data.values[k][idx[k]]; });
    root.dataset.setting = JSON.stringify(setting);
  }
  controls.forEach(function(c){ c.addEventListener('input', update); c.addEventListener('change', update); });
})();
"""


# ---------------------------------------------------------------------------------------- explorer
class Explorer:
    """Controls plus ``compute(**setting) -> View``; a live widget in JupyterLab, a static viewer on the site.

    Parameters
    ----------
    compute : callable
        Called with one keyword argument per control; returns a :class:`View`.
    controls : list of Control
        Made with :func:`Slider` and :func:`Dropdown`.
    name : str
        A short identifier (``data-explorer`` on the page).
    title : str
        Shown above the controls.
    """

    _count = itertools.count()

    def __init__(self, compute: Callable[..., View], controls: Sequence[Control], *, name: str,
                 title: str = ""):
        self.compute = compute
        self.controls = list(controls)
        self.name = name
        self.title = title
        self.factory: str | None = None  # set by @explorer_factory
        self.args: dict = {}
        n = int(np.prod([len(c.values) for c in self.controls]))
        if n > MAX_SETTINGS:
            raise ValueError(
                f"explorer {name!r} has {n} settings; at most {MAX_SETTINGS} can be precomputed "
                "for the static site: offer fewer values"
            )

    # -- computing
    @property
    def default_setting(self) -> dict:
        return {c.name: c.default for c in self.controls}

    def view(self, **setting) -> View:
        """The view for ``setting`` (missing controls take their defaults)."""
        unknown = set(setting) - {c.name for c in self.controls}
        if unknown:
            raise ValueError(f"explorer {self.name!r} has no control(s) {sorted(unknown)}")
        full = {**self.default_setting, **setting}
        result = self.compute(**full)
        if not isinstance(result, View):
            raise TypeError(f"compute of explorer {self.name!r} must return a View, got {type(result).__name__}")
        return result

    def settings(self):
        """Every setting of the grid, as dicts, in the order of the controls."""
        for combo in itertools.product(*[c.values for c in self.controls]):
            yield dict(zip((c.name for c in self.controls), combo))

    # -- static face
    def to_html(self) -> str:
        """The self-contained viewer: controls, every precomputed view, and the script that swaps them."""
        uid = f"cnnbook-explorer-{self.name}-{next(self._count)}"
        fragments: list[str] = []
        seen: dict[str, int] = {}
        entries = {}
        for idx in itertools.product(*[range(len(c.values)) for c in self.controls]):
            setting = {c.name: c.values[i] for c, i in zip(self.controls, idx)}
            v = self.view(**setting)
            frag = render_view(v)
            k = seen.setdefault(frag, len(fragments))
            if k == len(fragments):
                fragments.append(frag)
            entries[",".join(map(str, idx))] = [k, json.dumps(list(v.shape)), checksum(v.output)]
        payload = {
            "fragments": fragments,
            "entries": entries,
            "labels": [c.labels for c in self.controls],
            "values": [_jsonable(c.values) for c in self.controls],
        }
        d = self.default_setting
        first = entries[",".join(str(c.default_index) for c in self.controls)]
        controls_html = "".join(self._control_html(c) for c in self.controls)
        attrs = {
            "id": uid,
            "class": "cnnbook-explorer",
            "data-explorer": self.name,
            "data-factory": self.factory or "",
            "data-args": json.dumps(self.args, sort_keys=True),
            "data-setting": json.dumps(_jsonable(d)),
            "data-shape": first[1],
            "data-checksum": first[2],
        }
        attr_html = " ".join(f'{k}="{html.escape(str(v), quote=True)}"' for k, v in attrs.items())
        blob = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
        title = f'<div class="cnnbook-title">{html.escape(self.title)}</div>' if self.title else ""
        return (
            f"<style>{_CSS}</style><div {attr_html}>{title}"
            f'<div class="cnnbook-controls">{controls_html}</div>'
            f'<div class="cnnbook-body">{fragments[first[0]]}</div>'
            f'<script type="application/json">{blob}</script>'
            f"<script>{_JS % {'id': json.dumps(uid)}}</script></div>"
        )

    @staticmethod
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

    # -- live face
    def widget(self):
        """A live ipywidgets UI: the controls and an HTML output recomputed on every change."""
        import ipywidgets as w

        inputs = {}
        style = {"description_width": "initial"}  # the whole label, never "kernel siz..."
        for c in self.controls:
            if c.kind == "dropdown":
                inputs[c.name] = w.Dropdown(options=list(zip(c.labels, c.values)), value=c.default,
                                            description=c.label, style=style)
            elif all(isinstance(v, int) for v in c.values) and c.values == list(
                    range(c.values[0], c.values[-1] + 1)):
                inputs[c.name] = w.IntSlider(value=c.default, min=c.values[0], max=c.values[-1],
                                             description=c.label, continuous_update=False, style=style)
            else:
                inputs[c.name] = w.SelectionSlider(options=list(zip(c.labels, c.values)), value=c.default,
                                                   description=c.label, continuous_update=False, style=style)
        out = w.HTML(value=render_view(self.view()))

        def refresh(_change=None):
            out.value = render_view(self.view(**{k: i.value for k, i in inputs.items()}))

        for i in inputs.values():
            i.observe(refresh, names="value")
        title = [w.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []
        box = w.VBox(title + [w.HTML(f"<style>{_CSS}</style>"), w.HBox(list(inputs.values()),
                     layout=w.Layout(flex_flow="row wrap")), out])
        box.add_class("cnnbook-live-explorer")
        self._inputs, self._output = inputs, out  # for tests and for readers poking at it
        return box

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": f"<Explorer {self.name}: " + ", ".join(c.name for c in self.controls) + ">"}
        try:
            from IPython import get_ipython

            if get_ipython() is not None and getattr(get_ipython(), "kernel", None) is not None:
                bundle.update(self.widget()._repr_mimebundle_(include=include, exclude=exclude))
        except ImportError:  # pragma: no cover - IPython comes with ipywidgets
            pass
        bundle["text/html"] = self.to_html()  # the static viewer, for the website
        return bundle


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def explorer_factory(func: Callable[..., Explorer]) -> Callable[..., Explorer]:
    """Decorate a function that builds an :class:`Explorer` from JSON-serialisable arguments.

    The explorer remembers ``module:function`` and the arguments, so a test can rebuild it with
    :func:`rebuild` and recompute any setting shown on the website.
    """
    sig = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = _jsonable(dict(bound.arguments))
        json.dumps(arguments)  # raises TypeError if an argument cannot be written into the page
        ex = func(*args, **kwargs)
        ex.factory = f"{func.__module__}:{func.__qualname__}"
        ex.args = arguments
        return ex

    return wrapper


def rebuild(factory: str, args: dict) -> Explorer:
    """Build again the explorer a page names in ``data-factory`` / ``data-args``."""
    module, _, qualname = factory.partition(":")
    func = importlib.import_module(module)
    for part in qualname.split("."):
        func = getattr(func, part)
    return func(**args)
