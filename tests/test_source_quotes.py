"""Every quotation of a source document in the notebooks occurs in that source.

The course quotes its five Chinese source documents (``../shared/seeds/``,
numbered 000-004) in two marked forms, and only in these:

- inline, in a Markdown cell: ``「quoted text」 (source 004)``;
- a block, in a Markdown cell: a fenced code block whose info string names the
  source, e.g. ```` ```python source=000 ````.

Whitespace is normalised on both sides (the transcriptions have broken line
breaks and indentation), Markdown's backslash escapes (``\\_``) are undone
and backticks dropped (a quotation may set code in backticks). The seeds are only beside the checkout on the team's machines and in
CI; on a student's machine this test is skipped and says why.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

INLINE = re.compile(r"「([^」]+)」\s*\(source (\d{3})\)")
BLOCK = re.compile(r"```[\w-]* source=(\d{3})\n(.*?)```", re.S)
MENTION = re.compile(r"source[ =](\d{3})")


def normalise(text: str) -> str:
    text = re.sub(r"\\([_*#\[\]`])", r"\1", text).replace("`", "")
    return " ".join(text.split())


def quotations(markdown: str):
    """(source number, quoted text) pairs in one Markdown cell."""
    found = [(m.group(2), m.group(1)) for m in INLINE.finditer(markdown)]
    found += [(m.group(1), m.group(2)) for m in BLOCK.finditer(markdown)]
    return found


def notebook_quotations():
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "markdown":
                for number, text in quotations("".join(cell["source"])):
                    yield path.name, index, number, text


def test_quotation_markers_are_parsed():
    cell = "The slides write 「Accuracy = (TP + TN) / TN」 (source 004).\n```python source=000\nx = 1\n```"
    assert quotations(cell) == [("004", "Accuracy = (TP + TN) / TN"), ("000", "x = 1\n")]
    assert normalise("batch\\_size  =\n 128") == "batch_size = 128"


@pytest.fixture(scope="module")
def sources():
    if not SEEDS.is_dir():
        pytest.skip(
            f"the source documents are not at {SEEDS} (only team machines and CI have them)"
        )
    texts = {p.name[:3]: normalise(p.read_text(encoding="utf-8")) for p in SEEDS.glob("[0-9]*.txt")}
    assert len(texts) == 5, f"expected five source documents in {SEEDS}, found {sorted(texts)}"
    return texts


def test_every_quotation_occurs_in_its_source(sources):
    quotes = list(notebook_quotations())
    assert len(quotes) >= 20, "the chapters quote the sources; the markers above must find them"
    wrong = [
        f"{nb} cell {i}: source {n} does not contain {text!r}"
        for nb, i, n, text in quotes
        if normalise(text) not in sources.get(n, "")
    ]
    assert not wrong, "\n".join(wrong)


def test_every_source_mentioned_by_number_exists(sources):
    for path in NOTEBOOKS:
        for number in MENTION.findall(path.read_text(encoding="utf-8")):
            assert number in sources, f"{path.name} names source {number}, which does not exist"
