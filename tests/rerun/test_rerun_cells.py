"""Every cell can be run again: students re-run cells all the time (issue 17).

Each chapter runs in quick mode from top to bottom, as Run All does; then every code cell is run
a second time in the same kernel, from the last to the first, so that each meets what Run All
left behind, as a student re-running one cell after Run All does.
A cell that fails the second time (a file it reads was deleted by a later cell, a variable a later
cell changed) fails the test, naming the cell. It doubles the notebooks' quick-mode time, so
`make test` leaves it out: run it with `make test-rerun`.
"""

import os
import shutil

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_runs_again_after_run_all(path, tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_QUICK", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    shutil.copy(path, tmp_path / path.name)  # cells write runs/ and pictures beside the notebook
    nb = nbformat.read(tmp_path / path.name, as_version=4)
    cells = [
        (i, c)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "colab-setup" not in c.metadata.get("tags", [])
    ]
    client = NotebookClient(nb, timeout=900, resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel(env=dict(os.environ)):
        for index, cell in cells:  # Run All
            client.execute_cell(cell, index)
        for index, cell in reversed(cells):  # then each cell once more, last first: each
            # meets the state Run All left, as a student re-running one cell does (in order, a
            # cell would meet what the cells above it re-made, and hide what a later cell undid)
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as err:
                first = cell.source.splitlines()[0] if cell.source else ""
                last = str(err).strip().splitlines()[-1]
                pytest.fail(f"{path.name}: cell {index} ({first!r}) fails when run again: {last}")
