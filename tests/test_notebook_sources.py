"""Every course notebook is what `make notebooks` builds from its source in course/, so regenerating
changes nothing. Its checked outputs are compared by nbval itself (`make test` runs every notebook)."""

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

BUILT = build.build_course()


def test_every_notebook_has_a_source_and_every_source_a_notebook():
    sources = {path.stem for path in build.course_sources()}
    notebooks = {path.stem for path in (ROOT / "notebooks").glob("*.ipynb")}
    assert sources == notebooks
    assert len(sources) == 10


@pytest.mark.parametrize("path, notebook", BUILT, ids=[path.name for path, _ in BUILT])
def test_notebook_is_what_its_source_builds(path, notebook):
    stored = nbformat.read(path, as_version=4)
    assert build.without_outputs(stored) == build.without_outputs(notebook), \
        f"{path.name} differs from course/{path.stem}.py: run `make notebooks`"
    assert build.fill_checked_outputs(notebook, path.parent, stored) is False  # reused: nothing ran
    assert build.render(notebook) == path.read_text(encoding="utf-8"), f"{path.name}: run `make notebooks`"


@pytest.mark.parametrize("path", [path for path, _ in BUILT], ids=lambda p: p.name)
def test_only_checked_cells_carry_outputs_and_each_has_them(path):
    # nbval compares a cell only when it has an execution count: a tagged cell without one would
    # pass without being checked.
    notebook = json.loads(path.read_text(encoding="utf-8"))
    checked = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        if build.is_checked(cell):
            checked += 1
            assert cell["execution_count"] is not None and cell["outputs"], cell["id"]
        else:
            assert cell["execution_count"] is None and cell["outputs"] == [], cell["id"]
        assert "NBVAL_CHECK_OUTPUT" not in "".join(cell["source"]), cell["id"]
    assert checked > 0


def test_navigation_is_generated():
    names = [path.name for path, _ in BUILT]
    welcome = BUILT[0][1]
    contents = next(cell.source for cell in welcome.cells if "| Notebook | Goals | Time |" in cell.source)
    for name in names[1:]:
        assert f"]({name})" in contents
    for index, (path, notebook) in enumerate(BUILT):
        last = notebook.cells[-1].source
        assert ("Previous: [" in last) == (index > 0), path.name
        assert (f"]({names[index + 1]})" in last) if index + 1 < len(names) else ("Next:" not in last)


def test_a_source_becomes_cells_with_stable_ids_and_tags(tmp_path):
    source = tmp_path / "42-example.py"
    source.write_text('# %% [markdown]\n# # 42 · Example\n\n# %% tags=["nbval-check-output"]\nprint(1)\n\n'
                      "# %%\nx = 2\n", encoding="utf-8")
    notebook = build.notebook_from_source(source)
    assert [(c.id, c.cell_type, c.source, c.metadata.get("tags")) for c in notebook.cells] == [
        ("42-example-00", "markdown", "# 42 · Example", None),
        ("42-example-01", "code", "print(1)", ["nbval-check-output"]),
        ("42-example-02", "code", "x = 2", None),
    ]
    assert build.render(notebook) == build.render(build.notebook_from_source(source))


def test_a_check_comment_in_a_source_is_refused(tmp_path):
    source = tmp_path / "43-old.py"
    source.write_text("# %%\n# NBVAL_CHECK_OUTPUT\nprint(1)\n", encoding="utf-8")
    with pytest.raises(ValueError, match="use the cell tag"):
        build.notebook_from_source(source)


def test_the_course_cites_only_public_references():
    # The course cites the OmniPaxos documentation and paper, or the README; never internal notes.
    internal = re.compile(r"PROTOCOL\.md|DESIGN\.md|STYLE\.md|TOOLCHAIN\.md|\bquirk\b|§", re.IGNORECASE)
    for source in build.course_sources():
        found = internal.search(source.read_text(encoding="utf-8"))
        assert found is None, f"{source.name} cites {found.group(0)!r}"
