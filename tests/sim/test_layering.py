"""The simulator sits below the views: nothing in omnilab/sim imports omnilab.view (or the widgets
and the grader above it), and importing the simulator loads none of them. Its table methods reach
the views through `omnilab.presentation`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import omnilab.presentation as presentation
from omnilab.sim import Cluster

SIM = Path(__file__).resolve().parents[2] / "omnilab" / "sim"
ABOVE = ("omnilab.view", "omnilab.widgets", "omnilab.grading", "omnilab.cli")


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in `path`, at any depth (inside functions too); relative
    imports are resolved against omnilab.sim."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["omnilab", "sim"][: 2 - (node.level - 1)] if node.level <= 2 else []
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            if module == "omnilab":  # from omnilab import view
                found += [(node.lineno, f"omnilab.{alias.name}") for alias in node.names]
    return found


def _is_above(module: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in ABOVE)


def test_no_file_of_the_simulator_imports_a_layer_above_it():
    files = sorted(SIM.rglob("*.py"))
    assert len(files) > 10
    offending = [f"{path.relative_to(SIM.parent)}:{line} imports {module}"
                 for path in files for line, module in _imported_modules(path) if _is_above(module)]
    assert offending == []


def test_the_import_scan_sees_an_import_of_the_views(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from omnilab.view.tables import logs\n    from omnilab import widgets\n"
                      "    import omnilab.grading.batch\n    from ..view import text\n")
    assert [m for _, m in _imported_modules(sample) if _is_above(m)] == [
        "omnilab.view.tables", "omnilab.widgets", "omnilab.grading.batch", "omnilab.view"]


def test_importing_the_simulator_loads_no_view():
    probe = ("import sys, omnilab.sim, omnilab.sim.explore, omnilab.sim.campaigns\n"
             "from omnilab.sim import Cluster\n"
             "Cluster([1, 2, 3]).run(ticks=3)\n"
             f"print(sorted(m for m in sys.modules if m.startswith({ABOVE!r}) or m in ('pandas', 'graphviz', 'ipywidgets')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_table_methods_reach_the_views_through_the_presentation_registry():
    from omnilab.view import history, tables

    assert presentation.presenter("pending") is tables.messages
    assert presentation.presenter("logs") is tables.logs
    assert presentation.presenter("history") is history.history
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    assert cluster.pending().equals(tables.messages(cluster))
    assert cluster.logs().equals(tables.logs(cluster))
    assert cluster.history().equals(history.history(cluster))


def test_every_registered_presenter_imports():
    for name in presentation.PRESENTERS:
        assert callable(presentation.presenter(name))


def test_an_unknown_presenter_is_named():
    with pytest.raises(LookupError, match="no presenter named 'nope'; known: history, lab, logs, pending"):
        presentation.presenter("nope")


def test_an_envelope_reads_without_the_views():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    env = next(iter(cluster.network))
    assert repr(env) == f"#{env.id} {env.sender}->{env.receiver} c1 {env.payload!r}"
    assert type(env.payload).__name__ == env.kind == "AcceptDecide"
