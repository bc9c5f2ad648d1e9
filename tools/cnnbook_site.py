"""A small Sphinx extension for the cnnbook website (listed in `_config.yml`).

The download button of sphinx-book-theme offers the executed notebook (.ipynb) of a MyST-Markdown page
only when a launch service (Binder, JupyterHub, Colab, Thebe) is configured. The website has no server
behind it, so none is; this extension copies the notebook myst-nb executed at build time
(`_build/jupyter_execute/<page>.ipynb`) next to the page's source in `_sources/` and hands its name to
the theme, which then lists ".ipynb" beside ".md" and ".pdf" in the download menu.

On the way it repairs the notebook's stream outputs. With ``nb_merge_streams`` myst-nb joins a cell's
printed chunks into its first chunk *in place*, and the notebook it saves still holds the later chunks:
their lines would appear twice in the download. :func:`single_streams` keeps one output per stream.

It also drops the ipywidgets state myst-nb embeds in pages whose notebook displayed a widget: the site
shows the explorers' self-contained HTML viewers instead (`nb_mime_priority_overrides`), so that JSON is
dead weight (and `nb_ipywidgets_js: {}` already keeps the widget manager and require.js off the page).

Pages with a predict-then-check question (`cnnbook.quiz`: a `<form data-quiz>` in the page) load the
quiz's script and stylesheet, package files of `cnnbook.quiz`, copied into the site's `_static/`.
"""
from __future__ import annotations

from pathlib import Path

import nbformat


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
            cell.outputs = single_streams(cell.outputs)
    nbformat.write(nb, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def _chunk(text: str) -> str:
    """A stream chunk as myst-nb's merge appends it: trailing white space cut, one newline."""
    return text.rstrip() + "\n" if text.rstrip() else ""


def single_streams(outputs):
    """One stream output per name (stdout, stderr), at the place of the first, holding all the text.

    A first chunk that already ends with the later chunks (myst-nb merged them into it) is kept as it
    is and the later chunks are dropped; otherwise the later chunks are appended to it.
    """
    heads, rests, kept = {}, {}, []
    for out in outputs:
        if out.get("output_type") != "stream":
            kept.append(out)
        elif out["name"] not in heads:
            heads[out["name"]] = out
            rests[out["name"]] = []
            kept.append(out)
        else:
            rests[out["name"]].append(out["text"])
    for name, head in heads.items():
        tail = "".join(_chunk(text) for text in rests[name])
        if tail and not (len(head["text"]) > len(tail) and head["text"].endswith(tail)):
            head["text"] = _chunk(head["text"]) + tail
    return kept


def _drop_widget_state(app, pagename, templatename, context, doctree):
    metadata = getattr(app.env, "nb_metadata", {}).get(pagename, {})
    metadata.get("js_files", {}).pop("ipywidgets_state", None)


QUIZ_MARK = 'data-quiz="'


def _quiz_assets(app, pagename, templatename, context, doctree):
    """Load the quiz script and stylesheet on the pages that hold a quiz (once per page)."""
    if app.builder.format == "html" and QUIZ_MARK in context.get("body", ""):
        app.add_js_file("cnnbook-quiz.js")
        app.add_css_file("cnnbook-quiz.css")


def _copy_quiz_assets(app, exception):
    """Copy cnnbook.quiz's package files (quiz.js, quiz.css) to _static/cnnbook-quiz.js, ... ."""
    if exception is not None or app.builder.format != "html":
        return
    from cnnbook import quiz

    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    for name in quiz.STATIC_FILES:
        (static / f"cnnbook-{name}").write_bytes(quiz.static_file(name).read_bytes())


def setup(app):
    # myst-nb adds a page's scripts at the default priority 500: run before it.
    app.connect("html-page-context", _drop_widget_state, priority=400)
    # sphinx-book-theme builds its download menu at priority 501: run just before it.
    app.connect("html-page-context", _offer_executed_notebook, priority=450)
    app.connect("html-page-context", _quiz_assets)
    app.connect("build-finished", _copy_quiz_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
