"""`omnilab.grading.check` inside a real kernel: the caller's globals are the answer, the static
guard reads the answer's source from the notebook, and the report renders."""

import nbformat
import pytest
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
