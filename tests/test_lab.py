"""Chapters in JupyterLab, as a reader uses them (`make lab`): each opens as a notebook, runs, and its
explorer is a live widget whose stride slider changes the printed output shape (chapters 4, 6 and 7:
convolution arithmetic, pooling, transposed convolution) and whose cells trace as on the website
(picking an output cell lights its window and writes its equation), and its first predict-then-check question
(a `cnnbook.quiz` widget, where the chapter has one) answers a wrong number, then the right one.

Starts `jupyter lab` on 127.0.0.1 with a token and the project's JupyterLab settings
(JUPYTER_CONFIG_DIR=.jupyter: Markdown/MyST files open as Jupytext notebooks), drives Debian's chromium
with Playwright, and shuts the server down.
"""
from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect, sync_playwright

from browser_util import ROOT, SCREENSHOTS, free_port, launch

from cnnbook.explorers.arithmetic import conv_arithmetic
from cnnbook.explorers.pooling import pooling_explorer
from cnnbook.explorer.static import NUMBERS_UP_TO
from cnnbook.explorers.transposed import transposed_dilated
from cnnbook.shapes import conv_output_size, conv_transpose_output_size, pool_output_size

#: (chapter, the explorer it shows with defaults, output size along one axis for a setting by the formula)
CASES = [
    ("04_padding_stride_channels.md", conv_arithmetic,
     lambda st: conv_output_size(7, st["kernel_size"], st["stride"], st["padding"], st["dilation"])),
    ("06_pooling.md", pooling_explorer,
     lambda st: pool_output_size(16, st["kernel_size"], st["stride"], st["padding"])),
    ("07_transposed_dilated.md", transposed_dilated,
     lambda st: conv_transpose_output_size(3, st["kernel_size"], st["stride"], st["padding"],
                                           dilation=st["dilation"])),
]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on book/, with a token; yields its base URL and token, then stops it."""
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(ROOT / ".jupyter")}
    # This run's own settings: never autosave (the test must not rewrite the chapter), no news.
    settings = tmp_path / "user-settings" / "@jupyterlab"
    (settings / "docmanager-extension").mkdir(parents=True)
    (settings / "docmanager-extension" / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    log = open(tmp_path / "lab.log", "w")
    cmd = [
        str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT / 'book'}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        f"--LabApp.user_settings_dir={tmp_path / 'user-settings'}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT / "book", env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("jupyter lab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
            time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.parametrize("chapter, factory, formula", CASES, ids=[c[0].split("_")[0] for c in CASES])
def test_chapter_runs_in_jupyterlab_and_stride_slider_updates_shape(lab, chapter, factory, formula):
    base, token = lab
    explorer = factory()  # what the chapter shows (it calls the factory with its defaults)
    default = explorer.default_setting
    strides = next(c for c in explorer.controls if c.name == "stride").values
    screenshot = SCREENSHOTS / f"lab_{chapter.split('_')[0]}.png"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            workspace = f"cnnbook-test-{secrets.token_hex(4)}"
            page.goto(f"{base}/lab/workspaces/{workspace}/tree/{chapter}?reset&token={token}")
            # Opened as a notebook (Jupytext), not in the text editor.
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)
            expect(page.locator(".jp-NotebookPanel .jp-Cell.jp-CodeCell").first).to_be_visible()
            # Wait for the kernel, then Run > Run All Cells.
            expect(page.locator(".jp-NotebookPanel-toolbar .jp-KernelName").first).to_contain_text(
                "Python", timeout=90_000)
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            panel = page.locator(".jp-NotebookPanel:visible")
            # Every cell ran (numbered prompts, none still [*]), or one raised (Run All stops there).
            try:
                page.wait_for_function(
                    """() => {
                      const ps = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt'));
                      const busy = ps.some(p => p.textContent.includes('*'));
                      const failed = document.querySelector('.jp-NotebookPanel .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
                      return ps.length > 0 && !busy && (failed || ps.every(p => /\\[\\d+\\]/.test(p.textContent)));
                    }""", timeout=300_000)
            finally:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot))
            errors = panel.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
            assert not tracebacks, f"{chapter} raised in JupyterLab:\n" + "\n".join(tracebacks)[:3000]

            live = panel.locator(".cnnbook-live-explorer").filter(has_text="stride s").first
            live.scroll_into_view_if_needed()
            shape = live.locator('code[data-role="shape"]')
            start = explorer.view(**default).shape
            expect(shape).to_have_text(str(start))

            slider = live.locator(".widget-slider").filter(has_text="stride s")
            handle = slider.locator(".noUi-handle")
            handle.focus()
            for key, stride in (("End", strides[-1]), ("ArrowLeft", strides[-2]), ("Home", strides[0])):
                handle.press(key)
                setting = {**default, "stride": stride}
                want = explorer.view(**setting).shape
                assert want[-1] == formula(setting)  # the explorer agrees with the size formula
                expect(slider.locator(".widget-readout")).to_have_text(str(stride))
                expect(shape).to_have_text(str(want), timeout=30_000)
            if _traces_a_table(explorer.view(**{**default, "stride": strides[0]})):
                _check_live_tracing(live, explorer, {**default, "stride": strides[0]})
            if "quiz.number(" in (ROOT / "book" / chapter).read_text(encoding="utf-8"):
                quizzes = panel.locator(".cnnbook-live-quiz")
                assert quizzes.count(), f"{chapter} asks quiz questions but JupyterLab shows no quiz widget"
                _answer_live_quiz(quizzes.first)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()


def _traces_a_table(view) -> bool:
    """Whether the view traces a cell of a table of numbers (the cells clicked below); image panels
    (the pooling explorer's) are traced by squares over the pixels, checked on the website."""
    if not view.trace:
        return False
    panel = next(p for p in view.panels if p.name == view.trace[0].output)
    return bool(panel.numbers if panel.numbers is not None else max(np.shape(panel.array)) <= NUMBERS_UP_TO)


def _check_live_tracing(live, explorer, setting):
    """The live widget traces like the website: clicking an output cell lights the input cells of its
    window (as cnnbook.explorer.tracing computes them) and writes the equation, whose value is the cell's;
    Enter on a focused input cell lights the outputs that read it."""
    view = explorer.view(**setting)
    rel = view.trace[0]
    shapes = {p.name: np.shape(p.array) for p in view.panels if p.name}
    lit = """box => { const lit = {};
      box.querySelectorAll('figure.cnnbook-panel').forEach(f => { lit[f.dataset.panel] =
        Array.from(f.querySelectorAll('[data-row].linked')).map(c => [+c.dataset.row, +c.dataset.col]); });
      const eq = box.querySelector('[data-role="equation"]');
      return {lit, picked: Array.from(box.querySelectorAll('.picked')).map(c => [+c.dataset.row, +c.dataset.col]),
              equation: eq && eq.textContent}; }"""
    h, w = shapes[rel.output]
    for cell in [(h - 1, w - 1), (h // 2, 0)]:
        td = live.locator(f'figure[data-panel="{rel.output}"] tr').nth(cell[0]).locator("td").nth(cell[1])
        td.click()
        expect(live.locator('[data-role="equation"]')).to_contain_text(f"[{cell[0]}, {cell[1]}] = ", timeout=30_000)
        state = live.evaluate(lit)
        assert state["picked"] == [list(cell)]
        want = rel.linked(rel.output, cell, shapes[rel.input], shapes[rel.output])
        assert {tuple(c) for c in state["lit"][rel.input]} == want[rel.input]
        value = float(state["equation"].rsplit(" = ", 1)[1])
        assert value == float(td.inner_text()) == view.output[cell]
    cell = (shapes[rel.input][0] // 2, 1)
    live.locator(f'figure[data-panel="{rel.input}"] tr').nth(cell[0]).locator("td").nth(cell[1]).focus()
    live.page.keyboard.press("Enter")
    state = live.evaluate(lit)
    want = rel.linked(rel.input, cell, shapes[rel.input], shapes[rel.output])
    assert {tuple(c) for c in state["lit"][rel.output]} == want[rel.output]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    live.screenshot(path=str(SCREENSHOTS / f"lab_tracing_{explorer.name}.png"))


def _answer_live_quiz(quiz):
    """Type a wrong number and press Enter: the message gives the answer; type it, click Check."""
    quiz.scroll_into_view_if_needed()
    box = quiz.locator(".widget-text input")
    feedback = quiz.locator(".widget-html").last
    box.fill("-987.5")
    box.press("Enter")
    expect(feedback).to_contain_text("✗ Not quite: you typed -987.5, the answer is ", timeout=30_000)
    answer = re.search(r"the answer is (.+?)(?: \(±[^)]*\))?\. ", feedback.inner_text()).group(1)
    box.fill(answer)
    quiz.get_by_role("button", name="Check").click()
    expect(feedback).to_contain_text(f"✓ Right: {answer}", timeout=30_000)
