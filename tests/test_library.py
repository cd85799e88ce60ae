"""The library's shape (issue 12): small, tagged, and shown in the chapter that teaches it.

d2l's rule, checked on the committed notebooks: a chapter calls a library function only
after the reader has seen its code, either earlier in the same chapter (``dl.show_source``)
or in an earlier chapter; a call to a function of a later chapter says so ("introduced in
Chapter N"). Each public function names its chapter in its docstring, one spelling only.
"""

import inspect
import json
import re
import types

import pytest
from helpers import ROOT

import dcgan_lib as dl

LIBRARY = sorted((ROOT / "dcgan_lib").glob("*.py"))
TAG = re.compile(r"Defined in (Chapter [1-6]|Appendix A)\.")
CHAPTERS = {
    "Chapter 1": "01_",
    "Chapter 2": "02_",
    "Chapter 3": "03_",
    "Chapter 4": "04_",
    "Appendix A": "05_",
    "Chapter 5": "06_",
    "Chapter 6": "07_",
}
ORDER = list(CHAPTERS)
NOTEBOOKS = {
    chapter: next((ROOT / "notebooks").glob(f"{prefix}*.ipynb"))
    for chapter, prefix in CHAPTERS.items()
}


# the chapters' own namespaces, by the name their notebook gives them: the 60 names above stay
# the core's
NAMESPACES = {"cgan": dl.conditional, "arch": dl.architectures, "art": dl.artefacts}


def public_callables():
    """Name -> function: ``dl``'s, and Chapters 5's and 6's as ``cgan.<name>`` (``cgan =
    dl.conditional``), ``arch.<name>`` and ``art.<name>``."""
    found = {name: getattr(dl, name) for name in dl.__all__}
    for short, module in NAMESPACES.items():
        found |= {f"{short}.{name}": getattr(module, name) for name in module.__all__}
    return {name: f for name, f in found.items() if callable(f) and not isinstance(f, dict)}


def chapter_of(obj) -> str:
    tags = TAG.findall(" ".join((inspect.getdoc(obj) or "").split()))  # a tag may wrap
    assert len(tags) == 1, f"{obj.__qualname__}: {len(tags)} chapter tags in its docstring"
    return tags[0]


def test_public_surface_is_small_and_explicit():
    public = {
        n
        for n in dir(dl)
        if not n.startswith("_") and not isinstance(getattr(dl, n), types.ModuleType)
    }
    assert public == set(dl.__all__)
    assert len(dl.__all__) <= 60, sorted(dl.__all__)


# modules added after issue 12's redesign, each with a bound of its own: Chapter 5's conditional
# GAN (issue 15) and the training display every chapter uses (issue 17; it replaced the redesign's
# SampleRecorder, which the core no longer counts); Chapter 6's contenders and artefact measures
# (issue 13); the command line's growing batch (issue 16)
CHAPTER_MODULES = {"conditional.py": 250, "progress.py": 120}
CHAPTER_MODULES |= {"architectures.py": 250, "artefacts.py": 130}
# Appendix A's fast model in the CLI: a batch that grows, then a longer average (issue 16)
CHAPTER_MODULES["growing_batch.py"] = 40
CHAPTER_MODULES["rejection.py"] = 85  # the CLI's sample: D's rejection sampling (issue 16)
CHAPTER_MODULES["clusters.py"] = 140  # the CLI's train --clusters: self-conditioning (issue 16)


def _non_blank(path):
    return sum(1 for line in path.read_text().splitlines() if line.strip())


def test_library_is_small():
    """Issue 12's measure: non-blank lines of the modules (not ``__main__.py``). The library it
    redesigned (it counted 3,726 before) at most 2,500; each feature added since brings a module
    of its own, with a bound of its own; cli.py about 150 lines."""
    modules = [path for path in LIBRARY if path.name != "__main__.py"]
    core = sum(_non_blank(path) for path in modules if path.name not in CHAPTER_MODULES)
    assert core <= 2500, f"dcgan_lib without the modules added later is {core} lines"
    for path in modules:
        if path.name in CHAPTER_MODULES:
            assert _non_blank(path) <= CHAPTER_MODULES[path.name], path.name
    cli = len((ROOT / "dcgan_lib" / "cli.py").read_text().splitlines())
    assert cli <= 160, f"cli.py is {cli} lines"


def test_every_public_function_names_its_chapter_in_one_spelling():
    for obj in public_callables().values():
        chapter_of(obj)
    loose = re.compile(r"\((?:[Dd]efined in )?(?:Chapter \d|Appendix A)\)|defined in Chapter")
    for path in LIBRARY:
        found = loose.findall(path.read_text())
        assert not found, f"{path.name}: chapter tags spelled otherwise: {found}"


def _cells(chapter):
    nb = json.loads(NOTEBOOKS[chapter].read_text())
    return [("".join(c["source"]), c["cell_type"]) for c in nb["cells"]]


SHOWN = re.compile(r"show_source\(([^)]*)\)")
USED = re.compile(r"\b(?:dl\.|(cgan\.|arch\.|art\.))([A-Za-z]\w*)")  # dl.name, cgan.name, ...


def _is_check(name):  # exercise self-checks: dl.check_* and cgan.check_*
    return name.split(".")[-1].startswith("check_")


def used(source):
    return ["".join(pair) for pair in USED.findall(source)]


@pytest.mark.parametrize("chapter", ORDER)
def test_chapter_shows_its_functions_before_calling_them(chapter):
    functions = public_callables()
    shown, previous_markdown = set(), ""
    for source, kind in _cells(chapter):
        if kind == "markdown":
            previous_markdown = source
            continue
        for call in SHOWN.findall(source):
            shown.update(used(call))
        for name in dict.fromkeys(used(source)):
            if name not in functions:
                continue
            home = chapter_of(functions[name])
            if ORDER.index(home) > ORDER.index(chapter):
                said = f"introduced in {home}"
                assert said in source or said in previous_markdown, (
                    f"{chapter} calls dl.{name} of {home} without saying '{said}'"
                )
            elif home == chapter and not _is_check(name):  # checks: not taught, used
                assert name in shown, f"{chapter} calls dl.{name} before showing its code"
    mine = {n for n, f in functions.items() if chapter_of(f) == chapter and not _is_check(n)}
    assert not mine - shown, f"{chapter} never shows {sorted(mine - shown)}"
