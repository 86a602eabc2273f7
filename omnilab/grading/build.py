"""``omnilab exercises build``: the exercise notebooks, generated from the solution sources.

Solutions are the source. Each ``solutions/NN-slug.py`` is a jupytext percent-format script
(``# %%`` code cells, ``# %% [markdown]`` text cells). Answer cells carry cell metadata::

    # %% tags=["answer"] omnilab={"exercise": "ex01", "surface": "is_quorum"}

and mark the solution the way nbgrader does, with ``### BEGIN SOLUTION`` / ``### END SOLUTION``
lines. From each source the build writes two notebooks:

* ``solutions/NN-slug.ipynb``: the source as it is (the markers stay: they are comments);
* ``exercises/NN-slug.ipynb``: every solution region replaced by ``raise NotImplementedError`` at the
  region's indentation (the comments before the region, the hints, stay), and every cell tagged
  ``solution-only`` (the last cell, asserting full marks) left out.

An *instructor notebook*, ``solutions/instructor-NAME.py`` (for example the class summary, which
grades a small generated class and shows the pass rate per check and the score distribution), is
built the same way into ``solutions/instructor-NAME.ipynb`` and has no exercise twin: it holds no
answer cell and no solution region (the build refuses one), and learners never receive it.

Every notebook is deterministic: cell ids derived from the cell's position (answer cells: from the
surface), no outputs, no execution counts, fixed metadata; building twice writes the same bytes,
and ``--check`` reports any notebook that a build would change.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SOLUTION_ONLY = "solution-only"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class BuildError(ValueError):
    """A solution source that cannot be turned into an exercise (its message says where and why)."""


@dataclass(frozen=True)
class Built:
    """The two notebooks of one source, as the text to write."""

    source: Path
    solution: Path
    exercise: Path
    solution_text: str
    exercise_text: str


def sources(root: Path) -> list[Path]:
    """Every solution source under `root`, in name order."""
    return sorted((root / "solutions").glob("[0-9][0-9]-*.py"))


def instructor_sources(root: Path) -> list[Path]:
    """Every instructor notebook source under `root` (``solutions/instructor-*.py``), in name order."""
    return sorted((root / "solutions").glob("instructor-*.py"))


def strip_solution(source: str, where: str) -> str:
    """`source` with every BEGIN/END SOLUTION region replaced by ``raise NotImplementedError``."""
    out: list[str] = []
    inside: Optional[str] = None
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside is not None:
                raise BuildError(f"{where}, line {number}: {BEGIN} inside another solution region")
            inside = line[: len(line) - len(line.lstrip())]
            out.append(f"{inside}raise NotImplementedError")
        elif stripped == END:
            if inside is None:
                raise BuildError(f"{where}, line {number}: {END} without {BEGIN}")
            inside = None
        elif inside is None:
            out.append(line)
    if inside is not None:
        raise BuildError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def _cell_id(cell, index: int) -> str:
    surface = (cell.metadata.get("omnilab") or {}).get("surface")
    if surface:
        return "answer-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(surface))
    return f"cell-{index:02d}"


def _clean(cell, index: int):
    cell = copy.deepcopy(cell)
    keep = {k: v for k, v in cell.metadata.items() if k in ("tags", "omnilab")}
    cell.metadata = keep
    cell.id = _cell_id(cell, index)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    return cell


def _notebook_text(notebook) -> str:
    import nbformat

    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def build_one(source: Path, root: Path) -> Built:
    """Read `source` and return its solution and exercise notebooks (nothing is written)."""
    import jupytext
    import nbformat

    where = str(source.relative_to(root))
    notebook = jupytext.read(source, fmt="py:percent")
    slug = source.stem
    answers = [c for c in notebook.cells if "answer" in (c.metadata.get("tags") or [])]
    if not answers:
        raise BuildError(f"{where}: no answer cell (a code cell tagged answer with omnilab metadata)")
    exercise_ids = set()
    for cell in answers:
        meta = cell.metadata.get("omnilab") or {}
        if cell.cell_type != "code" or not meta.get("exercise") or not meta.get("surface"):
            raise BuildError(f"{where}: every answer cell is a code cell with "
                             "omnilab={\"exercise\": ..., \"surface\": ...} metadata")
        if BEGIN not in cell.source:
            raise BuildError(f"{where}: the answer cell for {meta['surface']} has no {BEGIN} region")
        exercise_ids.add(meta["exercise"])
    if len(exercise_ids) != 1:
        raise BuildError(f"{where}: answer cells name several exercises: {sorted(exercise_ids)}")
    exercise_id = exercise_ids.pop()
    metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}

    def assemble(cells: Iterable, kind: str) -> str:
        nb = nbformat.v4.new_notebook()
        nb.metadata = {**copy.deepcopy(metadata),
                       "omnilab": {"exercise": exercise_id, "kind": kind, "generated_from": where}}
        nb.cells = [_clean(cell, index) for index, cell in enumerate(cells)]
        return _notebook_text(nb)

    solution_cells = list(notebook.cells)
    exercise_cells = []
    for cell in notebook.cells:
        if SOLUTION_ONLY in (cell.metadata.get("tags") or []):
            continue
        if any(cell is a for a in answers):
            cell = copy.deepcopy(cell)
            cell.source = strip_solution(cell.source, f"{where} ({cell.metadata['omnilab']['surface']})")
        elif BEGIN in cell.source:
            raise BuildError(f"{where}: a {BEGIN} region outside an answer cell")
        exercise_cells.append(cell)
    return Built(source, root / "solutions" / f"{slug}.ipynb", root / "exercises" / f"{slug}.ipynb",
                 assemble(solution_cells, "solution"), assemble(exercise_cells, "exercise"))


def build_instructor(source: Path, root: Path) -> tuple[Path, str]:
    """Read the instructor notebook `source`; return the path and text of its notebook (nothing is
    written). An answer cell or a solution region in it is refused: it would never reach a learner."""
    import jupytext
    import nbformat

    where = str(source.relative_to(root))
    notebook = jupytext.read(source, fmt="py:percent")
    for cell in notebook.cells:
        if "answer" in (cell.metadata.get("tags") or []) or BEGIN in cell.source:
            raise BuildError(f"{where}: an instructor notebook has no answer cell and no {BEGIN} region "
                             "(an exercise is a solutions/NN-slug.py)")
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"},
                   "omnilab": {"kind": "instructor", "generated_from": where}}
    nb.cells = [_clean(cell, index) for index, cell in enumerate(notebook.cells)]
    return root / "solutions" / f"{source.stem}.ipynb", _notebook_text(nb)


def build(root: Path, check: bool = False) -> list[Path]:
    """Regenerate every notebook; return the paths whose content changed (with `check`, nothing is
    written and the returned paths are those a build would change). Every source is read before
    anything is written, so a source the build refuses leaves every notebook as it was."""
    outputs: list[tuple[Path, str]] = []
    for source in sources(root):
        built = build_one(source, root)
        outputs += [(built.solution, built.solution_text), (built.exercise, built.exercise_text)]
    outputs += [build_instructor(source, root) for source in instructor_sources(root)]
    changed = []
    for path, text in outputs:
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            changed.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return changed
