"""The model of an explorer: its controls, what it shows for one setting, and the explorer itself.

An :class:`Explorer` is a function ``compute(**setting) -> View`` plus the controls that choose the
setting (a :class:`Slider` or a :class:`Dropdown` each). Nothing here draws: the static face
(:mod:`cnnbook.explorer.static`) and the live face (:mod:`cnnbook.explorer.live`) both render the
:class:`View` this model computes, so the website and JupyterLab show the same thing.
"""
from __future__ import annotations

import hashlib
import itertools
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:  # the faces are imported only when used (the live one needs ipywidgets)
    from .live import LiveExplorer

#: The largest number of settings a static viewer precomputes (keeps pages light and builds fast).
MAX_SETTINGS = 600


# ---------------------------------------------------------------------------------------- controls
@dataclass
class Control:
    """A named choice among ``values``; ``labels`` are what the reader sees, ``label`` names the control.

    Made with :class:`Slider` or :class:`Dropdown`; ``kind`` tells the faces which widget to draw.
    """

    name: str
    values: list
    labels: list[str]
    default: Any
    label: str
    kind: ClassVar[str] = "control"

    def __post_init__(self) -> None:
        what = f"{self.kind} {self.name!r}"
        if not self.values:
            raise ValueError(f"{what} needs at least one value")
        if len(self.labels) != len(self.values):
            raise ValueError(f"{what}: {len(self.labels)} labels for {len(self.values)} values")
        if self.default not in self.values:
            raise ValueError(f"default of {what} must be one of {self.values}, got {self.default!r}")

    @property
    def default_index(self) -> int:
        """The position of :attr:`default` in :attr:`values`."""
        return self.values.index(self.default)


class Slider(Control):
    """A slider over ``values`` (e.g. ``range(1, 4)`` for a stride); ``default`` is the first value
    unless given, ``label`` the control's name unless given."""

    kind = "slider"

    def __init__(self, name: str, values: Sequence, default: Any = None, label: str | None = None):
        values = list(values)
        super().__init__(name, values, [str(v) for v in values],
                         values[0] if default is None and values else default, label or name)


class Dropdown(Control):
    """A drop-down; ``options`` is a list of values or a dict ``{label: value}``."""

    kind = "dropdown"

    def __init__(self, name: str, options: Sequence | Mapping[str, Any], default: Any = None,
                 label: str | None = None):
        if isinstance(options, Mapping):
            labels, values = [str(k) for k in options], list(options.values())
        else:
            values = list(options)
            labels = [str(v) for v in values]
        super().__init__(name, values, labels, values[0] if default is None and values else default,
                         label or name)


# ---------------------------------------------------------------------------------------- views
@dataclass
class Panel:
    """One 2-D array to show: a table of numbers (small arrays) or a colour-mapped image.

    ``numbers`` chooses the table (``None``: small arrays only); ``cmap``, ``vmin`` and ``vmax`` colour
    it; ``highlight`` lists rectangles ``(row, col, height, width)`` to outline, e.g. the kernel window;
    ``decimals`` rounds the printed numbers; ``scale`` is the size of an image pixel in screen pixels;
    ``name`` identifies the panel on the page (``data-panel``), as the view's tracing relations
    (:class:`~cnnbook.explorer.tracing.Window`) name it.
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
    name: str | None = None


@dataclass
class View:
    """What an explorer shows for one setting: the main ``output`` (its shape and checksum are
    displayed and exposed to tests), the panels to draw, and a line of text (e.g. the size formula).

    Optional: ``trace``, the relations between its named panels (:class:`~cnnbook.explorer.tracing.Window`,
    :class:`~cnnbook.explorer.tracing.Field`, :class:`~cnnbook.explorer.tracing.Ratio`)
    that let the reader pick a cell and see what it is made of; ``torch_call``, the PyTorch call that
    computes ``output`` (:func:`~cnnbook.explorer.tracing.torch_call`), shown under the panels.
    """

    output: np.ndarray
    panels: list[Panel] = field(default_factory=list)
    text: str = ""
    trace: Sequence[Any] = ()
    torch_call: str = ""

    def __post_init__(self) -> None:
        names = [p.name for p in self.panels if p.name]
        if len(set(names)) != len(names):
            raise ValueError(f"panel names must be unique in a view, got {names}")
        for rel in self.trace:
            named = (rel.output, rel.input, rel.kernel, getattr(rel, "denominator", None))
            missing = [n for n in named if n is not None and n not in names]
            if missing:
                raise ValueError(f"a tracing relation names panels {missing} that the view does not have "
                                 f"(its panels: {names})")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in np.shape(self.output))


def checksum(array: Any) -> str:
    """A short fingerprint of an array's shape and values rounded to 5 decimals."""
    a = np.round(np.asarray(array, dtype=np.float64), 5) + 0.0  # + 0.0 turns -0.0 into 0.0
    h = hashlib.sha1(repr(a.shape).encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def jsonable(x: Any) -> Any:
    """``x`` with NumPy scalars turned into Python ones and tuples into lists (what JSON round-trips)."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


# ---------------------------------------------------------------------------------------- explorer
class Explorer:
    """Controls plus ``compute(**setting) -> View``; a live widget in JupyterLab, a static viewer on the site.

    Parameters
    ----------
    compute : callable
        Called with one keyword argument per control; returns a :class:`View`.
    controls : list of Control
        Made with :class:`Slider` and :class:`Dropdown`; at most :data:`MAX_SETTINGS` combinations.
    name : str
        A short identifier (``data-explorer`` on the page).
    title : str
        Shown above the controls.
    own_image : OwnImage, optional
        The explorer can work on the reader's image (:class:`cnnbook.explorer.images.OwnImage`): an
        upload control in JupyterLab, and in the browser when it says how (``own_image.browser``).

    Attributes
    ----------
    factory, args : str or None, dict
        How to build it again (``module:function`` and keyword arguments), set by
        :func:`cnnbook.explorer.explorer_factory`; written into the page as ``data-factory``/``data-args``.
    """

    def __init__(self, compute: Callable[..., View], controls: Sequence[Control], *, name: str,
                 title: str = "", own_image: Any = None):
        self.compute = compute
        self.own_image = own_image
        self.controls = list(controls)
        self.name = name
        self.title = title
        self.factory: str | None = None
        self.args: dict = {}
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise ValueError(f"explorer {name!r}: control names must be unique, got {names}")
        n = int(np.prod([len(c.values) for c in self.controls]))
        if n > MAX_SETTINGS:
            raise ValueError(
                f"explorer {name!r} has {n} settings; at most {MAX_SETTINGS} can be precomputed "
                "for the static site: offer fewer values"
            )

    def __repr__(self) -> str:
        return f"<Explorer {self.name}: " + ", ".join(c.name for c in self.controls) + ">"

    # -- computing
    @property
    def default_setting(self) -> dict:
        """Every control at its default."""
        return {c.name: c.default for c in self.controls}

    def view(self, **setting: Any) -> View:
        """The view for ``setting`` (missing controls take their defaults)."""
        unknown = set(setting) - {c.name for c in self.controls}
        if unknown:
            raise ValueError(f"explorer {self.name!r} has no control(s) {sorted(unknown)}")
        result = self.compute(**{**self.default_setting, **setting})
        if not isinstance(result, View):
            raise TypeError(f"compute of explorer {self.name!r} must return a View, got {type(result).__name__}")
        return result

    def indexed_settings(self) -> Iterator[tuple[tuple[int, ...], dict]]:
        """Every setting of the grid as ``(indices into each control's values, setting)``, in the order
        of the controls (the last control varies fastest)."""
        for idx in itertools.product(*[range(len(c.values)) for c in self.controls]):
            yield idx, {c.name: c.values[i] for c, i in zip(self.controls, idx)}

    def settings(self) -> Iterator[dict]:
        """Every setting of the grid, as dicts, in the order of :meth:`indexed_settings`."""
        for _, setting in self.indexed_settings():
            yield setting

    # -- the two faces, and how Jupyter chooses between them
    def to_html(self) -> str:
        """The static viewer (:func:`cnnbook.explorer.static.to_html`): every setting precomputed."""
        from .static import to_html

        return to_html(self)

    def widget(self) -> LiveExplorer:
        """The live face (:class:`cnnbook.explorer.live.LiveExplorer`): controls and an output that
        recomputes on every change."""
        from .live import LiveExplorer

        return LiveExplorer(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """Jupyter's display hook: the face :func:`display_face` chooses, and only that one."""
        bundle = {"text/plain": repr(self)}
        if display_face() == "live":
            bundle.update(self.widget()._repr_mimebundle_(include=include, exclude=exclude))
        else:
            bundle["text/html"] = self.to_html()
        return bundle


# ---------------------------------------------------------------------------------------- which face
#: The environment variable that chooses the face an explorer shows when Jupyter displays it:
#: ``static`` (the precomputed HTML viewer) or ``live`` (the ipywidgets UI). The book's Sphinx
#: extension (``tools/cnnbook_site.py``) sets it to ``static`` when the build starts, and the kernels
#: that execute the chapters inherit it; JupyterLab's kernels do not have it.
FACE_ENV = "CNNBOOK_EXPLORER_FACE"


def display_face() -> str:
    """``"static"`` or ``"live"``: the face a displayed explorer shows.

    :data:`FACE_ENV` decides when set; otherwise an IPython kernel (JupyterLab, a notebook) gets the
    live widget, and anything without a kernel (a terminal, a script) the static HTML. Only the chosen
    face is built: a live kernel never precomputes the static viewer.
    """
    face = os.environ.get(FACE_ENV, "").strip().lower()
    if face in ("static", "live"):
        return face
    if face:
        raise ValueError(f"{FACE_ENV} must be 'static' or 'live', got {os.environ[FACE_ENV]!r}")
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return "static"
    shell = get_ipython()
    return "live" if shell is not None and getattr(shell, "kernel", None) is not None else "static"
