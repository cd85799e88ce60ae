"""Static checks of the committed notebooks (nbval executes them separately)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no chapter"


def test_colab_cells_in_sync_with_pyproject():
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_colab_cells.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_outputs_come_from_a_full_run(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    texts = []
    for cell in code:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name} was saved with an error"
            if out["output_type"] == "stream":
                text = "".join(out["text"])
                assert out["name"] != "stderr" or "WARNING: All log messages" not in text, (
                    f"{path.name}: TensorFlow start-up noise in a saved output"
                )
                texts.append(text)
    joined = "\n".join(texts)
    assert "Run mode FULL" in joined, f"{path.name} was not saved from a full-length run"
    assert "Run mode QUICK" not in joined
    counts = [
        c["execution_count"]
        for c in code
        if c["source"] and "colab-setup" not in c.get("metadata", {}).get("tags", [])
    ]
    assert all(isinstance(n, int) for n in counts), f"{path.name}: some cells were never run"
    assert counts == sorted(counts), f"{path.name}: cells were run out of order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checked_cells_have_outputs_to_compare(path):
    nb = json.loads(path.read_text())
    checked = [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and "".join(c["source"]).startswith("# NBVAL_CHECK_OUTPUT")
    ]
    assert checked, f"{path.name} marks no cell for nbval to compare"
    for c in checked:
        assert isinstance(c["execution_count"], int) and c["outputs"], (
            f"{path.name}: a cell marked NBVAL_CHECK_OUTPUT has no saved output"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_shape(path):
    nb = json.loads(path.read_text())
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for heading in (
        "## Aim",
        "## Theory",
        "## Setup",
        "## Discussion",
        "## Summary",
        "## Exercises",
        "## Quiz",
    ):
        assert heading in md, f"{path.name} lacks a '{heading}' section"


def test_nbval_sanitizer_drops_tensorflow_warnings():
    """The Makefile's nbval run compares checked cells after nbval_sanitize.cfg's
    replacements; its empty replacement only parses with the space after 'replace:'."""
    import re

    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((ROOT / "nbval_sanitize.cfg").read_text())
    assert patterns, "nbval_sanitize.cfg holds no regex/replace pair nbval can read"
    text = (
        "WARNING:tensorflow:5 out of the last 7 calls to <function f at 0x7f7e2a113100> "
        "triggered tf.function retracing.\nD step changed: {'discriminator': True}\n"
    )
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    assert text == "D step changed: {'discriminator': True}\n"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_training_cells_show_progress_and_keep_one_picture_of_it(path):
    """Issue 17: a training cell (``fit`` or Chapter 1's loop, beyond a few steps) shows a
    ``dl.Progress``; its saved output holds that progress as one picture updated in place,
    not a picture per update."""
    nb = json.loads(path.read_text())
    for cell in (c for c in nb["cells"] if c["cell_type"] == "code"):
        source = "".join(cell["source"])
        trains = ".fit(" in source or "dl.train_with_train_on_batch(" in source
        if not trains or "steps_per_epoch=2" in source:
            continue
        assert "dl.Progress(" in source, f"{path.name}: a training cell without dl.Progress"
        bars = [
            o
            for o in cell.get("outputs", [])
            if "spent" in "".join(o.get("data", {}).get("text/plain", ""))
        ]
        where = f"{path.name}, {source[:60]!r}"
        assert bars, f"{where}: no saved progress"
        assert len(bars) <= 3, f"{where}: {len(bars)} progress outputs, not one updated in place"
        assert all("image/png" in o["data"] for o in bars), f"{where}: progress without a picture"
