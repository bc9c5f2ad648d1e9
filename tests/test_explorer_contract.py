"""The explorer contract, for every explorer of the book (`cnnbook.explorer.BOOK`), and the framework.

For each registered explorer: it rebuilds from the attributes its page carries; its static viewer holds,
for every setting, the shape and checksum (and the HTML) that a separately rebuilt explorer recomputes;
its live widget recomputes when any control moves. The built website shows exactly the registered
explorers. What each explorer computes is checked against torch in the topic tests (test_explorers_*).
"""
from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

from browser_util import require_site

from cnnbook.explorer import (BOOK, FACE_ENV, FACTORIES, Dropdown, Explorer, Panel, Slider, View,
                              checksum, display_face, explorer_factory, rebuild, render_view)
from cnnbook.explorer.assets import ASSETS, read_asset
from cnnbook.explorer.static import inline_values

IDS = [b.factory.rpartition(":")[2] for b in BOOK]
#: One viewer's HTML, every state included. The website holds a chapter's own weight (its HTML and
#: figures) to 2.5 MB (test_site.py); one viewer stays under 1 MB of it (the largest, convolution
#: arithmetic's 72 states of number grids, is about 0.93 MB).
MAX_VIEWER_BYTES = 1_000_000


@pytest.fixture(scope="module", params=BOOK, ids=IDS)
def shown(request):
    """A registered explorer as its chapter builds it, with its static viewer's HTML."""
    explorer = request.param.build()
    return request.param, explorer, explorer.to_html()


def _attributes(tag: str) -> dict:
    """The attributes of one HTML start tag, unescaped."""
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}


def _root_attributes(page: str) -> dict:
    """The attributes of the viewer's root element (the first tag of ``to_html``)."""
    return _attributes(re.match(r"<div [^>]*>", page).group(0))


def _payload(page: str) -> dict:
    blob = re.search(r'<script type="application/json">(.*?)</script>', page, re.S).group(1)
    return json.loads(blob.replace("<\\/", "</"))


# ------------------------------------------------------------------------------------ the contract
def test_rebuilds_from_its_page_attributes(shown):
    entry, explorer, page = shown
    attrs = _root_attributes(page)
    assert attrs["data-factory"] == entry.factory == explorer.factory
    args = json.loads(attrs["data-args"])
    assert args == entry.page_args == explorer.args
    again = rebuild(attrs["data-factory"], args)
    assert again is not explorer and again.name == attrs["data-explorer"] == explorer.name
    assert json.loads(attrs["data-setting"]) == json.loads(json.dumps(again.default_setting))
    view = again.view()
    assert json.loads(attrs["data-shape"]) == list(view.shape)
    assert attrs["data-checksum"] == checksum(view.output)
    assert len(page.encode()) < MAX_VIEWER_BYTES, "the page stays light: offer fewer settings"


def test_static_viewer_holds_every_setting_as_recomputed(shown):
    entry, explorer, page = shown
    data = _payload(page)
    again = entry.build()  # built separately: the page must not depend on the object that wrote it
    indexed = list(again.indexed_settings())
    assert sorted(data["entries"]) == sorted(",".join(map(str, idx)) for idx, _ in indexed)
    assert data["values"] == [json.loads(json.dumps(c.values)) for c in again.controls]
    assert data["labels"] == [c.labels for c in again.controls]
    for idx, setting in indexed:
        fragment, shape, chk = data["entries"][",".join(map(str, idx))]
        view = again.view(**setting)
        assert json.loads(shape) == list(view.shape), setting
        assert chk == checksum(view.output), setting
        assert inline_values(data["fragments"][fragment], data["images"], data["traces"]) == render_view(view), setting


def test_live_widget_recomputes_when_a_control_moves(shown):
    _, explorer, _ = shown
    live = explorer.widget()
    assert set(live.controls) == {c.name for c in explorer.controls}
    assert live.output.value == render_view(explorer.view())
    for control in explorer.controls:
        if len(control.values) < 2:
            continue
        other = next(v for v in control.values if v != control.default)
        live.controls[control.name].value = other
        want = {**explorer.default_setting, control.name: other}
        assert live.setting == want
        assert live.output.value == render_view(explorer.view(**want)), control.name
        live.controls[control.name].value = control.default
        assert live.output.value == render_view(explorer.view())


def test_the_registry_is_what_the_book_shows():
    """Every explorer on the built website is registered (factory, arguments and chapter), and every
    registered explorer is on its chapter's page."""
    site = require_site()
    on_site = set()
    for page in sorted((site / "book").glob("*.html")):
        for tag in re.findall(r"<div [^>]*data-explorer=[^>]*>", page.read_text(encoding="utf-8")):
            attrs = _attributes(tag)
            on_site.add((page.stem, attrs["data-factory"],
                         json.dumps(json.loads(attrs["data-args"]), sort_keys=True)))
    registered = {(b.chapter, b.factory, json.dumps(b.page_args, sort_keys=True)) for b in BOOK}
    assert on_site - registered == set(), "explorers on the website missing from cnnbook.explorer.BOOK"
    assert registered - on_site == set(), "explorers of cnnbook.explorer.BOOK missing from the website"
    assert len({b.factory for b in BOOK}) == len(BOOK)
    assert all(b.factory in FACTORIES for b in BOOK)


# ------------------------------------------------------------------------------------ the framework
def _counting_explorer():
    calls = []

    def compute(k: int, mode: str) -> View:
        calls.append((k, mode))
        return View(output=np.full((k, k), 1.0 if mode == "ones" else 0.0), panels=[Panel("out", np.eye(k))])

    ex = Explorer(compute, [Slider("k", [1, 2, 3], default=2), Dropdown("mode", {"all ones": "ones",
                                                                                "all zeros": "zeros"})],
                  name="counting")
    return ex, calls


def test_slider_and_dropdown_are_controls_with_the_signatures_of_the_book():
    s = Slider("stride", range(1, 4), default=2, label="stride s")
    assert isinstance(s, Slider) and s.kind == "slider"
    assert (s.values, s.labels, s.default, s.default_index, s.label) == ([1, 2, 3], ["1", "2", "3"], 2, 1,
                                                                        "stride s")
    d = Dropdown("kind", {"max pooling": "max", "average pooling": "avg"})
    assert d.kind == "dropdown" and d.values == ["max", "avg"] and d.labels == ["max pooling", "average pooling"]
    assert d.default == "max" and d.label == "kind"
    assert Dropdown("op", ["a", "b"], default="b").default_index == 1
    with pytest.raises(ValueError, match="slider 'k' needs at least one value"):
        Slider("k", [])
    with pytest.raises(ValueError, match=r"default of dropdown 'op' must be one of \['a', 'b'\], got 'c'"):
        Dropdown("op", ["a", "b"], default="c")


def test_explorer_rejects_unknown_controls_bad_results_and_too_many_settings():
    ex, _ = _counting_explorer()
    with pytest.raises(ValueError, match=r"has no control\(s\) \['stride'\]"):
        ex.view(stride=2)
    bad = Explorer(lambda k: np.zeros(k), [Slider("k", [1])], name="bad")
    with pytest.raises(TypeError, match="must return a View, got ndarray"):
        bad.view()
    with pytest.raises(ValueError, match="601 settings; at most 600"):
        Explorer(lambda a: None, [Slider("a", range(601))], name="big")
    with pytest.raises(ValueError, match="control names must be unique"):
        Explorer(lambda a: None, [Slider("a", [1]), Slider("a", [2])], name="twice")


def test_live_widget_computes_only_the_setting_it_shows():
    ex, calls = _counting_explorer()
    live = ex.widget()
    assert calls == [(2, "ones")]  # one view, not the six of the static viewer
    live.controls["mode"].value = "zeros"
    assert calls == [(2, "ones"), (2, "zeros")]
    ex.to_html()
    assert len(calls) == 2 + 6


def test_display_face_follows_the_environment(monkeypatch):
    ex, calls = _counting_explorer()
    monkeypatch.setenv(FACE_ENV, "static")
    bundle = ex._repr_mimebundle_()
    assert display_face() == "static" and set(bundle) == {"text/plain", "text/html"}
    assert 'data-explorer="counting"' in bundle["text/html"] and len(calls) == 6
    monkeypatch.setenv(FACE_ENV, "live")
    bundle = ex._repr_mimebundle_()
    assert "text/html" not in bundle and "application/vnd.jupyter.widget-view+json" in bundle
    assert len(calls) == 7  # the widget computed the one view it shows
    monkeypatch.delenv(FACE_ENV)
    assert display_face() == "static"  # no kernel in the test process: the static face
    monkeypatch.setenv(FACE_ENV, "both")
    with pytest.raises(ValueError, match=f"{FACE_ENV} must be 'static' or 'live', got 'both'"):
        display_face()


def test_static_viewer_carries_no_stylesheet_or_script_code():
    """explorer.css and explorer.js are package files loaded once per page, not copies in each viewer."""
    ex, _ = _counting_explorer()
    page = ex.to_html()
    assert "<style" not in page
    assert re.findall(r"<script[^>]*>", page) == ['<script type="application/json">']
    css, js = (read_asset(name) for name in ASSETS)
    assert "table.cnnbook-grid td.hl" in css and "[data-explorer]" in js
    with pytest.raises(ValueError, match="name must be one of"):
        read_asset("explorer.py")


def test_live_widget_injects_the_stylesheet():
    ex, _ = _counting_explorer()
    styles = [c.value for c in ex.widget().children if getattr(c, "value", "").startswith("<style>")]
    assert styles == [f"<style>{read_asset('explorer.css')}</style>"]


def test_factory_records_arguments_and_rebuild_rejects_what_is_not_a_factory():
    ex = rebuild("cnnbook.explorers.arithmetic:conv_steps", {"n": 5})
    assert ex.args == {"n": 5, "k": 2, "seed": 1} and ex.factory == "cnnbook.explorers.arithmetic:conv_steps"
    with pytest.raises(ValueError, match="'cnnbook.data:small_grid' is not decorated with @explorer_factory"):
        rebuild("cnnbook.data:small_grid", {})
    with pytest.raises(ValueError, match="factory must be 'module:function'"):
        rebuild("cnnbook.explorers.arithmetic.conv_steps", {})

    @explorer_factory
    def takes_an_array(x=np.zeros(2)):
        return Explorer(lambda: View(np.zeros(1)), [], name="array")

    with pytest.raises(TypeError, match="must be JSON-serialisable"):
        takes_an_array()
