"""`omnilab exercises build`: the notebooks are what the solution sources generate."""

import json
from pathlib import Path

import pytest

from omnilab.cli import main
from omnilab.grading import bank
from omnilab.grading.build import BEGIN, END, BuildError, build, build_one, instructor_sources, sources, strip_solution

ROOT = Path(__file__).resolve().parents[2]


def test_regenerating_changes_nothing():
    assert build(ROOT, check=True) == []


def test_the_check_command_agrees(capsys):
    assert main(["exercises", "build", "--root", str(ROOT), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_every_exercise_has_a_source_and_every_source_an_exercise():
    slugs = {path.stem for path in sources(ROOT)}
    assert slugs == {ex.slug for ex in bank.EXERCISES.values()}


def test_a_build_is_deterministic():
    for source in sources(ROOT):
        assert build_one(source, ROOT) == build_one(source, ROOT)


@pytest.mark.parametrize("source", sources(ROOT), ids=lambda p: p.stem)
def test_generated_notebooks_have_no_outputs_and_stable_ids(source):
    built = build_one(source, ROOT)
    for text in (built.solution_text, built.exercise_text):
        notebook = json.loads(text)
        ids = [cell["id"] for cell in notebook["cells"]]
        assert len(set(ids)) == len(ids)
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None
    exercise = json.loads(built.exercise_text)
    text = "".join("".join(c["source"]) for c in exercise["cells"])
    assert BEGIN not in text and END not in text
    assert "solution-only" not in json.dumps([c["metadata"] for c in exercise["cells"]])


def test_the_solution_region_becomes_raise_not_implemented_at_its_indentation():
    source = ("def f(x):\n    # Hint: think\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\n"
              "y = 1\n")
    assert strip_solution(source, "t") == "def f(x):\n    # Hint: think\n    raise NotImplementedError\n\ny = 1"


@pytest.mark.parametrize("bad", ["### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION\n",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n"])
def test_unbalanced_markers_are_refused(bad):
    with pytest.raises(BuildError):
        strip_solution(bad, "t")


def test_a_source_without_an_answer_cell_is_refused(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "09-nothing.py").write_text("# %%\nx = 1\n")
    with pytest.raises(BuildError, match="no answer cell"):
        build(tmp_path, check=True)
    assert main(["exercises", "build", "--root", str(tmp_path)]) == 2
    assert not (tmp_path / "exercises").exists()


def test_a_build_writes_both_notebooks_and_then_nothing(tmp_path):
    (tmp_path / "solutions").mkdir()
    source = ROOT / "solutions" / "01-quorums.py"
    (tmp_path / "solutions" / source.name).write_text(source.read_text())
    written = build(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "exercises/01-quorums.ipynb", "solutions/01-quorums.ipynb"]
    assert build(tmp_path) == []
    assert (tmp_path / "exercises" / "01-quorums.ipynb").read_text() == (
        ROOT / "exercises" / "01-quorums.ipynb").read_text()


def test_an_instructor_notebook_is_built_alone_with_no_exercise_twin(tmp_path):
    (tmp_path / "solutions").mkdir()
    source = ROOT / "solutions" / "instructor-summary.py"
    (tmp_path / "solutions" / source.name).write_text(source.read_text())
    written = build(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["solutions/instructor-summary.ipynb"]
    assert not (tmp_path / "exercises").exists()
    assert build(tmp_path) == []
    built = (tmp_path / "solutions" / "instructor-summary.ipynb").read_text()
    assert built == (ROOT / "solutions" / "instructor-summary.ipynb").read_text()
    notebook = json.loads(built)
    assert notebook["metadata"]["omnilab"] == {"kind": "instructor", "generated_from": "solutions/instructor-summary.py"}
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in notebook["cells"] if c["cell_type"] == "code")
    assert instructor_sources(ROOT) == [source] and source not in sources(ROOT)


@pytest.mark.parametrize("cell", ['# %% tags=["answer"] omnilab={"exercise": "ex01", "surface": "is_quorum"}\nx = 1\n',
                                  f"# %%\n{BEGIN}\nx = 1\n{END}\n"])
def test_an_instructor_notebook_with_an_answer_is_refused_and_nothing_is_written(tmp_path, cell):
    (tmp_path / "solutions").mkdir()
    source = ROOT / "solutions" / "01-quorums.py"
    (tmp_path / "solutions" / source.name).write_text(source.read_text())
    (tmp_path / "solutions" / "instructor-x.py").write_text(cell)
    with pytest.raises(BuildError, match="an instructor notebook has no answer cell"):
        build(tmp_path)
    assert sorted(p.name for p in (tmp_path / "solutions").iterdir()) == ["01-quorums.py", "instructor-x.py"]
