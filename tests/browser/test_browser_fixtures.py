"""The browser fixtures themselves: a failing cell must fail the test that ran it."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.browser


def test_run_all_fails_with_the_traceback_of_a_failing_cell(lab):
    notebook = new_notebook(
        cells=[new_code_cell("x = 1"), new_code_cell("x / 0"), new_code_cell("y = 2")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, lab.server.root_dir / "fails-on-purpose.ipynb")
    lab.open_notebook("fails-on-purpose.ipynb")

    with pytest.raises(AssertionError, match=r"cell 1: ZeroDivisionError: division by zero"):
        lab.run_all()

