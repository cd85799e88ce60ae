"""Build the instructor decks: one reveal.js slide show per chapter notebook, working offline.

    python scripts/build_slides.py                       # notebooks/NN_*.ipynb -> slides/build/
    python scripts/build_slides.py --out DIR NB.ipynb    # chosen notebooks, another folder
    python scripts/build_slides.py --audit-only          # only check decks already built

The decks are the notebooks themselves, with the outputs of their saved full-length runs, converted
by `jupyter nbconvert --to slides`. Each cell's slide type (slide, subslide, skip, ...) is the
notebook's own cell metadata. The build adds only two things, to a temporary copy:

* the speaker notes of slides/notes/<notebook name>.yml, inserted as "notes" cells after the
  markdown cell whose heading they name (press S in a deck to see them);
* hidden code for some cells (the output stays): `dl.show_source(...)` cells, whose output is the
  code, cells that start with an import, and the ones the notes file lists under `hide_input`;
  and nbval's `# NBVAL_CHECK_OUTPUT` marker line is left off the code shown.

Offline: nbconvert's slides template loads reveal.js, require.js, jQuery and MathJax from CDNs.
Here every one comes from a pinned npm package (slides/vendor/package.json and package-lock.json,
installed with `npm ci`), copied into <out>/lib/ next to the decks and referenced by relative
paths; the parts that can only come from a CDN (mermaid, the widgets manager) are dropped by
slides/template/offline.html.j2. Finally each deck is audited: no http(s) URL for a script, style
sheet, font or image, and every local file it refers to exists; the build fails otherwise. A
built folder works from file:// (double-click a deck) and needs no network.
"""

from __future__ import annotations

import argparse
import fcntl
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
SLIDES = ROOT / "slides"
VENDOR = SLIDES / "vendor"  # package.json + package-lock.json (committed)
NODE_MODULES = VENDOR / "node_modules"  # installed by `npm ci` (ignored by git)
TEMPLATE = SLIDES / "template" / "offline.html.j2"
NOTES = SLIDES / "notes"
DEFAULT_OUT = SLIDES / "build"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"

HIDE_TAG = "slides-hide-input"
NBVAL_MARK = "# NBVAL_CHECK_OUTPUT"  # nbval's marker: left off the slides
# Code cells shown by their output only, by the start of their first line of code (comments and
# blank lines are passed over). Notes files add to this list with `hide_input:`.
DEFAULT_HIDE_INPUT = ("dl.show_source(", "import ", "from ")

MATHJAX_CONFIG = "TeX-AMS_CHTML-full,Safe"
# What the decks load, relative to <out>/lib/: (source under node_modules, destination, patterns
# to leave out). MathJax 2 (the version nbconvert's template is written for) is copied with only
# the parts its CommonHTML output uses: 73 MB on disk, about 6 MB here.
ASSETS = [
    ("reveal.js/dist", "reveal.js/dist", ("*.map", "*.esm.js")),
    ("reveal.js/plugin/notes", "reveal.js/plugin/notes", ("*.map", "*.esm.js")),
    ("reveal.js/LICENSE", "reveal.js/LICENSE", ()),
    ("requirejs/require.js", "require.js", ()),
    ("jquery/dist/jquery.min.js", "jquery.min.js", ()),
    ("jquery/LICENSE.txt", "jquery.LICENSE.txt", ()),
    ("mathjax/MathJax.js", "mathjax/MathJax.js", ()),
    ("mathjax/LICENSE", "mathjax/LICENSE", ()),
    ("mathjax/config/TeX-AMS_CHTML-full.js", "mathjax/config/TeX-AMS_CHTML-full.js", ()),
    ("mathjax/config/Safe.js", "mathjax/config/Safe.js", ()),
    ("mathjax/config/local", "mathjax/config/local", ()),
    ("mathjax/extensions", "mathjax/extensions", ()),
    ("mathjax/jax/input/TeX", "mathjax/jax/input/TeX", ()),
    ("mathjax/jax/output/CommonHTML", "mathjax/jax/output/CommonHTML", ()),
    ("mathjax/jax/element", "mathjax/jax/element", ()),
    ("mathjax/fonts/HTML-CSS/TeX/woff", "mathjax/fonts/HTML-CSS/TeX/woff", ()),
    ("mathjax/localization/en", "mathjax/localization/en", ()),
]

# nbconvert settings: everything from lib/, nothing from a CDN.
NBCONVERT_CONFIG = {
    "SlidesExporter": {
        "reveal_url_prefix": "lib/reveal.js",
        "reveal_theme": "white",  # its fonts ship with reveal.js ("simple" imports Google Fonts)
        "reveal_transition": "none",
        "reveal_scroll": True,  # long slides scroll instead of being cut off
        "reveal_number": "c/t",
        "reveal_width": "1280",
        "reveal_height": "760",
        "require_js_url": "lib/require.js",
        "jquery_url": "lib/jquery.min.js",
        "mathjax_url": f"lib/mathjax/MathJax.js?config={MATHJAX_CONFIG}",
        "jupyter_widgets_base_url": "lib/",  # unused (the template drops widgets), never a CDN
        "font_awesome_url": "",
        "exclude_input_prompt": True,
        "exclude_output_prompt": True,
    },
    "TagRemovePreprocessor": {"enabled": True, "remove_input_tags": [HIDE_TAG]},
}


# ---------------------------------------------------------------------------------------------
# JavaScript from the npm registry, pinned
# ---------------------------------------------------------------------------------------------


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def pinned_packages() -> dict[str, str]:
    return json.loads((VENDOR / "package.json").read_text())["dependencies"]


def vendor_is_current() -> bool:
    for name, version in pinned_packages().items():
        meta = NODE_MODULES / name / "package.json"
        if not meta.is_file() or json.loads(meta.read_text()).get("version") != version:
            return False
    return True


def install_vendor(quiet: bool = False) -> None:
    """`npm ci` the pinned packages into slides/vendor/node_modules unless already there."""
    VENDOR.mkdir(exist_ok=True)
    with open(VENDOR / ".install.lock", "w") as lock:  # make slides and make test at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if vendor_is_current():
            return
        npm = shutil.which("npm")
        if npm is None:
            sys.exit(
                "build_slides: npm is needed once to install reveal.js, require.js, jQuery and "
                "MathJax (apt-get install npm, or Node.js from nodejs.org)"
            )
        if not quiet:
            print(
                "build_slides: installing",
                ", ".join(f"{n}@{v}" for n, v in pinned_packages().items()),
                "with npm ci",
                flush=True,
            )
        subprocess.run(
            [
                npm,
                "ci",
                "--prefix",
                str(VENDOR),
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ],
            check=True,
        )
        if not vendor_is_current():
            sys.exit(
                "build_slides: npm ci did not install the versions slides/vendor/package.json pins"
            )


def copy_assets(lib: Path) -> None:
    if lib.exists():
        shutil.rmtree(lib)
    for source, dest, ignore in ASSETS:
        src, dst = NODE_MODULES / source, lib / dest
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*ignore) if ignore else None)
        else:
            shutil.copy2(src, dst)


# ---------------------------------------------------------------------------------------------
# Notebooks -> presentation copies
# ---------------------------------------------------------------------------------------------


def load_notes(notebook: Path) -> dict:
    """The notes file of a notebook: {"notes": {heading: text}, "hide_input": [prefix, ...]}."""
    path = NOTES / f"{notebook.stem}.yml"
    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    data = data or {}
    return {
        "notes": dict(data.get("notes") or {}),
        "hide_input": list(data.get("hide_input") or []),
    }


def first_code_line(source: str) -> str:
    for line in source.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped
    return ""


def headings(cell) -> list[str]:
    """A markdown cell's heading lines, and its first line when that is a bold lead ("**2. ...**",
    how a sub-slide of a list of source errors starts): what a speaker note's key may name."""
    if cell.cell_type != "markdown":
        return []
    lines = [line.strip() for line in cell.source.splitlines() if line.strip()]
    bold = lines[:1] if lines and lines[0].startswith("**") else []
    return [line for line in lines if line.startswith("#")] + bold


def slide_type(cell) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def static_output(out):
    """A cell output as a deck shows it: a widget's view replaced by the picture saved beside it
    (``image/png``), or dropped when it has none (its ``text/plain`` is only the widget's repr)."""
    data = out.get("data", {})
    if WIDGET_VIEW not in data:
        return out
    out.data = {k: v for k, v in data.items() if k != WIDGET_VIEW}
    return out if "image/png" in out.data else None


def presentation_copy(nb, spec: dict) -> tuple[object, list[str]]:
    """Return (a copy of nb with notes cells and hidden-input tags, note keys that matched nothing).

    A note's key is a heading (its start is enough: "## Theory" matches "## Theory: a game of two
    networks"); the note goes after the first markdown cell holding such a heading line.
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # deep copy
    hide = tuple(DEFAULT_HIDE_INPUT) + tuple(spec["hide_input"])
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(NBVAL_MARK):  # test machinery
            cell.source = cell.source[len(NBVAL_MARK) :].lstrip("\n")
        if cell.cell_type == "code":  # a deck has no widget manager: a widget shows its picture
            cell.outputs = [out for out in map(static_output, cell.outputs) if out is not None]
        if cell.cell_type == "code" and first_code_line(cell.source).startswith(hide):
            tags = cell.metadata.setdefault("tags", [])
            if HIDE_TAG not in tags:
                tags.append(HIDE_TAG)

    after: dict[int, list[str]] = {}
    unmatched = []
    for key, text in spec["notes"].items():
        key = key.strip()
        for index, cell in enumerate(nb.cells):
            if any(h == key or h.startswith(key) for h in headings(cell)):
                after.setdefault(index, []).append(str(text).strip())
                break
        else:
            unmatched.append(key)
    for index in sorted(after, reverse=True):
        note = nbformat.v4.new_markdown_cell("\n\n".join(after[index]))
        note.metadata["slideshow"] = {"slide_type": "notes"}
        nb.cells.insert(index + 1, note)
    return nb, unmatched


def expected_slides(nb) -> dict[str, int]:
    """How many slides nbconvert makes of a notebook: {"horizontal": n, "total": n}.

    The first visible cell always opens a slide; then every "slide" cell opens a horizontal slide
    and every "subslide" cell a vertical one below it (reveal.js counts both in its total).
    """
    visible = [slide_type(c) for c in nb.cells if slide_type(c) not in ("skip", "notes")]
    if not visible:
        return {"horizontal": 0, "total": 0}
    horizontal = 1 + visible[1:].count("slide")
    return {"horizontal": horizontal, "total": horizontal + visible[1:].count("subslide")}


def deck_title(nb, fallback: str) -> str:
    for cell in nb.cells:
        for h in headings(cell):
            if h.startswith("# "):
                return h[2:].strip()
    return fallback


# ---------------------------------------------------------------------------------------------
# Audit: nothing from the network, nothing missing
# ---------------------------------------------------------------------------------------------

REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)  # http://, https://, //host, ...
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""", re.I)
REQUIRE_MODULES = re.compile(r"require\(\s*\{[^}]*\}\s*,\s*\[([^\]]*)\]", re.S)


class _Refs(HTMLParser):
    """Collect what a page loads by itself: scripts, style sheets, images, media, inline CSS."""

    LOADS = {
        ("script", "src"),
        ("link", "href"),
        ("img", "src"),
        ("source", "src"),
        ("video", "src"),
        ("audio", "src"),
        ("iframe", "src"),
        ("embed", "src"),
        ("object", "data"),
        ("input", "src"),
        ("video", "poster"),
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []
        self.inline_css: list[str] = []
        self.inline_js: list[str] = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for t, a in self.LOADS:
            if tag == t and attrs.get(a):
                if tag == "link" and not set((attrs.get("rel") or "").lower().split()) & {
                    "stylesheet",
                    "icon",
                    "preload",
                    "modulepreload",
                    "prefetch",
                    "manifest",
                }:
                    continue
                self.refs.append((f"<{tag} {a}>", attrs[a]))
        if attrs.get("srcset"):
            for part in attrs["srcset"].split(","):
                if part.strip():
                    self.refs.append((f"<{tag} srcset>", part.split()[0]))
        if attrs.get("style"):
            self.inline_css.append(attrs["style"])
        self._in = tag if tag in ("style", "script") and not attrs.get("src") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.inline_css.append(data)
        elif self._in == "script":
            self.inline_js.append(data)


def _is_local(url: str) -> bool:
    return not REMOTE.match(url) and not url.lower().startswith(
        ("data:", "blob:", "about:", "javascript:")
    )


def _local_path(base: Path, url: str) -> Path:
    return (base / unquote(urlsplit(url).path)).resolve()


def _css_refs(css: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in CSS_URL.finditer(css)]


def audit_deck(deck: Path) -> list[str]:
    """Problems with one built deck: remote loads, and local files it refers to that are missing."""
    parser = _Refs()
    parser.feed(deck.read_text(encoding="utf-8"))
    refs = list(parser.refs)
    for css in parser.inline_css:
        refs += [("inline CSS url()", u) for u in _css_refs(css)]
    for js in parser.inline_js:  # the deck's require([...]) of reveal.js
        for group in REQUIRE_MODULES.findall(js):
            refs += [("require()", m) for m in re.findall(r"""["']([^"']+)["']""", group)]
    problems = []
    seen_css: set[Path] = set()

    def check(kind: str, url: str, base: Path, where: str) -> None:
        url = html.unescape(url.strip())
        if url.startswith("#") or url.lower().startswith(("data:", "blob:", "about:")):
            return
        if not _is_local(url):
            problems.append(f"{where}: {kind} loads {url} from the network")
            return
        path = _local_path(base, url)
        if not path.is_file():
            problems.append(f"{where}: {kind} {url} is missing ({path})")
            return
        if path.suffix == ".css" and path not in seen_css:  # fonts and imports of a style sheet
            seen_css.add(path)
            for inner in _css_refs(path.read_text(encoding="utf-8", errors="replace")):
                check("url() in " + path.name, inner, path.parent, where)

    for kind, url in refs:
        check(kind, url, deck.parent, deck.name)
    return problems


# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------


def chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob(NOTEBOOK_GLOB))


def write_index(out: Path, decks: list[dict]) -> None:
    rows = "\n".join(
        f'  <li><a href="{html.escape(d["deck"])}">{html.escape(d["title"])}</a> '
        f"<small>({d['slides']['total']} slides, from {html.escape(d['notebook'])})</small></li>"
        for d in decks
    )
    (out / "index.html").write_text(
        f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>DCGAN course: slides</title>
<style>body {{ font: 18px/1.5 system-ui, sans-serif; max-width: 46em; margin: 3em auto; }}</style>
</head>
<body>
<h1>DCGAN course: slides</h1>
<ul>
{rows}
</ul>
<p>Arrow keys move, <kbd>S</kbd> opens the speaker notes, <kbd>F</kbd> full screen,
<kbd>Esc</kbd> an overview. Everything loads from this folder: no network needed.</p>
</body>
</html>
""",
        encoding="utf-8",
    )


def unfit_for_slides(nb) -> str | None:
    """Why a notebook's saved outputs may not go on slides (an error, a quick-mode run), or None."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                return f"a cell's saved output is an error ({out.get('ename')})"
            if out.get("output_type") == "stream" and "Run mode QUICK" in "".join(out["text"]):
                return "it was saved from a quick-mode run (DCGAN_QUICK=1)"
    return None


def build(notebooks: list[Path], out: Path, quiet: bool = False) -> list[dict]:
    """Build one deck per notebook into out/; return the manifest (also written to decks.json).
    Refuses (exit 2) a notebook whose saved outputs hold an error or come from quick mode."""
    if not notebooks:
        sys.exit("build_slides: no notebook to build")
    unfit = [(p, unfit_for_slides(nbformat.read(p, as_version=4))) for p in notebooks]
    unfit = [f"{p.name}: {why}" for p, why in unfit if why]
    if unfit:
        print("build_slides: not building decks from notebooks that are not full runs:\n  "
              + "\n  ".join(unfit) + "\nRestore the committed ones (git checkout -- notebooks/) "
              "or re-run them at full length (make full-run NB=...).", file=sys.stderr)  # fmt: skip
        sys.exit(2)
    install_vendor(quiet)
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out / "lib")

    manifest = []
    with tempfile.TemporaryDirectory(prefix="slides-") as tmp:
        tmp = Path(tmp)
        copies = []
        for path in notebooks:
            nb = nbformat.read(path, as_version=4)
            spec = load_notes(path)
            shown, unmatched = presentation_copy(nb, spec)
            title = deck_title(nb, path.stem)
            shown.metadata["title"] = title  # the deck's <title>
            for key in unmatched:
                print(
                    f"build_slides: warning: {path.name}: no heading {key!r} for its speaker note",
                    file=sys.stderr,
                )
            copy = tmp / path.name
            nbformat.write(shown, copy)
            copies.append(copy)
            manifest.append(
                {
                    "notebook": str(path.relative_to(ROOT))
                    if path.is_relative_to(ROOT)
                    else str(path),
                    "deck": f"{path.stem}.slides.html",
                    "title": title,
                    "slides": expected_slides(nb),
                    "notes": len(spec["notes"]) - len(unmatched),
                }
            )
        config = tmp / "nbconvert_config.json"
        config.write_text(json.dumps(NBCONVERT_CONFIG))
        cmd = [
            sys.executable,
            "-m",
            "nbconvert",
            "--to",
            "slides",  # = jupyter nbconvert
            "--config",
            str(config),
            "--template-file",
            str(TEMPLATE),
            "--output-dir",
            str(out),
            *map(str, copies),
        ]
        if not quiet:
            print(
                "build_slides: jupyter nbconvert --to slides",
                " ".join(c.name for c in copies),
                "->",
                out,
                flush=True,
            )
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"build_slides: nbconvert failed:\n{result.stdout}{result.stderr}")

    write_index(out, manifest)
    (out / "decks.json").write_text(json.dumps(manifest, indent=2) + "\n")
    problems = [p for d in manifest for p in audit_deck(out / d["deck"])]
    problems += audit_deck(out / "index.html")
    if problems:
        sys.exit(
            "build_slides: the decks would need the network or miss files:\n  "
            + "\n  ".join(problems)
        )
    if not quiet:
        for d in manifest:
            print(
                f"  {d['deck']}: {d['slides']['total']} slides "
                f"({d['slides']['horizontal']} across), {d['notes']} speaker notes"
            )
        print(f"build_slides: open {out / 'index.html'} (works offline, from file://)")
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help=f"notebooks to build (default: notebooks/{NOTEBOOK_GLOB})",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (slides/build)"
    )
    parser.add_argument(
        "--audit-only", action="store_true", help="only audit the decks already in --out"
    )
    parser.add_argument(
        "--install-only", action="store_true", help="only install the pinned JavaScript packages"
    )
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.install_only:
        install_vendor(args.quiet)
        return 0
    if args.audit_only:
        decks = sorted(args.out.glob("*.slides.html"))
        problems = [p for d in decks for p in audit_deck(d)]
        print(
            "\n".join(problems) or f"{len(decks)} decks: nothing from the network, nothing missing"
        )
        return 1 if problems or not decks else 0
    build(
        [p.resolve() for p in args.notebooks] or chapter_notebooks(), args.out.resolve(), args.quiet
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
