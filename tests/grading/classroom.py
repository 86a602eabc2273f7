"""Build a class's submissions for the batch grader's tests: notebooks with tagged answer cells."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def answer_cell(exercise_id: str, surface: str, source: str):
    """A code cell the bank finds by its tag and metadata, wherever it sits in the notebook."""
    return new_code_cell(source, metadata={"tags": ["answer"],
                                           "omnilab": {"exercise": exercise_id, "surface": surface}})


def notebook(exercise_id: str, answers: dict[str, str | None], *, shuffle: bool = False) -> str:
    """An exercise notebook with some prose and code around the answers; an answer given as None is
    left out (a deleted answer cell). `shuffle` puts the answer cells first (position must not matter)."""
    cells = [new_markdown_cell(f"# Exercise {exercise_id}\n\nRead the contract, then write your answer."),
             new_code_cell("import math  # the learner's scratch work\nprint(math.pi)")]
    answer_cells = [answer_cell(exercise_id, surface, source) for surface, source in answers.items()
                    if source is not None]
    cells = answer_cells + cells if shuffle else cells + answer_cells
    cells.append(new_code_cell("# omnilab.grading.check(...) would run here"))
    return nbformat.writes(new_notebook(cells=cells))


def write_learner(root: Path, learner: str, notebooks: dict[str, str], *, as_zip: bool = False) -> None:
    """`notebooks`: file name -> notebook text, written as ROOT/LEARNER/ or ROOT/LEARNER.zip."""
    if as_zip:
        with zipfile.ZipFile(root / f"{learner}.zip", "w") as archive:
            for name, text in notebooks.items():
                archive.writestr(f"{learner}/{name}", text)
        return
    folder = root / learner
    folder.mkdir(parents=True)
    for name, text in notebooks.items():
        (folder / name).write_text(text)
