"""A small Sphinx extension for the cnnbook website (listed in `_config.yml`).

The download button of sphinx-book-theme offers the executed notebook (.ipynb) of a MyST-Markdown page
only when a launch service (Binder, JupyterHub, Colab, Thebe) is configured. The website has no server
behind it, so none is; this extension copies the notebook myst-nb executed at build time
(`_build/jupyter_execute/<page>.ipynb`) next to the page's source in `_sources/` and hands its name to
the theme, which then lists ".ipynb" beside ".md" and ".pdf" in the download menu.

It also drops the ipywidgets state myst-nb embeds in pages whose notebook displayed a widget: the site
shows the explorers' self-contained HTML viewers instead (`nb_mime_priority_overrides`), so that JSON is
dead weight (and `nb_ipywidgets_js: {}` already keeps the widget manager and require.js off the page).
"""
from __future__ import annotations

import shutil
from pathlib import Path


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
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def _drop_widget_state(app, pagename, templatename, context, doctree):
    metadata = getattr(app.env, "nb_metadata", {}).get(pagename, {})
    metadata.get("js_files", {}).pop("ipywidgets_state", None)


def setup(app):
    # myst-nb adds a page's scripts at the default priority 500: run before it.
    app.connect("html-page-context", _drop_widget_state, priority=400)
    # sphinx-book-theme builds its download menu at priority 501: run just before it.
    app.connect("html-page-context", _offer_executed_notebook, priority=450)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
