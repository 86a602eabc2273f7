"""`omnilab.grading.check` inside a real kernel: the caller's globals are the answer, the static
guard reads the answer's source from the notebook, and the report renders."""

import nbformat
from nbclient import NotebookClient

CELLS = [
    "import omnilab.grading\nfrom omnilab import FlexibleQuorum",
    # An answer that calls the reference quorum rule instead of writing one.
    "from omnilab.replica.config import Quorum\n"
    "def is_quorum(count, num_nodes, flexible_quorum, phase):\n"
    "    q = Quorum.of(num_nodes, flexible_quorum)\n"
    "    return q.is_prepare_quorum(count) if phase == 'prepare' else q.is_accept_quorum(count)",
    "report = omnilab.grading.check('ex01')\nprint(report.score, report.rows[0].reason)",
    # The same rule written out scores full marks.
    "def is_quorum(count, num_nodes, flexible_quorum, phase):\n"
    "    if flexible_quorum is None:\n        return count >= num_nodes // 2 + 1\n"
    "    return count >= (flexible_quorum.read_quorum_size if phase == 'prepare' else flexible_quorum.write_quorum_size)",
    "report = omnilab.grading.check('ex01')\nprint(report.score, report.max_score)\nreport",
]


def test_check_in_a_kernel_guards_the_reference_and_renders():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    guarded = "".join(o.get("text", "") for o in notebook.cells[2].outputs)
    assert guarded.startswith("0.0 the answer for is_quorum uses 'Quorum'")
    outputs = notebook.cells[4].outputs
    assert "".join(o.get("text", "") for o in outputs).startswith("10.0 10.0")
    html = next(o["data"]["text/html"] for o in outputs if o.output_type == "execute_result")
    assert "<table>" in html and "split-brain" in html



def test_untouched_exercise_notebooks_fail_only_with_not_implemented():
    """Run All on every generated exercise (one kernel, the notebooks one after another): every error
    is NotImplementedError, and each check cell reports 0 points, every reason "not implemented yet"."""
    from pathlib import Path

    paths = sorted((Path(__file__).resolve().parents[2] / "exercises").glob("*.ipynb"))
    assert paths
    combined = nbformat.v4.new_notebook()
    for path in paths:
        combined.cells += nbformat.read(path, as_version=4).cells
    NotebookClient(combined, timeout=300, kernel_name="python3", allow_errors=True).execute()
    errors = {o["ename"] for c in combined.cells for o in c.get("outputs", []) if o.output_type == "error"}
    assert errors == {"NotImplementedError"}
    check_cells = [c for c in combined.cells if "omnilab.grading.check(" in c.source]
    assert len(check_cells) == len(paths)
    for cell in check_cells:
        text = next(o["data"]["text/plain"] for o in cell.outputs if o.output_type == "execute_result")
        lines = text.splitlines()
        assert ": 0 / " in lines[0]
        rows = [line for line in lines[2:] if line.strip()]
        assert rows and all(line.rstrip().endswith("not implemented yet") for line in rows), text
