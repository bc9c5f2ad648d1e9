"""A chapter in JupyterLab, as a reader uses it (`make lab`): it opens as a notebook, runs, and its
explorer is a live widget whose stride slider changes the printed output shape.

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

import pytest
from playwright.sync_api import expect, sync_playwright

from browser_util import ROOT, SCREENSHOTS, free_port, launch

from cnnbook.explorers.arithmetic import conv_arithmetic
from cnnbook.shapes import conv_output_size

CHAPTER = "04_padding_stride_channels.md"


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


def test_chapter_runs_in_jupyterlab_and_stride_slider_updates_shape(lab):
    base, token = lab
    explorer = conv_arithmetic()  # what the chapter shows (it calls conv_arithmetic() with defaults)
    default = explorer.default_setting
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            workspace = f"cnnbook-test-{secrets.token_hex(4)}"
            page.goto(f"{base}/lab/workspaces/{workspace}/tree/{CHAPTER}?reset&token={token}")
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
                page.screenshot(path=str(SCREENSHOTS / "lab.png"))
            errors = panel.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
            assert not tracebacks, f"{CHAPTER} raised in JupyterLab:\n" + "\n".join(tracebacks)[:3000]

            live = panel.locator(".cnnbook-live-explorer").filter(has_text="stride s").first
            live.scroll_into_view_if_needed()
            shape = live.locator('code[data-role="shape"]')
            start = explorer.view(**default).shape
            expect(shape).to_have_text(str(start))

            slider = live.locator(".widget-slider").filter(has_text="stride s")
            handle = slider.locator(".noUi-handle")
            handle.focus()
            for key, stride in (("End", 3), ("ArrowLeft", 2), ("Home", 1)):
                handle.press(key)
                n = conv_output_size(7, default["kernel_size"], stride=stride,
                                     padding=default["padding"], dilation=default["dilation"])
                want = explorer.view(**{**default, "stride": stride}).shape
                assert want[-1] == n  # the explorer agrees with the size formula
                expect(slider.locator(".widget-readout")).to_have_text(str(stride))
                expect(shape).to_have_text(str(want), timeout=30_000)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "lab.png"))
        finally:
            browser.close()
