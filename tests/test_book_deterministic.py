"""The book builds the same twice: each chapter, executed again from its .md in a fresh kernel, prints
the same text and draws the same figures (byte for byte) as the build that `make test` just made. The
build's side is the executed notebook the website offers for download (`_build/html/_sources/book/`),
so this also checks that download: every output once, as on the page.

Chapter 8 is left out here: it prints a wall-clock timing (its training time), which differs from run
to run by nature, and re-running its training would add half a minute or more. Its
trained weights are checked across processes anyway: the website's LeNet explorer carries checksums of
the activations computed at build time, and tests/test_site.py recomputes them in the test process.
Chapter 9 is left out for the same reason: it times every method it shows, live (its counts, trainings
and checks are seeded, and its explorer is covered by tests/test_explorer_contract.py).
"""
from __future__ import annotations

import json

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from browser_util import ROOT, SITE
from cnnbook_site import merge_streams

from cnnbook.explorer import FACE_ENV

BUILT = SITE / "_sources" / "book"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("0[1-7]_*.md"))
#: A widget's model id is a fresh UUID in every kernel; the website never shows it (see _config.yml).
WIDGET = "application/vnd.jupyter.widget-view+json"


def outputs(nb) -> list[tuple]:
    """Every output as (cell index, kind, text), the MIME types of a cell in sorted order."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                found.append((index, "stream:" + out["name"], out["text"]))
            elif out["output_type"] == "error":
                found.append((index, "error", out["ename"] + ": " + out["evalue"]))
            else:
                for mime, value in out["data"].items():
                    if mime != WIDGET:
                        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                        found.append((index, mime, text))
    return sorted(found)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_executes_to_the_same_outputs_as_the_build(chapter, monkeypatch):
    # The kernel inherits the build's choice of face: explorers display their static viewer.
    monkeypatch.setenv(FACE_ENV, "static")
    built_path = BUILT / f"{chapter}.ipynb"
    if not built_path.is_file():
        pytest.fail(f"{built_path} is missing: build the book first (`make test` does)", pytrace=False)
    built = nbformat.read(built_path, as_version=4)
    fresh = jupytext.read(ROOT / "book" / f"{chapter}.md")
    NotebookClient(fresh, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "book")}}).execute()
    for cell in fresh.cells:  # the build joins each cell's printed chunks (nb_merge_streams in _config.yml)
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    want, got = outputs(built), outputs(fresh)
    assert len(got) == len(want), f"{chapter}: {len(got)} outputs now, {len(want)} in the build"
    for a, b in zip(got, want):
        assert a == b, (f"{chapter}, cell {a[0]} ({a[1]}) differs from the build:\n"
                        f"now:   {a[2][:300]!r}\nbuild: {b[2][:300]!r}")
