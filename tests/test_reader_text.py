"""The built pages speak to readers: no maintainer-facing phrase in what a reader sees.

Every page `_build/html/book/*.html` (or $CNNBOOK_SITE/book) is read as a reader sees it: without its
<script>, <style> and <noscript> elements and without the source of its code cells (`div.cell_input`)
and code blocks (`pre` outside a cell's output), but with the prose, the headings, the tables and what
the cells printed. None of it may mention the test suite, build targets, repository paths, "the notes"
the book was written from, or implementation settings (issue 11, "Text for readers").
"""
from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from browser_util import SITE

#: What readers must never see (matched case-insensitively; the whitespace inside a phrase may be any).
PHRASES = ("test suite", "make bench", "make test", "make book", "make lab", "make clean",
           "data/make_photo.py", "the notes", "network of the notes", "thread pool", "tested minimum",
           "src/cnnbook", "tests/")
_PATTERNS = [(p, re.compile(r"\s+".join(map(re.escape, p.split())), re.I)) for p in PHRASES]


def visible_text(html: str) -> str:
    """The text a reader sees on a page, without scripts, styles and the source of code cells/blocks."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for tag in soup.select("div.cell_input"):
        tag.decompose()
    for tag in soup.find_all("pre"):
        if tag.find_parent("div", class_="cell_output") is None:  # a code block, not a printed output
            tag.decompose()
    return soup.get_text(" ")


def maintainer_phrases(html: str) -> list[str]:
    """Each forbidden phrase in the visible text of ``html``, with 40 characters of context either side."""
    text = visible_text(html)
    found = []
    for phrase, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            context = " ".join(text[max(0, m.start() - 40): m.end() + 40].split())
            found.append(f"{phrase!r}: …{context}…")
    return found


def _pages() -> list[str]:
    pages = sorted(p.name for p in (SITE / "book").glob("*.html"))
    return pages or ["<site not built>"]


@pytest.mark.parametrize("name", _pages())
def test_built_page_has_no_maintainer_facing_text(name, site):
    path = site / "book" / name
    assert path.is_file(), f"{path} is missing: run `make book` to build the website"
    found = maintainer_phrases(path.read_text(encoding="utf-8"))
    assert not found, f"book/{name} shows readers maintainer-facing text:\n" + "\n".join(found)


def test_the_finder_reads_what_readers_see():
    """Prose, headings, tables and cell outputs count; scripts, styles and code cell/block sources do not."""
    page = """<html><head><style>.x::after { content: "make book" }</style>
    <script>const note = "the test suite";</script></head><body>
    <h1>Chapter</h1><p>As the   Notes say, a kernel slides.</p>
    <table><tr><td>run <code>make bench</code></td></tr></table>
    <div class="cell docutils container">
      <div class="cell_input docutils container"><pre>import tests.helpers  # make test</pre></div>
      <div class="cell_output docutils container"><pre>threads: a thread
pool of 4</pre></div>
    </div>
    <pre>python data/make_photo.py</pre>
    <p>Nothing else to see.</p></body></html>"""
    found = maintainer_phrases(page)
    assert [f.split(":")[0] for f in found] == ["'make bench'", "'the notes'", "'thread pool'"], found
    assert "As the Notes say" in found[1]
    assert maintainer_phrases("<p>A reader's page: kernels, strides and padding.</p>") == []
