"""`make lab` opens the learner's copy (my-course/), and updating it never loses what the learner did."""

import importlib.util
import subprocess
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("learner_copy", ROOT / "scripts" / "learner_copy.py")
learner_copy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(learner_copy)


def write_course(course: Path, version: str) -> None:
    course.mkdir(exist_ok=True)
    for name in ("00-welcome", "01-the-lab"):
        notebook = new_notebook(cells=[new_markdown_cell(f"# {name} ({version})"), new_code_cell("x = 1")])
        nbformat.write(notebook, course / f"{name}.ipynb")


def edit(path: Path, source: str | None = None, output: str | None = None) -> None:
    notebook = nbformat.read(path, as_version=4)
    if source is not None:
        notebook.cells.append(new_code_cell(source))
    if output is not None:  # what Run All does: outputs and counts, no edit
        notebook.cells[1].outputs = [new_output("stream", name="stdout", text=output)]
        notebook.cells[1].execution_count = 1
    nbformat.write(notebook, path)


def test_the_copy_is_made_once_and_an_update_never_destroys_an_edit(tmp_path):
    course, copy = tmp_path / "notebooks", tmp_path / "my-course"
    write_course(course, "v1")
    assert learner_copy.update_copy(course, copy) == ["copied 00-welcome.ipynb", "copied 01-the-lab.ipynb"]
    assert learner_copy.update_copy(course, copy) == []  # nothing new: nothing touched

    # The learner runs 00 (outputs only), edits 01, and adds a notebook of their own.
    edit(copy / "00-welcome.ipynb", output="ran\n")
    edit(copy / "01-the-lab.ipynb", source="my_answer = 42")
    (copy / "scratch.ipynb").write_text("{}", encoding="utf-8")
    edited = (copy / "01-the-lab.ipynb").read_text(encoding="utf-8")

    write_course(course, "v2")
    messages = learner_copy.update_copy(course, copy)
    assert messages[0] == "updated 00-welcome.ipynb to the new version of the course"
    assert "01-the-lab.new.ipynb" in messages[1] and "you edited yours" in messages[1]
    assert "(v2)" in (copy / "00-welcome.ipynb").read_text(encoding="utf-8")
    assert (copy / "01-the-lab.ipynb").read_text(encoding="utf-8") == edited  # the edit is kept, byte for byte
    assert "(v2)" in (copy / "01-the-lab.new.ipynb").read_text(encoding="utf-8")
    assert (copy / "scratch.ipynb").read_text(encoding="utf-8") == "{}"

    # Running the copy step again changes nothing and says nothing.
    before = {path.name: path.read_bytes() for path in copy.glob("*.ipynb")}
    assert learner_copy.update_copy(course, copy) == []
    assert {path.name: path.read_bytes() for path in copy.glob("*.ipynb")} == before

    # The learner works in the offered version too; a third version of the course goes beside both.
    edit(copy / "01-the-lab.new.ipynb", source="also_mine = 1")
    write_course(course, "v3")
    messages = learner_copy.update_copy(course, copy)
    assert (copy / "01-the-lab.ipynb").read_text(encoding="utf-8") == edited
    assert "also_mine" in (copy / "01-the-lab.new.ipynb").read_text(encoding="utf-8")
    assert "(v3)" in (copy / "01-the-lab.new-2.ipynb").read_text(encoding="utf-8")
    assert "(v3)" in (copy / "00-welcome.ipynb").read_text(encoding="utf-8")  # untouched since v2: updated
    assert any("01-the-lab.new-2.ipynb" in message for message in messages)


def test_a_deleted_notebook_is_copied_again(tmp_path):
    course, copy = tmp_path / "notebooks", tmp_path / "my-course"
    write_course(course, "v1")
    learner_copy.update_copy(course, copy)
    (copy / "01-the-lab.ipynb").unlink()
    assert learner_copy.update_copy(course, copy) == ["copied 01-the-lab.ipynb"]


def test_the_learner_copy_is_ignored_by_git():
    result = subprocess.run(["git", "check-ignore", "-q", "my-course/00-welcome.ipynb"], cwd=ROOT)
    assert result.returncode == 0, "my-course/ must be in .gitignore"
