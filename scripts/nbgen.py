"""Write a course notebook from a list of cells, the way every omnilab notebook is stored.

A notebook script (``scripts/lab_notebook.py``, ...) lists its cells as ``(cell id, kind, source)``
and calls ``main(PATH, CELLS)``:

    python scripts/<name>.py          # (re)write the notebook, running it to record checked outputs
    python scripts/<name>.py --check  # exit 1 if the stored cells differ from the script's

Stored notebooks have no outputs and ``execution_count: null``, except code cells that start with
``# NBVAL_CHECK_OUTPUT``: their stdout is recorded by running the notebook once (the simulator is
deterministic, so nbval finds the same text on every run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CHECK_OUTPUT = "# NBVAL_CHECK_OUTPUT"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def build(cells: list[tuple[str, str, str]], path: Path, run: bool) -> nbformat.NotebookNode:
    """The notebook for `cells`; with `run`, executed once to record the checked cells' stdout."""
    notebook = new_notebook(
        cells=[new_markdown_cell(src, id=cid) if kind == "markdown" else new_code_cell(src, id=cid)
               for cid, kind, src in cells],
        metadata={"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                  "language_info": {"name": "python"}})
    if run:
        from nbclient import NotebookClient

        executed = nbformat.from_dict(nbformat.reads(nbformat.writes(notebook), as_version=4))
        NotebookClient(executed, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        for stored, ran in zip(notebook.cells, executed.cells):
            if stored.cell_type == "code" and stored.source.startswith(CHECK_OUTPUT):
                stored.execution_count = ran.execution_count
                stored.outputs = [o for o in ran.outputs if o.output_type == "stream" and o.name == "stdout"]
                assert stored.outputs, f"{stored.id}: a checked cell must print something"
    nbformat.validate(notebook)
    return notebook


def sources(notebook: dict) -> list:
    return [(c["id"], c["cell_type"], c["source"]) for c in notebook["cells"]]


def main(path: Path, cells: list[tuple[str, str, str]], argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"write {path.name} from its script")
    parser.add_argument("--check", action="store_true", help="exit 1 if the stored cells differ")
    args = parser.parse_args(argv)
    if args.check:
        stored = nbformat.read(path, as_version=4) if path.exists() else {"cells": []}
        if sources(stored) != sources(build(cells, path, run=False)):
            print(f"{path} is out of date: run python scripts/{Path(sys.argv[0]).name}", file=sys.stderr)
            return 1
        return 0
    path.write_text(nbformat.writes(build(cells, path, run=True)) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0
