"""Open every built deck in headless Chromium, from file://, and check it really works offline.

Run with `make test-slides` (installs Chromium if missing, builds the decks, then runs this);
`make test` does not collect it (see conftest.py). For each deck in slides/build/ it checks, through
the Chrome DevTools protocol:

* reveal.js started and shows the number of slides the notebook's slide metadata asks for;
* every image loaded (naturalWidth > 0), every web font loaded, MathJax typeset the formulas;
* the speaker notes are in the deck;
* no JavaScript error, no missing local file;
* NOTHING was requested from anywhere but file:// (and inline data: URLs): every request the page
  makes is recorded, and http(s) is also blocked so that a failure cannot leak out.

It saves a screenshot of each title slide as slides/build/<notebook>.title.png, and checks that
pressing S opens the speaker view with the slide's note.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

websocket = pytest.importorskip(
    "websocket", reason="pip install websocket-client (make test-slides does)"
)

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("DCGAN_SLIDES_DIR", ROOT / "slides" / "build")).resolve()
# Both folders can be changed for a trial run: DCGAN_SLIDES_DIR (the decks), DCGAN_SLIDES_NOTEBOOKS.
NOTEBOOKS = sorted(
    Path(os.environ.get("DCGAN_SLIDES_NOTEBOOKS", ROOT / "notebooks")).glob("[0-9][0-9]_*.ipynb")
)
WIDTH, HEIGHT = 1280, 800
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}",
    "--remote-debugging-port=0",
    # A second safety net, browser-wide (pop-ups included): no host name resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
]
LOCAL_SCHEMES = ("file://", "data:", "blob:", "about:")


def find_chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def expected_slides(notebook: Path) -> tuple[int, int]:
    """(horizontal, total) slides nbconvert makes of the notebook's slideshow metadata."""
    cells = json.loads(notebook.read_text())["cells"]
    kinds = [c.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") for c in cells]
    visible = [k for k in kinds if k not in ("skip", "notes")]
    horizontal = 1 + visible[1:].count("slide")  # the first visible cell opens a slide
    return horizontal, horizontal + visible[1:].count("subslide")


class DevTools:
    """A headless Chromium and one page, driven over the DevTools protocol."""

    def __init__(self, executable: str):
        self.profile = tempfile.mkdtemp(prefix="slides-chromium-")
        self.proc = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{executable} did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        # The DevTools endpoint on 127.0.0.1 is how the test talks to the browser, not a request
        # of the page's (those are recorded below).
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        self.ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True
        )
        self.port = port
        self.next_id = 0
        self.events: list[dict] = []

    def targets(self) -> list[dict]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
            return json.load(r)

    def call(self, method: str, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == my_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for_event(self, method: str, since: int = 0, timeout: float = 60):
        """The first `method` event recorded at index `since` or later."""
        deadline = time.monotonic() + timeout
        seen = since
        while time.monotonic() < deadline:
            for event in self.events[seen:]:
                if event["method"] == method:
                    return event
            seen = len(self.events)
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                message = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"no {method} within {timeout} s")

    def evaluate(self, expression: str):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, expression: str, timeout: float = 60, what: str = ""):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.2)
        raise TimeoutError(f"not within {timeout} s: {what or expression}")

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.fail(
            "no Chromium: `make test-slides` installs Debian's chromium "
            "(apt-get install -y chromium), or set CHROMIUM=/path/to/chrome"
        )
    tools = DevTools(executable)
    for domain in ("Page", "Runtime", "Network", "Log"):
        tools.call(f"{domain}.enable")
    tools.call("Network.setCacheDisabled", cacheDisabled=True)
    # A safety net: http(s) cannot go out even if a deck asked for it (the request is still
    # recorded by Network.requestWillBeSent and fails the test).
    tools.call("Network.setBlockedURLs", urls=["http://*", "https://*", "ws://*", "wss://*"])
    tools.call(
        "Emulation.setDeviceMetricsOverride",
        width=WIDTH,
        height=HEIGHT,
        deviceScaleFactor=1,
        mobile=False,
    )
    yield tools
    tools.close()


def test_there_are_notebooks_to_present():
    assert NOTEBOOKS, "notebooks/ holds no chapter"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_deck_works_offline_in_chromium(browser, notebook):
    deck = BUILD / f"{notebook.stem}.slides.html"
    assert deck.is_file(), f"{deck} is missing: run `make slides` first (make test-slides does)"
    assert deck.stat().st_mtime >= notebook.stat().st_mtime, (
        f"{deck.name} is older than {notebook.name}: run `make slides` again"
    )

    first_event = len(browser.events)

    def problems():
        """(remote requests, failed requests, page errors, all requests) since the navigation."""
        events = browser.events[first_event:]
        requests = {
            e["params"]["requestId"]: e["params"]["request"]["url"]
            for e in events
            if e["method"] == "Network.requestWillBeSent"
        }
        remote = sorted({url for url in requests.values() if not url.startswith(LOCAL_SCHEMES)})
        failed = sorted(
            {
                f"{requests.get(e['params']['requestId'], '?')}: {e['params'].get('errorText')}"
                for e in events
                if e["method"] == "Network.loadingFailed"
            }
        )
        errors = [
            e["params"]["exceptionDetails"].get("exception", {}).get("description")
            or e["params"]["exceptionDetails"].get("text")
            for e in events
            if e["method"] == "Runtime.exceptionThrown"
        ]
        errors += [
            e["params"]["entry"]["text"]
            for e in events
            if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
        ]
        return remote, failed, errors, requests

    def wait_until(expression, what):
        try:
            browser.wait_until(expression, what=what)
        except TimeoutError as e:
            remote, failed, errors, _ = problems()
            raise AssertionError(
                f"{deck.name}: {e}; remote requests {remote}, failed {failed}, errors {errors}"
            ) from None

    browser.call("Page.navigate", url=deck.as_uri())
    browser.wait_for_event("Page.loadEventFired", since=first_event)
    # The deck loads reveal.js through require.js, so there is no global Reveal: take the module.
    wait_until("!!document.querySelector('.reveal.ready')", "reveal.js ready")
    browser.evaluate("""(() => { const defined = require.s.contexts._.defined;
        const id = Object.keys(defined).find(k => k.endsWith('/dist/reveal.js'));
        window.Reveal = defined[id]; return id; })()""")
    # MathJax 2 sets isReady once its start-up (initial typesetting included) is over; the
    # deck's own configuration queues one more Typeset, which our marker waits for.
    wait_until("!!(window.MathJax && MathJax.isReady)", "MathJax loaded")
    browser.evaluate(
        "window.__typeset = false; MathJax.Hub.Queue(() => { window.__typeset = true; }); 1"
    )
    wait_until("window.__typeset === true", "MathJax typeset")
    browser.evaluate("document.fonts.ready.then(() => 1)")
    wait_until("Array.from(document.images).every(i => i.complete)", "images complete")

    # Walk through every slide (runs the deck's slide-change handlers), then back to the title.
    walked = browser.evaluate("""(() => { let n = 1;
        while (!Reveal.isLastSlide() && n < 1000) { Reveal.next(); n++; }
        Reveal.slide(0, 0); return n; })()""")
    # Each slide change re-renders that slide's formulas (the deck's handler): let MathJax finish.
    browser.evaluate(
        "window.__typeset = false; MathJax.Hub.Queue(() => { window.__typeset = true; }); 1"
    )
    wait_until("window.__typeset === true", "MathJax re-rendered")
    facts = browser.evaluate("""({
        total: Reveal.getTotalSlides(),
        horizontal: Reveal.getHorizontalSlides().length,
        images: Array.from(document.images).map(i => ({src: i.src.slice(0, 80), w: i.naturalWidth})),
        fonts: Array.from(document.fonts).map(f => ({family: f.family, status: f.status})),
        notes: document.querySelectorAll('aside.notes').length,
        math: document.querySelectorAll('.MathJax_CHTML').length,
        mathErrors: document.querySelectorAll('.MathJax_Error, .mjx-merror').length,
        title: document.title,
    })""")
    time.sleep(0.5)  # let the title slide settle
    shot = browser.call("Page.captureScreenshot", format="png")
    (BUILD / f"{notebook.stem}.title.png").write_bytes(base64.b64decode(shot["data"]))

    remote, failed, errors, requests = problems()
    assert not remote, f"{deck.name} requested from the network: {remote}"
    assert not failed, f"{deck.name}: requests failed: {failed}"
    assert not errors, f"{deck.name}: errors in the page: {errors}"
    assert any(url.startswith("file://") for url in requests.values()), "no request was recorded"

    horizontal, total = expected_slides(notebook)
    assert (facts["horizontal"], facts["total"]) == (horizontal, total), (
        f"{deck.name}: {facts['horizontal']} across / {facts['total']} slides, expected {horizontal} / {total}"
    )
    assert walked == total, f"walked {walked} slides, expected {total}"
    assert facts["images"], f"{deck.name} shows no figure (were the outputs saved?)"
    broken = [i["src"] for i in facts["images"] if i["w"] <= 0]
    assert not broken, f"{deck.name}: images that did not load: {broken}"
    # MathJax declares each TeX font three times: installed (MJXc-TeX-*, MJXc-TeX-*x: local() only,
    # failing where the font is not installed, as intended) and web (MJXc-TeX-*w, from lib/).
    probes = [
        f
        for f in facts["fonts"]
        if f["family"].startswith("MJXc-") and not f["family"].endswith("w")
    ]
    bad_fonts = [f for f in facts["fonts"] if f["status"] == "error" and f not in probes]
    assert not bad_fonts, f"{deck.name}: fonts that did not load: {bad_fonts}"
    loaded = {f["family"] for f in facts["fonts"] if f["status"] == "loaded"}
    assert "Source Sans Pro" in loaded, (
        f"{deck.name}: the theme's font did not load: {facts['fonts']}"
    )
    assert facts["mathErrors"] == 0, f"{deck.name}: MathJax could not typeset some formulas"
    if "$" in "".join(
        "".join(c["source"])
        for c in json.loads(notebook.read_text())["cells"]
        if c["cell_type"] == "markdown"
    ):
        assert facts["math"] > 0, f"{deck.name}: the notebook has formulas but none was typeset"
        assert any(f.startswith("MJXc-TeX-") and f.endswith("w") for f in loaded), (
            f"{deck.name}: MathJax's web fonts did not load: {facts['fonts']}"
        )
    assert facts["notes"] > 0, (
        f"{deck.name} has no speaker notes (slides/notes/{notebook.stem}.yml)"
    )
    assert not facts["title"].endswith(".slides"), facts["title"]


def test_speaker_view_shows_the_notes_offline(browser):
    """Pressing S opens reveal.js' speaker view (a pop-up) with the current slide's note."""
    notebook = NOTEBOOKS[0]
    deck = BUILD / f"{notebook.stem}.slides.html"
    first_event = len(browser.events)
    browser.call("Page.navigate", url=deck.as_uri())
    browser.wait_for_event("Page.loadEventFired", since=first_event)
    browser.wait_until("!!document.querySelector('.reveal.ready')")
    browser.evaluate("""(() => { const defined = require.s.contexts._.defined;
        window.Reveal = defined[Object.keys(defined).find(k => k.endsWith('/dist/reveal.js'))]; return 1; })()""")
    # The first slide after the title that carries a note.
    note = browser.evaluate("""(() => {
        for (const [h, column] of Reveal.getHorizontalSlides().entries()) {
            const aside = column.querySelector('aside.notes');
            if (h > 0 && aside) { Reveal.slide(h, 0); return aside.textContent.trim(); }
        }
        return null; })()""")
    assert note, f"{deck.name} has no speaker note after its title slide"
    time.sleep(0.5)
    before = {t["id"] for t in browser.targets()}
    for kind in ("keyDown", "keyUp"):  # a real key press: pop-ups are allowed
        browser.call(
            "Input.dispatchKeyEvent",
            type=kind,
            key="s",
            code="KeyS",
            text="s" if kind == "keyDown" else "",
            windowsVirtualKeyCode=83,
        )
    deadline = time.monotonic() + 30
    popup = None
    while popup is None and time.monotonic() < deadline:
        popup = next(
            (t for t in browser.targets() if t["type"] == "page" and t["id"] not in before), None
        )
        time.sleep(0.2)
    assert popup, "pressing S opened no speaker view"
    view = websocket.create_connection(
        popup["webSocketDebuggerUrl"], timeout=30, suppress_origin=True
    )
    try:
        calls = []  # one id per call

        def evaluate(expression):
            calls.append(len(calls) + 1)
            view.send(
                json.dumps(
                    {
                        "id": calls[-1],
                        "method": "Runtime.evaluate",
                        "params": {"expression": expression, "returnByValue": True},
                    }
                )
            )
            while True:
                message = json.loads(view.recv())
                if message.get("id") == calls[-1]:
                    return message["result"]["result"].get("value")

        shown, deadline = "", time.monotonic() + 30
        while time.monotonic() < deadline:
            shown = evaluate(
                "(document.querySelector('.speaker-controls-notes') || {}).innerText || ''"
            )
            if note[:40].split()[0] in shown:
                break
            time.sleep(0.3)
        assert " ".join(note.split()[:6]) in " ".join(shown.split()), (
            f"the speaker view shows {shown[:200]!r}, not the slide's note {note[:200]!r}"
        )
        loaded = evaluate("performance.getEntriesByType('resource').map(e => e.name)") or []
        assert not [u for u in loaded if not u.startswith(LOCAL_SCHEMES)], loaded
    finally:
        view.close()
