"""Write the Colab setup cell of every chapter from pyproject.toml.

The course's repository address and the pinned version live in one place,
pyproject.toml ([project.urls] Repository, [project] version). Each notebook's
first code cell, tagged ``colab-setup``, installs dcgan_lib from there on Colab
only. Run this after changing either; tests/test_notebooks.py checks that the
cells are in sync.

    python scripts/sync_colab_cells.py          # rewrite the cells
    python scripts/sync_colab_cells.py --check  # exit 1 if any is stale
"""

import argparse
import sys
from pathlib import Path

import nbformat
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def colab_cell_source() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    url, version = project["urls"]["Repository"], project["version"]
    return (
        "# Colab only: install the course library, pinned to this course version.\n"
        "# TensorFlow is already on Colab. Elsewhere `make lab` has installed everything.\n"
        "# (Written by scripts/sync_colab_cells.py from pyproject.toml.)\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "dcgan-lib @ git+{url}@v{version}"\n'
    ).rstrip("\n")


def colab_badge(notebook: Path) -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    repo = project["urls"]["Repository"].removeprefix("https://github.com/")
    return (
        f"https://colab.research.google.com/github/{repo}/blob/"
        f"v{project['version']}/notebooks/{notebook.name}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    want, stale = colab_cell_source(), []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if "colab-setup" in c.metadata.get("tags", [])]
        if len(cells) != 1:
            sys.exit(f"{path.name}: needs exactly one cell tagged colab-setup, found {len(cells)}")
        if cells[0].source != want:
            stale.append(path.name)
            if not args.check:
                cells[0].source = want
                nbformat.write(nb, path)
    if args.check and stale:
        sys.exit(f"stale Colab cells in {stale}: run python scripts/sync_colab_cells.py")
    print(("stale: " if args.check else "updated: ") + (", ".join(stale) or "none"))


if __name__ == "__main__":
    main()
