"""A small Sphinx extension for the cnnbook website (listed in `_config.yml`).

The download button of sphinx-book-theme offers the executed notebook (.ipynb) of a MyST-Markdown page
only when a launch service (Binder, JupyterHub, Colab, Thebe) is configured. The website has no server
behind it, so none is; this extension copies the notebook myst-nb executed at build time
(`_build/jupyter_execute/<page>.ipynb`) next to the page's source in `_sources/` and hands its name to
the theme, which then lists ".ipynb" beside ".md" and ".pdf" in the download menu.

On the way it joins each cell's printed chunks (:func:`merge_streams`), as the page shows them; the
same function replaces myst-nb's merge (``nb_merge_streams``) for the pages, because that one breaks
a printed line in two when the kernel happens to send it in two chunks.

It also drops the ipywidgets state myst-nb embeds in pages whose notebook displayed a widget: the site
shows the explorers' static HTML viewers instead (`nb_mime_priority_overrides`), so that JSON is dead
weight (and `nb_ipywidgets_js: {}` already keeps the widget manager and require.js off the page). Since
explorers display no widget during the build (below), this only guards against another widget.

And it serves the explorers' static face (:mod:`cnnbook.explorer`). When the build starts it sets the
environment variable `cnnbook.explorer.FACE_ENV` to ``static``: the kernels that execute the chapters
inherit it, so a displayed explorer emits only its precomputed HTML viewer and never builds the live
widget (JupyterLab's kernels, without the variable, build only the widget). The viewers' stylesheet and
script are package files (`cnnbook.explorer.assets`): they are copied into the site's `_static/cnnbook/`
and linked from every page once, instead of being repeated inside each viewer.

Pages with a predict-then-check question (`cnnbook.quiz`: a `<form data-quiz>` in the page) load the
quiz's script and stylesheet, package files of `cnnbook.quiz`, copied into `_static/cnnbook/` too.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import nbformat

from cnnbook import quiz
from cnnbook.explorer import FACE_ENV
from cnnbook.explorer.assets import ASSETS

#: Where the package files the pages load go, below the site's `_static/`.
STATIC = "cnnbook"
#: Those files: (package, file names), read with importlib.resources.
PACKAGE_FILES = (("cnnbook.explorer.assets", ASSETS), ("cnnbook.quiz", quiz.STATIC_FILES))


def _offer_executed_notebook(app, pagename, templatename, context, doctree):
    if app.builder.format != "html" or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    if not str(context.get("sourcename", "")).endswith(".md"):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    nbformat.write(nb, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def merge_streams(outputs):
    """One stream output per name (stdout, stderr), at the place of the first, holding all its text.

    The kernel sends printed text in chunks cut wherever its flush timer fired, also in the middle of
    a line (``print("identical:", True)`` may arrive as ``"identical:"`` and ``" True\n"``). The
    chunks are joined exactly as printed; only trailing white space is cut to one newline. (myst-nb's
    own merge cuts the white space of every chunk and adds a newline, which breaks such a line in two
    depending on timing, and it changes the notebook in place; this returns new outputs.)
    """
    merged, texts = [], {}
    for out in outputs:
        if out.get("output_type") != "stream":
            merged.append(out)
        elif out["name"] not in texts:
            texts[out["name"]] = [out["text"]]
            merged.append(nbformat.from_dict({**out, "text": None}))
        else:
            texts[out["name"]].append(out["text"])
    for out in merged:
        if out.get("output_type") == "stream":
            out["text"] = "".join(texts[out["name"]]).rstrip() + "\n"
    return merged


def _drop_widget_state(app, pagename, templatename, context, doctree):
    metadata = getattr(app.env, "nb_metadata", {}).get(pagename, {})
    metadata.get("js_files", {}).pop("ipywidgets_state", None)


def _explorers_static_face(app):
    """Explorers displayed in the executing kernels show their static viewer; every page links the
    viewer's stylesheet and script."""
    os.environ[FACE_ENV] = "static"
    for name in ASSETS:
        if name.endswith(".css"):
            app.add_css_file(f"{STATIC}/{name}")
        else:
            app.add_js_file(f"{STATIC}/{name}")


QUIZ_MARK = 'data-quiz="'


def _quiz_assets(app, pagename, templatename, context, doctree):
    """Load the quiz script and stylesheet on the pages that hold a quiz (once per page)."""
    if app.builder.format == "html" and QUIZ_MARK in context.get("body", ""):
        app.add_js_file(f"{STATIC}/quiz.js")
        app.add_css_file(f"{STATIC}/quiz.css")


def _copy_package_files(app, exception):
    """Copy the package files the pages link (explorer and quiz scripts, stylesheets) to `_static/cnnbook/`."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / STATIC
    target.mkdir(parents=True, exist_ok=True)
    for package, names in PACKAGE_FILES:
        for name in names:
            (target / name).write_bytes(resources.files(package).joinpath(name).read_bytes())


def setup(app):
    import myst_nb.core.render

    myst_nb.core.render.coalesce_streams = merge_streams     # see merge_streams
    _explorers_static_face(app)
    # myst-nb adds a page's scripts at the default priority 500: run before it.
    app.connect("html-page-context", _drop_widget_state, priority=400)
    # sphinx-book-theme builds its download menu at priority 501: run just before it.
    app.connect("html-page-context", _offer_executed_notebook, priority=450)
    app.connect("html-page-context", _quiz_assets)
    app.connect("build-finished", _copy_package_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
