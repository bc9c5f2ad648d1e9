"""Matplotlib figures for the chapters, drawn from cnnbook's own outputs.

Several chapters add to this module: add new functions below, never rewrite the file.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

#: Width in inches of the book's text column: a figure no wider is shown at its natural size, so its
#: text keeps the font size it was drawn with.
TEXT_WIDTH = 6.8

#: A rectangle of cells to outline: ``(row, col, height, width)``.
Box = tuple[int, int, int, int]


# ------------------------------------------------------------------ chapters 1-4: grids, windows, maps
def _format_cell(v: float, decimals: int) -> str:
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".")


def _text_colour(rgba) -> str:
    """Dark text on a light cell, white text on a dark one (by the cell colour's luminance)."""
    r, g, b = rgba[:3]
    return "#111111" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def draw_grid(ax: Axes, array: ArrayLike, title: str | None = None, highlight: Sequence[Box] = (),
              numbers: bool = True, cmap: str = "Blues", vmin: float | None = None,
              vmax: float | None = None, decimals: int = 2, fontsize: float = 9,
              edgecolor: str = "#999999", highlight_color: str = "#e02020",
              shade: ArrayLike | None = None, soft: bool = True, title_fontsize: float = 10) -> Axes:
    """Draw a 2-D array as a grid of cells on ``ax``, with its numbers printed in the cells.

    Parameters
    ----------
    ax : matplotlib Axes
    array : (H, W) array
    title : str, optional
        The axes title; the shape ``H×W`` is appended.
    highlight : sequence of (row, col, height, width)
        Rectangles outlined in ``highlight_color`` (e.g. the kernel window).
    numbers : bool
        Print each value in its cell.
    shade : (H, W) bool array, optional
        Cells drawn hatched (e.g. the zero padding).
    soft : bool
        Use only the lighter part of ``cmap`` (the default), so the grid stays pale; with ``False``
        ``vmin`` .. ``vmax`` span the whole colour map (e.g. ``cmap="gray"`` draws an image's pixels
        with their own brightness). Either way each number is printed in dark or white, whichever
        contrasts with its cell.
    """
    a = np.asarray(array, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"array must be 2-D, got shape {a.shape}")
    h, w = a.shape
    lo = np.nanmin(a) if vmin is None else vmin
    hi = np.nanmax(a) if vmax is None else vmax
    if hi == lo:
        hi = lo + 1.0
    if soft:
        lo, hi = lo - 0.15 * (hi - lo), hi + 0.6 * (hi - lo)
    image = ax.imshow(a, cmap=cmap, vmin=lo, vmax=hi, extent=(-0.5, w - 0.5, h - 0.5, -0.5))
    for r in range(h + 1):
        ax.plot([-0.5, w - 0.5], [r - 0.5, r - 0.5], color=edgecolor, lw=0.6)
    for c in range(w + 1):
        ax.plot([c - 0.5, c - 0.5], [-0.5, h - 0.5], color=edgecolor, lw=0.6)
    if shade is not None:
        for r, c in zip(*np.nonzero(np.asarray(shade))):
            ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///",
                                       edgecolor="#bbbbbb", lw=0))
    if numbers:
        for r in range(h):
            for c in range(w):
                if np.isnan(a[r, c]):
                    continue
                ax.text(c, r, _format_cell(a[r, c], decimals), ha="center", va="center",
                        fontsize=fontsize, color=_text_colour(image.to_rgba(a[r, c])))
    for r, c, hh, ww in highlight:
        ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), ww, hh, fill=False,
                                   edgecolor=highlight_color, lw=2.5))
    ax.set_xlim(-0.6, w - 0.4)
    ax.set_ylim(h - 0.4, -0.6)
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    if title is not None:
        ax.set_title(f"{title}  ({h}×{w})", fontsize=title_fontsize)
    return ax


def show_correlation_step(x: ArrayLike, k: ArrayLike, y: ArrayLike, i: int, j: int, stride: int = 1,
                          padding: int = 0, dilation: int = 1,
                          titles: Sequence[str] = ("input", "kernel", "output"),
                          decimals: int = 2) -> Figure:
    """One step of a 2-D cross-correlation: the input (zero-padded by ``padding``) with the window that
    produces output cell ``(i, j)`` outlined, the kernel, and the output with cell ``(i, j)`` outlined.

    ``x`` is the unpadded (H, W) input, ``k`` the (kh, kw) kernel and ``y`` the (H_out, W_out) output
    already computed (e.g. by ``cnnbook.functional.conv2d``). With dilation ``d`` the window covers the taps
    ``(i s + u d, j s + v d)`` of the padded input; each tap is outlined.
    Returns the figure.
    """
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    xp = np.pad(x, padding)
    shade = np.ones(xp.shape, dtype=bool)
    shade[padding: padding + x.shape[0], padding: padding + x.shape[1]] = False
    kh, kw = k.shape
    if dilation == 1:
        boxes = [(i * stride, j * stride, kh, kw)]
    else:
        boxes = [(i * stride + u * dilation, j * stride + v * dilation, 1, 1)
                 for u in range(kh) for v in range(kw)]
    # The three grids with one cell size (see show_grids, defined below), wrapped if too wide.
    return show_grids([xp, k, y], list(titles), highlights=[boxes, [], [(i, j, 1, 1)]],
                      cmaps=["Blues", "Oranges", "Greens"], shades=[shade if padding else None, None, None],
                      decimals=decimals, size=0.42)


def show_images(images: Sequence[ArrayLike], titles: Sequence[str] | None = None, ncols: int | None = None,
                cmap: str = "gray", size: float = 2.6, symmetric: bool = False, colorbar: bool = False,
                fontsize: float = 10, max_width: float = TEXT_WIDTH) -> Figure:
    """A row (or grid) of images, e.g. a picture and its feature maps, each titled with its shape.

    ``images`` are 2-D arrays (shown with ``cmap``) or (H, W, 3) RGB arrays. With ``symmetric=True`` a
    2-D map is drawn with limits ``±max|value|`` (so zero is the middle colour, good for signed maps).
    Each panel is ``size`` inches wide; without ``ncols`` as many panels go in a row as fit in
    ``max_width`` inches (about the width of the book's text column, so titles keep their size on
    the page), and the rest wrap to the next rows. Returns the figure.
    """
    images = [np.asarray(im) for im in images]
    n = len(images)
    ncols = ncols or max(1, min(n, int(max_width // size)))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 0.85), squeeze=False)
    for idx, ax in enumerate(axes.flat):
        ax.axis("off")
        if idx >= n:
            continue
        im = images[idx]
        if im.ndim == 3:
            ax.imshow(im)
        else:
            lim = float(np.abs(im).max()) or 1.0
            kw = {"vmin": -lim, "vmax": lim} if symmetric else {}
            handle = ax.imshow(im, cmap=cmap, **kw)
            if colorbar:
                fig.colorbar(handle, ax=ax, fraction=0.046, pad=0.04)
        name = titles[idx] if titles is not None else ""
        ax.set_title(f"{name}\n{'×'.join(str(s) for s in im.shape)}", fontsize=fontsize)
    fig.tight_layout()
    return fig


def show_sparsity(matrix: ArrayLike, title: str = "conv matrix", input_shape: tuple[int, int] | None = None,
                  ax: Axes | None = None) -> Figure:
    """The sparsity pattern of a matrix (e.g. ``cnnbook.conv_matrix``): non-zeros coloured by value,
    zeros white. With ``input_shape=(H, W)`` thin lines separate the groups of ``W`` columns that belong
    to one input row. Returns the figure.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if ax is None:
        width = min(TEXT_WIDTH, 1.5 + 0.28 * m.shape[1])
        fig, ax = plt.subplots(figsize=(width, min(5.5, 1.2 + (width - 1.5) * m.shape[0] / m.shape[1])))
    else:
        fig = ax.figure
    shown = np.where(m == 0, np.nan, m)
    lim = float(np.abs(m).max()) or 1.0
    ax.imshow(shown, cmap="coolwarm", vmin=-lim, vmax=lim, interpolation="nearest")
    if input_shape is not None:
        for c in range(input_shape[1], m.shape[1], input_shape[1]):
            ax.axvline(c - 0.5, color="#888888", lw=0.6)
    ax.set_xlabel("input pixel (row-major index)")
    ax.set_ylabel("output pixel")
    nnz = int(np.count_nonzero(m))
    ax.set_title(f"{title}: {m.shape[0]}×{m.shape[1]}, {nnz} non-zeros of {m.size}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_signals(signals: Mapping[str, ArrayLike], title: str = "", ax: Axes | None = None,
                 stem: bool = False) -> Figure:
    """Several 1-D signals on one axes, labelled by the keys of ``signals`` (index on the x axis).

    Returns the figure.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(TEXT_WIDTH, 3))
    else:
        fig = ax.figure
    for name, s in signals.items():
        s = np.asarray(s, dtype=np.float64)
        if stem:
            ax.stem(np.arange(len(s)), s, label=name, basefmt=" ")
        else:
            ax.plot(np.arange(len(s)), s, marker=".", label=name)
    ax.axhline(0, color="#999999", lw=0.6)
    ax.set_xlabel("t")
    ax.legend(fontsize=9, loc="best")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_loss(losses: ArrayLike, title: str = "loss", ax: Axes | None = None, log: bool = True) -> Figure:
    """A training curve: ``losses[t]`` against the step ``t`` (log scale by default). Returns the figure."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3))
    else:
        fig = ax.figure
    ax.plot(np.arange(len(losses)), losses)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ chapters 5-7: rows of grids
def show_grids(arrays: Sequence[ArrayLike], titles: Sequence[str | None] | None = None,
               highlights: Sequence[Sequence[Box]] | None = None, cmaps: Sequence[str] | None = None,
               numbers: bool = True, decimals: int = 2, shades: Sequence[ArrayLike | None] | None = None,
               size: float = 0.42, symbols: Sequence[str] | None = None, fontsize: float = 9,
               max_width: float = TEXT_WIDTH) -> Figure:
    """A row of 2-D arrays drawn as grids of numbers (with :func:`draw_grid`), e.g. the steps of a
    derivation: an upstream gradient, its padded version, a rotated kernel and the result.

    Parameters
    ----------
    arrays : list of (H, W) arrays
    titles : list of str, optional
    highlights : list of lists of (row, col, height, width), optional
        Rectangles to outline in each grid.
    cmaps : list of str, optional
        One colour map per grid (default: alternating blues, oranges, greens).
    numbers : bool
        Print the values in the cells (turn off for large maps).
    shades : list of (H, W) bool arrays or None, optional
        Cells drawn hatched in each grid (e.g. zero padding).
    symbols : list of str, optional
        Short strings drawn between consecutive grids (e.g. "⋆", "="); ``symbols[i]`` goes after grid ``i``.
    size : float
        The side of one cell in inches; every grid uses the same cell size.
    fontsize : float
        Size of the numbers in the cells (titles are one point larger).
    max_width : float
        Grids that do not fit in a row of this many inches (about the book's text column) wrap to the
        next row, so that the figure is never scaled down on the page.

    Returns the figure.
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    for a in arrays:
        if a.ndim != 2:
            raise ValueError(f"every array must be 2-D, got shape {a.shape}")
    n = len(arrays)
    titles = titles or [None] * n
    highlights = highlights or [()] * n
    cmaps = cmaps or [("Blues", "Oranges", "Greens")[i % 3] for i in range(n)]
    shades = shades or [None] * n
    symbols = list(symbols or []) + [""] * n
    title_size = fontsize + 1
    gap, sym_gap, title_h, row_gap = 0.2, 0.5, 0.4, 0.15       # inches

    # Width of each panel: the grid (its axes span h + 0.2 by w + 0.2 cells), or its title if wider.
    def title_width(i):
        if titles[i] is None:
            return 0.0
        text = f"{titles[i]}  ({arrays[i].shape[0]}×{arrays[i].shape[1]})"
        return 0.6 * title_size / 72 * len(text)                 # a generous estimate of its width

    grid_w = [size * (a.shape[1] + 0.2) for a in arrays]
    panel_w = [max(g, title_width(i)) for i, g in enumerate(grid_w)]
    after = [sym_gap if symbols[i] else gap for i in range(n)]  # space after panel i

    rows, row = [], []
    for i in range(n):
        width = sum(panel_w[j] + after[j] for j in row) + panel_w[i]
        if row and width > max_width:
            rows.append(row)
            row = []
        row.append(i)
    rows.append(row)
    row_w = [sum(panel_w[j] + after[j] for j in r) - (0 if symbols[r[-1]] else after[r[-1]]) for r in rows]
    row_h = [size * (max(arrays[j].shape[0] for j in r) + 0.2) + title_h for r in rows]
    fig_w = max(row_w)
    fig_h = sum(row_h) + row_gap * (len(rows) - 1)
    fig = plt.figure(figsize=(fig_w, fig_h))

    top = fig_h
    for r, rh in zip(rows, row_h):
        x = 0.0
        grid_top = top - title_h
        for i in r:
            h_in = size * (arrays[i].shape[0] + 0.2)
            left = x + (panel_w[i] - grid_w[i]) / 2
            ax = fig.add_axes((left / fig_w, (grid_top - h_in) / fig_h, grid_w[i] / fig_w, h_in / fig_h))
            draw_grid(ax, arrays[i], titles[i], highlight=highlights[i], numbers=numbers,
                      cmap=cmaps[i], decimals=decimals, shade=shades[i], fontsize=fontsize,
                      title_fontsize=title_size)
            x += panel_w[i]
            if symbols[i]:
                fig.text((x + after[i] / 2) / fig_w, (grid_top - h_in / 2) / fig_h, symbols[i],
                         fontsize=22, ha="center", va="center")
            x += after[i]
        top -= rh + row_gap
    return fig


def plot_overlap_1d(counts: Mapping[str, ArrayLike], title: str = "", ax: Axes | None = None) -> Figure:
    """Bar charts of how many kernel copies cover each output position (one bar group per entry of
    ``counts``, e.g. ``{"k=3, s=2": [...], "k=4, s=2": [...]}``), to show uneven overlap. Returns the figure.
    """
    n = len(counts)
    if ax is None:
        fig, axes = plt.subplots(n, 1, figsize=(TEXT_WIDTH, 1.5 * n + 0.4), squeeze=False)
        axes = axes[:, 0]
    else:
        fig, axes = ax.figure, [ax]
    for a, (name, c) in zip(axes, counts.items()):
        c = np.asarray(c, dtype=np.float64)
        a.bar(np.arange(len(c)), c, color="#4a7fb5", width=0.8)
        a.set_ylabel("copies", fontsize=8)
        a.set_title(name, fontsize=9, loc="left")
        a.set_ylim(0, max(float(c.max()), 1.0) * 1.15)
        a.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        a.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axes[-1].set_xlabel("output position")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ chapters 5-8: graphs, architectures, norms
#: A node of :func:`show_graph`: ``(x, y, text)`` in data units (the axes are scaled to fit every node).
GraphNode = tuple[float, float, str]
#: An edge of :func:`show_graph`: ``(source, target, text above, text below)`` (either text may be "").
GraphEdge = tuple[str, str, str, str]


def show_graph(nodes: Mapping[str, GraphNode], edges: Sequence[GraphEdge], title: str = "",
               leaves: Sequence[str] = (), width: float = TEXT_WIDTH, height: float = 2.4,
               above_colour: str = "#c0392b", below_colour: str = "#1f5fa8") -> Figure:
    """A computational graph: named nodes at given positions, arrows between them, and two short labels
    on every arrow (e.g. the forward value above in red and the local derivative below in blue).

    Parameters
    ----------
    nodes : mapping name -> (x, y, text)
        Where each node is drawn and what it says (e.g. ``"h₁ = w·x"``).
    edges : list of (source, target, above, below)
        An arrow from ``source`` to ``target`` with ``above`` written above its middle and ``below``
        under it (on a slanted arrow, nearer its source).
    leaves : list of str
        Nodes drawn without a box (inputs and parameters); the others get a rounded box.
    width, height : float
        Figure size in inches.

    Returns the figure.
    """
    fig, ax = plt.subplots(figsize=(width, height))
    xs = [x for x, _, _ in nodes.values()]
    ys = [y for _, y, _ in nodes.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    for source, target, above, below in edges:
        if source not in nodes or target not in nodes:
            raise ValueError(f"edge {source!r} -> {target!r}: both ends must be nodes")
        (x0, y0, _), (x1, y1, _) = nodes[source], nodes[target]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color="#555555", lw=1.0, shrinkA=17, shrinkB=17))
        at = 0.5 if abs(y1 - y0) < 1e-9 else 0.3             # slanted arrows: labels near the source
        xm, ym = x0 + at * (x1 - x0), y0 + at * (y1 - y0)
        if above:
            ax.text(xm, ym + 0.16, above, color=above_colour, fontsize=8.5, ha="center", va="bottom")
        if below:
            ax.text(xm, ym - 0.16, below, color=below_colour, fontsize=8.5, ha="center", va="top")
    for name, (x, y, text) in nodes.items():
        box = None if name in leaves else dict(boxstyle="round,pad=0.3", fc="#eef3f8", ec="#4a7fb5", lw=1.0)
        ax.text(x, y, text, fontsize=9.5, ha="center", va="center", bbox=box,
                fontweight="bold" if name in leaves else "normal")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_architecture(stages: Sequence[tuple[str, Sequence[int]]], title: str = "",
                      width: float = TEXT_WIDTH, height: float = 2.6) -> Figure:
    """A network drawn from its own shapes: one column per stage, left to right.

    ``stages`` lists ``(name, shape)`` with the shape of one example after that stage: ``(C, H, W)``
    feature maps are drawn as a short stack of squares whose side is proportional to ``H`` (the stack
    depth grows with ``C``, at most eight squares shown), labelled ``name`` and ``C@H×W``; a vector
    ``(n,)`` is a bar whose height grows with ``sqrt(n)``, labelled ``name`` and ``n``. Returns the
    figure.
    """
    from matplotlib.patches import Rectangle

    shapes = [tuple(int(v) for v in shape) for _, shape in stages]
    for shape in shapes:
        if len(shape) not in (1, 3):
            raise ValueError(f"every shape must be (C, H, W) or (n,), got {shape}")
    fig, ax = plt.subplots(figsize=(width, height))
    biggest = max(s[1] for s in shapes if len(s) == 3) if any(len(s) == 3 for s in shapes) else 1
    longest = max(s[0] for s in shapes if len(s) == 1) if any(len(s) == 1 for s in shapes) else 1
    column = 1.0
    for i, ((name, _), shape) in enumerate(zip(stages, shapes)):
        x = i * column
        if len(shape) == 3:
            c, h, w = shape
            side = 0.2 + 0.6 * h / biggest
            layers = min(c, 8)
            step = 0.035
            for j in reversed(range(layers)):
                ax.add_patch(Rectangle((x - side / 2 + j * step, -side / 2 + j * step), side * w / h, side,
                                       fc="#dbe8f5" if j else "#9ec3e6", ec="#2c5d8a", lw=0.7))
            label = f"{c}@{h}×{w}"
            top = side / 2 + layers * step
        else:
            (n,) = shape
            tall = 0.2 + 0.8 * np.sqrt(n / longest)
            ax.add_patch(Rectangle((x - 0.05, -tall / 2), 0.1, tall, fc="#f5dcc0", ec="#a8611c", lw=0.7))
            label = f"{n}"
            top = tall / 2
        ax.text(x, top + 0.06, name, ha="center", va="bottom", fontsize=8.5)
        ax.text(x, -0.68, label, ha="center", va="top", fontsize=8)
        if i:
            ax.annotate("", xy=(x - 0.42, 0), xytext=(x - 0.58, 0),
                        arrowprops=dict(arrowstyle="-|>", color="#777777", lw=0.8))
    ax.set_xlim(-0.55, (len(stages) - 1) * column + 0.55)
    ax.set_ylim(-0.95, 0.95)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_layer_norms(norms: Mapping[str, Sequence[float]], layers: Sequence[str], title: str = "",
                     ylabel: str = "gradient norm", ax: Axes | None = None, log: bool = True) -> Figure:
    """Grouped bars, one group per layer and one bar per entry of ``norms`` (e.g. one network each), on a
    log scale by default: how large each layer's gradient is. Returns the figure."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(TEXT_WIDTH, 3.0))
    else:
        fig = ax.figure
    n = len(norms)
    width = 0.8 / max(n, 1)
    positions = np.arange(len(layers))
    for i, (name, values) in enumerate(norms.items()):
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(layers),):
            raise ValueError(f"{name}: {values.shape[0] if values.ndim else 0} values for {len(layers)} layers")
        ax.bar(positions + (i - (n - 1) / 2) * width, values, width * 0.95, label=name)
    ax.set_xticks(positions)
    ax.set_xticklabels(layers)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8.5)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _value_colours(values: np.ndarray) -> dict[float, tuple]:
    """One colour per distinct value: the ten of ``tab10`` when they suffice, else evenly spaced shades
    of ``viridis`` (so that no two values ever share a colour)."""
    if len(values) <= 10:
        return {v: plt.get_cmap("tab10")(i) for i, v in enumerate(values)}
    shades = plt.get_cmap("viridis")(np.linspace(0.0, 0.95, len(values)))
    return {v: tuple(s) for v, s in zip(values, shades)}


def show_connections(layers: Mapping[str, ArrayLike], names: Mapping[float, str] | None = None) -> Figure:
    """Each layer ``y = A x`` twice, side by side: as a bipartite graph (inputs ``x_c`` at the bottom,
    outputs ``y_r`` at the top, one line per non-zero ``A[r, c]``) and as its matrix ``A`` (zeros white).

    ``layers`` maps a title to a ``(n_out, n_in)`` matrix. Within a layer, entries of equal value get one
    colour and different values different colours, in the lines and the cells alike, so weight sharing
    shows as repeated colours; with ``names`` (value -> label, e.g. ``{1.0: "w0"}``) the cells print the
    label instead of the number. Returns the figure.
    """
    mats = {title: np.asarray(a, dtype=np.float64) for title, a in layers.items()}
    for title, a in mats.items():
        if a.ndim != 2:
            raise ValueError(f"layers[{title!r}] must be a 2-D (n_out, n_in) matrix, got shape {a.shape}")
    n_in_max = max(a.shape[1] for a in mats.values())
    fig, axes = plt.subplots(len(mats), 2, figsize=(TEXT_WIDTH, 2.3 * len(mats)), squeeze=False,
                             gridspec_kw={"width_ratios": [1.25, 1]})
    for (title, a), (graph, grid) in zip(mats.items(), axes):
        n_out, n_in = a.shape
        colours = _value_colours(np.unique(a[a != 0]))
        x_in, x_out = np.arange(n_in), np.arange(n_out) + (n_in - n_out) / 2
        for r, c in zip(*np.nonzero(a)):
            graph.plot([x_in[c], x_out[r]], [0, 1], color=colours[a[r, c]], lw=1.6, zorder=1)
        graph.scatter(x_in, np.zeros(n_in), s=160, color="white", edgecolor="#333333", zorder=2)
        graph.scatter(x_out, np.ones(n_out), s=160, color="white", edgecolor="#333333", zorder=2)
        for c, x in enumerate(x_in):
            graph.text(x, 0, f"x{c}", ha="center", va="center", fontsize=7, zorder=3)
        for r, x in enumerate(x_out):
            graph.text(x, 1, f"y{r}", ha="center", va="center", fontsize=7, zorder=3)
        graph.set_xlim(-0.6, n_in_max - 0.4)
        graph.set_ylim(-0.25, 1.25)
        graph.axis("off")
        graph.set_title(f"{title}: {np.count_nonzero(a)} connections, {len(colours)} distinct weights",
                        fontsize=9)
        for r in range(n_out):
            for c in range(n_in):
                v = a[r, c]
                grid.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, edgecolor="#bbbbbb",
                                             facecolor="white" if v == 0 else colours[v], lw=0.6))
                if v != 0:
                    label = names.get(v, _format_cell(v, 2)) if names else _format_cell(v, 2)
                    grid.text(c, r, label, ha="center", va="center", fontsize=7,
                              color=_text_colour(colours[v]))
        grid.set_xlim(-0.5, n_in - 0.5)
        grid.set_ylim(n_out - 0.5, -0.5)
        grid.set_aspect("equal")
        grid.set_xticks(range(n_in))
        grid.set_yticks(range(n_out))
        grid.tick_params(labelsize=7, length=0)
        grid.set_xlabel("input index c", fontsize=8)
        grid.set_ylabel("output index r", fontsize=8)
    fig.tight_layout()
    return fig
