"""`make lab` works on copies (scripts/working_copies.py); `make slides` refuses unfit notebooks."""

import importlib.util
import json

import nbformat
import pytest
from helpers import ROOT


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


copies = _script("working_copies")


def _chapter(folder, name="01_x.ipynb", text="print(1)"):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text)])
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_copies_are_made_once_and_never_overwritten(tmp_path):
    source, workspace, said = tmp_path / "notebooks", tmp_path / "workspace", []
    source.mkdir()
    chapter = _chapter(source)
    assert copies.sync(source, workspace, out=said.append) == ["01_x.ipynb"]
    copy = workspace / "01_x.ipynb"
    assert json.loads(copy.read_text())["cells"] == json.loads(chapter.read_text())["cells"]
    copy.write_text(copy.read_text().replace("print(1)", "print('mine')"))  # a student's edit
    assert copies.sync(source, workspace, out=said.append) == []
    assert "print('mine')" in copy.read_text()
    assert not any("changed" in line for line in said)  # the course did not change


def test_a_course_update_is_reported_and_fresh_keeps_the_old_copy(tmp_path):
    source, workspace, said = tmp_path / "notebooks", tmp_path / "workspace", []
    source.mkdir()
    _chapter(source)
    copies.sync(source, workspace, out=said.append)
    (workspace / "01_x.ipynb").write_text(
        (workspace / "01_x.ipynb").read_text().replace("print(1)", "print('mine')")
    )
    _chapter(source, text="print(2)")  # the course changes the chapter
    copies.sync(source, workspace, out=said.append)
    assert any("changed since your copy" in line and "make fresh" in line for line in said)
    assert "print('mine')" in (workspace / "01_x.ipynb").read_text()  # still not overwritten
    copies.sync(source, workspace, fresh=["01_x.ipynb"], out=said.append)
    assert "print(2)" in (workspace / "01_x.ipynb").read_text()
    (kept,) = (workspace / "replaced").iterdir()
    assert "print('mine')" in kept.read_text()  # nothing the student made is lost
    with pytest.raises(SystemExit, match="no chapter 09_y.ipynb"):
        copies.sync(source, workspace, fresh=["09_y.ipynb"], out=said.append)


def test_the_committed_chapters_are_what_lab_copies():
    names = [path.name for path in copies.chapters(ROOT / "notebooks")]
    assert "01_first_gan.ipynb" in names and "06_conditional_gan.ipynb" in names
    assert "workspace/" in (ROOT / ".gitignore").read_text().split()


@pytest.mark.parametrize(
    "output, why",
    [
        (nbformat.v4.new_output("error", ename="NotFoundError", evalue="x", traceback=[]), "error"),
        (nbformat.v4.new_output("stream", name="stdout", text="Run mode QUICK (...)\n"), "quick"),
    ],
)
def test_slides_refuse_notebooks_that_are_not_full_runs(output, why):
    build_slides = _script("build_slides")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[output])])
    assert why in build_slides.unfit_for_slides(nb)
    fine = nbformat.v4.new_output("stream", name="stdout", text="Run mode FULL: ...\n")
    assert (
        build_slides.unfit_for_slides(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[fine])])
        )
        is None
    )
    for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):  # the committed ones are fit
        assert build_slides.unfit_for_slides(nbformat.read(path, as_version=4)) is None, path.name


def test_make_slides_stops_before_building_from_an_unfit_notebook(tmp_path, capsys):
    build_slides = _script("build_slides")
    bad = nbformat.v4.new_output("error", ename="NotFoundError", evalue="gone", traceback=[])
    path = tmp_path / "04_x.ipynb"
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[bad])]), path
    )
    with pytest.raises(SystemExit) as stop:
        build_slides.build([path], tmp_path / "decks", quiet=True)
    assert stop.value.code == 2 and not (tmp_path / "decks").exists()
    err = capsys.readouterr().err
    assert "04_x.ipynb: a cell's saved output is an error (NotFoundError)" in err
    assert "git checkout -- notebooks/" in err
