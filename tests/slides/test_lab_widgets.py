"""Chapter 5's latent explorer, and a live session on working copies, in a real JupyterLab driven
by headless Chromium.

Run with `make test-browser` (installs Chromium if missing); `make test` does not collect it (see
conftest.py). A JupyterLab server on 127.0.0.1 opens a small notebook that builds
``cgan.latent_explorer`` on an untrained G (the widget's code is the same as in the chapter); the
browser runs the cell with Shift+Enter, then picks another digit in the dropdown and drags the first
slider's handle with the mouse, and after each checks that the slider's readout and the picture
drawn by the kernel changed. A second test runs all of Chapter 4 on a working copy (as `make lab`
makes them), drags its threshold slider, waits past JupyterLab's autosave, and checks that the
copy was saved and no committed notebook changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from test_browser import DevTools, find_chromium

ROOT = Path(__file__).resolve().parents[2]
CELL = """\
import numpy as np
import dcgan_lib as dl

cgan = dl.conditional
G = cgan.build_generator()  # untrained: the widget's behaviour is what is tested
explorer = cgan.latent_explorer(G, np.zeros(64, "float32"), directions=2, seed=0)
explorer"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def lab_server(folder=None, name="explorer.ipynb", env=None):
    """(url of ``name``, folder): a JupyterLab server on ``folder`` (default: a fresh one holding
    a small notebook that builds the explorer), stopped after."""
    if folder is not None:
        with _serve(folder, name, env) as found:
            yield found
        return
    folder = Path(tempfile.mkdtemp(prefix="lab-widgets-"))
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": CELL,
                "outputs": [],
                "execution_count": None,
            }
        ],  # fmt: skip
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (folder / "explorer.ipynb").write_text(json.dumps(notebook))
    try:
        with _serve(folder, name, env) as found:
            yield found
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _serve(folder, name, env):
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folder}",
        "--allow-root",
        "--LabApp.expose_app_in_browser=True",
    ]  # window.jupyterapp: Run All, as the menu does
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", JUPYTER_CONFIG_DIR=str(folder / ".cfg"),
               **(env or {}))  # fmt: skip
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("JupyterLab did not start") from None
            time.sleep(0.5)
    try:
        yield f"http://localhost:{port}/lab/tree/{name}?token={token}", folder
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def lab():
    with lab_server() as found:
        yield found


@pytest.fixture  # a browser per test: leaving a JupyterLab page with unsaved work asks first
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.fail("no Chromium: `make test-browser` installs it, or set CHROMIUM=/path/to/chrome")
    tools = DevTools(executable)
    for domain in ("Page", "Runtime"):
        tools.call(f"{domain}.enable")
    tools.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
               deviceScaleFactor=1, mobile=False)  # fmt: skip
    yield tools
    tools.close()


# the open notebook panel, in JupyterLab's own objects (window.jupyterapp: expose_app_in_browser)
NOTEBOOK = "Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.sessionContext)"
PICTURE = "(document.querySelector('.widget-output img') || {}).src || ''"
READOUT = "(document.querySelector('.widget-readout') || {}).textContent || ''"


def _key(browser, key, code, modifiers=0, text=None):
    for kind in ("rawKeyDown", "char", "keyUp") if text else ("rawKeyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", type=kind, key=key, code=code,
                     windowsVirtualKeyCode=13 if key == "Enter" else 0, modifiers=modifiers,
                     **({"text": text} if kind == "char" else {}))  # fmt: skip


def _changed(browser, expression, before, what, timeout=60):
    browser.wait_until(f"({expression}) !== {json.dumps(before)} && ({expression}) !== ''",
                       timeout, what)  # fmt: skip
    return browser.evaluate(expression)


def _drag_slider(browser, dx):
    """Drag the first slider's handle ``dx`` pixels with the mouse: press, move, release."""
    x, y = browser.evaluate("""(() => {
        const r = document.querySelector('.widget-slider .noUi-handle').getBoundingClientRect();
        return [r.x + r.width / 2, r.y + r.height / 2]; })()""")
    mouse = dict(y=y, button="left")
    browser.call("Input.dispatchMouseEvent", type="mousePressed", x=x, clickCount=1, **mouse)
    for step in range(1, 9):
        browser.call("Input.dispatchMouseEvent", type="mouseMoved", x=x + dx * step / 8, **mouse)
    browser.call("Input.dispatchMouseEvent", type="mouseReleased", x=x + dx, clickCount=1, **mouse)


def test_explorer_redraws_on_pick_and_drag(lab, browser):
    url, _ = lab
    browser.call("Page.navigate", url=url)
    browser.wait_until("!!document.querySelector('.jp-Notebook .jp-Cell .cm-content')", 120,
                       "JupyterLab shows the notebook")  # fmt: skip
    browser.wait_until("!!document.querySelector('.jp-Notebook-ExecutionIndicator')"
                       " || !!document.querySelector('.jp-Toolbar-kernelStatus')"
                       " || document.title.includes('explorer')", 60, "the kernel starts")  # fmt: skip
    time.sleep(3)  # let the kernel connect
    browser.evaluate("document.querySelector('.jp-Notebook .jp-Cell .cm-content').focus()")
    browser.evaluate("document.querySelector('.jp-Notebook').focus()")
    _key(browser, "Escape", "Escape")  # command mode, the cell selected
    _key(browser, "Enter", "Enter", modifiers=8, text="\r")  # Shift+Enter: run it
    first = _changed(browser, PICTURE, "", "the explorer draws a picture", timeout=180)

    # pick digit 2 in the dropdown, as a click and a choice would
    browser.evaluate("""(() => { const s = document.querySelector('.widget-dropdown select');
        s.value = s.options[2].value; s.dispatchEvent(new Event('change', {bubbles: true})); })()""")
    picked = _changed(browser, PICTURE, first, "a new picture after picking digit 2")

    # drag the first slider's handle 80 pixels to the right with the mouse
    before = browser.evaluate(READOUT)
    _drag_slider(browser, 80)
    after = _changed(browser, READOUT, before, "the slider's readout moves")
    assert float(after) > float(before)
    _changed(browser, PICTURE, picked, "a new picture after the drag")


def test_a_live_session_leaves_the_committed_notebooks_alone(browser, tmp_path):
    """`make lab`'s working copies: run all of Chapter 4 (quick mode), drag its threshold slider,
    wait past JupyterLab's two-minute autosave; the copy was saved, notebooks/ was not touched."""
    import hashlib
    import importlib.util

    spec = importlib.util.spec_from_file_location("wc", ROOT / "scripts" / "working_copies.py")
    working_copies = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(working_copies)
    name = "04_what_the_discriminator_sees.ipynb"
    committed = {p: hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in (ROOT / "notebooks").glob("*.ipynb")}  # fmt: skip
    workspace = tmp_path / "workspace"
    working_copies.sync(ROOT / "notebooks", workspace, out=lambda line: None)
    copy_before = (workspace / name).read_bytes()
    with lab_server(workspace, name, env={"DCGAN_QUICK": "1"}) as (url, _):
        browser.call("Page.navigate", url=url)
        browser.wait_until("!!(window.jupyterapp && document.querySelector('.jp-Notebook"
                           " .jp-Cell'))", 120, "JupyterLab shows Chapter 4")  # fmt: skip
        time.sleep(3)
        browser.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        started = time.monotonic()
        browser.wait_until("!!document.querySelector('.widget-slider .noUi-handle')", 600,
                           "Run All reaches the threshold explorer")  # fmt: skip
        done = """(() => { const nb = NOTEBOOK;
            const code = nb.content.widgets.filter(c => c.model.type === 'code');
            return code.every(c => c.model.executionCount !== null)
                && nb.sessionContext.session.kernel.status === 'idle'; })()"""
        browser.wait_until(done.replace("NOTEBOOK", NOTEBOOK), 600, "Run All finishes")
        for _ in range(20):  # scroll the slider on screen (mouse events reach only what is seen);
            top = browser.evaluate("""(() => {  // cells resize as they render: until it stays
                const h = document.querySelector('.widget-slider .noUi-handle');
                const outer = h.closest('.jp-WindowedPanel-outer'), top = h.getBoundingClientRect().top;
                if (top < 200 || top > 700) outer.scrollTop += top - 450;
                return top; })()""")
            if 200 <= top <= 700:
                break
            time.sleep(0.5)
        time.sleep(2)
        before = browser.evaluate(READOUT)
        _drag_slider(browser, -60)
        assert float(_changed(browser, READOUT, before, "the threshold moves")) < float(before)
        time.sleep(max(0, 130 - (time.monotonic() - started)))  # past one autosave interval
        deadline = time.monotonic() + 60
        while (workspace / name).read_bytes() == copy_before and time.monotonic() < deadline:
            time.sleep(2)
    assert (workspace / name).read_bytes() != copy_before, "JupyterLab saved the working copy"
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in (ROOT / "notebooks").glob("*.ipynb")}  # fmt: skip
    assert after == committed, "a committed notebook changed during the session"
