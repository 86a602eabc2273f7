"""A learner may click in any lab a notebook shows, then carry on running the cells below it: no
later cell may fail or show anything else because of those clicks (each section that a lab can
change works on a cluster of its own). This runs the notebooks that have code after a lab, with a
burst of clicks injected right after every lab they display, and compares each later checked cell
with its stored output."""

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

# Presses a learner might make: crash a node, run, write, deliver. Each only returns a status text.
CLICKS = '''\
_clicked = _
assert type(_clicked).__name__ == "Lab", f"expected the lab this cell displayed, got {type(_clicked)}"
for _name, _inputs in [("crash", {"node": 1}), ("run", {"ticks": 2}), ("put", {"key": "clicked", "value": "1"}),
                       ("deliver_all", {}), ("tick", {})]:
    _clicked.press(_name, **_inputs)
'''


def shows_a_lab(cell: dict, lab_names: set) -> bool:
    """The cell's last line displays a lab: ``omnilab.lab(...)`` or a name bound to one before."""
    lines = [line for line in cell["source"].splitlines() if line.strip() and not line.startswith("#")]
    last = lines[-1].strip() if lines else ""
    return cell["cell_type"] == "code" and (last.startswith("omnilab.lab(") or last in lab_names)


def labs_and_later_code(path: Path) -> tuple[list, bool]:
    notebook = nbformat.read(path, as_version=4)
    names = {m.group(1) for c in notebook.cells if c.cell_type == "code"
             for m in re.finditer(r"^(\w+) = omnilab\.lab\(", c.source, re.MULTILINE)}
    shown = [k for k, cell in enumerate(notebook.cells) if shows_a_lab(cell, names)]
    later_code = bool(shown) and any(c.cell_type == "code" for c in notebook.cells[shown[0] + 1:])
    return shown, later_code


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CLICKED = [path for path in NOTEBOOKS if labs_and_later_code(path)[1]]


def test_every_lab_is_found_and_only_some_notebooks_need_running():
    shown = {path.stem: labs_and_later_code(path)[0] for path in NOTEBOOKS}
    assert all(shown[name] for name in shown if "01" <= name[:2] <= "08"), shown  # each of 01-08 shows a lab
    assert "01-the-lab" in [path.stem for path in CLICKED]  # its sections each show or use a lab


def comparable(outputs: list) -> list:
    # What nbval compares: streams and text/plain (the HTML is blanked by tests/nbval_sanitize.cfg).
    return [(o.get("name"), "".join(o.get("text", "")), "".join(o.get("data", {}).get("text/plain", "")))
            for o in build.merge_streams([nbformat.from_dict(o) for o in outputs])]


@pytest.mark.parametrize("path", CLICKED, ids=lambda p: p.name)
def test_clicking_in_a_lab_changes_no_later_cell(path):
    stored = nbformat.read(path, as_version=4)
    shown, _ = labs_and_later_code(path)
    clicked = nbformat.from_dict(stored)
    for index in reversed(shown):
        clicked.cells.insert(index + 1, new_code_cell(CLICKS))
    run = build.run_notebook(clicked, path.parent)  # raises with the traceback if any cell fails
    ran = [cell for cell in run.cells if cell.source != CLICKS]
    first_lab = shown[0]
    for before, after in zip(stored.cells[first_lab + 1:], ran[first_lab + 1:]):
        if build.is_checked(before):
            assert comparable(after.outputs) == comparable(before.outputs), f"{before.id} changed after the clicks"
