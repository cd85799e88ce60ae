"""The instructor decks build, and a built deck needs nothing from the network (no browser here).

Builds every chapter's deck into a temporary folder with scripts/build_slides.py (the path
`make slides` takes; it installs the pinned npm packages with `npm ci` when they are missing), then
reads the HTML: every script, style sheet, image and font (through the style sheets' url() and
@import) must be a local file that exists, never an http(s) URL. The browser test that opens the
decks in Chromium is tests/slides/test_browser.py (`make test-slides`).
"""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "build_slides.py"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CDN = re.compile(
    r"unpkg\.com|cdnjs|jsdelivr|googleapis|gstatic|code\.jquery|mathjax\.org|bootstrapcdn", re.I
)
LOADS = re.compile(
    r"""<(?:script|img|source|iframe|embed)\b[^>]*?\bsrc\s*=\s*["']([^"']+)|"""
    r"""<link\b[^>]*?\bhref\s*=\s*["']([^"']+)|url\(\s*["']?([^"')]+)|@import\s+["']([^"']+)""",
    re.I,
)


def _build_module():
    spec = importlib.util.spec_from_file_location("build_slides", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bs = _build_module()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not bs.vendor_is_current() and shutil.which("npm") is None:
        pytest.skip(
            "npm is not installed: the decks' JavaScript (reveal.js, MathJax...) comes from "
            "the npm registry (apt-get install npm)"
        )
    out = tmp_path_factory.mktemp("slides")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "-q", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_npm_packages_are_pinned():
    pins = json.loads((bs.VENDOR / "package.json").read_text())["dependencies"]
    lock = json.loads((bs.VENDOR / "package-lock.json").read_text())["packages"]
    for name, version in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}@{version} is not an exact version"
        assert lock[f"node_modules/{name}"]["version"] == version, (
            f"package-lock.json disagrees on {name}"
        )
        assert lock[f"node_modules/{name}"].get("integrity"), f"no integrity hash for {name}"


def test_one_deck_per_chapter(built):
    manifest = json.loads((built / "decks.json").read_text())
    assert [d["deck"] for d in manifest] == [f"{nb.stem}.slides.html" for nb in NOTEBOOKS]
    for deck in manifest:
        assert (built / deck["deck"]).is_file()
        assert deck["slides"]["total"] >= 5, f"{deck['deck']}: too few slides {deck['slides']}"


@pytest.mark.parametrize("name", [nb.stem for nb in NOTEBOOKS] + ["index"])
def test_deck_loads_nothing_from_the_network(built, name):
    deck = built / (f"{name}.slides.html" if name != "index" else "index.html")
    text = deck.read_text(encoding="utf-8")
    assert bs.audit_deck(deck) == []
    # An independent, cruder check: what the page loads, by regular expression, CSS files followed.
    pending, seen = [(deck, text)], set()
    while pending:
        path, content = pending.pop()
        for match in LOADS.finditer(content):
            url = next(g for g in match.groups() if g).strip()
            if url.startswith(("data:", "#", "blob:")):
                continue
            assert not re.match(r"^(https?:)?//", url, re.I), (
                f"{path.name} loads {url} from the network"
            )
            target = (path.parent / url.split("?")[0].split("#")[0]).resolve()
            assert target.is_file(), f"{path.name} refers to {url}, which is not in the build"
            if target.suffix == ".css" and target not in seen:
                seen.add(target)
                pending.append((target, target.read_text(encoding="utf-8", errors="replace")))
    for match in re.finditer(r"<(script|link|img)\b[^>]*>", text, re.I):
        assert not CDN.search(match.group(0)), f"{deck.name}: a CDN in {match.group(0)}"
    if name != "index":
        for module in re.findall(r'"([^"]+\.js)"', text.split("require(", 1)[-1].split(");", 1)[0]):
            assert (
                not module.startswith(("http:", "https:", "//")) and (built / module).is_file()
            ), module
        assert "lib/mathjax/MathJax.js?config=" in text and "lib/require.js" in text


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_speaker_notes_find_their_headings(notebook):
    import nbformat

    spec = bs.load_notes(notebook)
    assert spec["notes"], f"slides/notes/{notebook.stem}.yml holds no speaker notes"
    _, unmatched = bs.presentation_copy(nbformat.read(notebook, as_version=4), spec)
    assert not unmatched, (
        f"slides/notes/{notebook.stem}.yml: no heading in the notebook starts "
        f"with {unmatched}; update the note's key"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_widget_has_a_static_picture_in_the_deck(notebook):
    """A deck has no widget manager: a widget's slide shows its saved picture, or the static
    figure of the next code cell (Chapter 5's explorer)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    deck, _ = bs.presentation_copy(nb, {"hide_input": [], "notes": {}})
    code = [
        (saved, shown) for saved, shown in zip(nb.cells, deck.cells) if saved.cell_type == "code"
    ]
    pictured = lambda cell: any("image/png" in o.get("data", {}) for o in cell.outputs)
    for k, (saved, shown) in enumerate(code):
        assert not any(bs.WIDGET_VIEW in o.get("data", {}) for o in shown.outputs)
        if any(bs.WIDGET_VIEW in o.get("data", {}) for o in saved.outputs):
            following = code[k + 1][1] if k + 1 < len(code) else shown
            assert pictured(shown) or pictured(following), f"{notebook.name}: {saved.source[:80]}"


def test_widget_output_becomes_its_picture_or_nothing():
    widget = {"text/plain": "VBox(...)", bs.WIDGET_VIEW: {"model_id": "x"}}
    out = lambda data: nbformat_output(data)
    with_png = bs.static_output(out({**widget, "image/png": "iVBOR"}))
    assert set(with_png.data) == {"text/plain", "image/png"}
    assert bs.static_output(out(widget)) is None
    plain = out({"text/plain": "42"})
    assert bs.static_output(plain) is plain


def nbformat_output(data):
    import nbformat

    return nbformat.v4.new_output("execute_result", data=data, execution_count=1)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_slide_has_speaker_notes(notebook):
    import nbformat

    deck, _ = bs.presentation_copy(nbformat.read(notebook, as_version=4), bs.load_notes(notebook))
    slides = []
    for cell in deck.cells:
        if bs.slide_type(cell) in ("slide", "subslide") or not slides:
            slides.append([])
        slides[-1].append(cell)
    bare = [s[0].source[:60] for s in slides if not any(bs.slide_type(c) == "notes" for c in s)]
    assert not bare, f"slides without speaker notes: {bare}"
