"""The replica is sans-IO: no clock, no randomness, no threads, no network, no
printing, and nothing from the layers above it. Checked statically by walking the import graph of
every module under omnilab/replica, and at run time by importing the package in a fresh interpreter.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REPLICA = REPO / "omnilab" / "replica"

# Nothing under omnilab/replica may reach these, directly or through another replica module.
FORBIDDEN = {
    "time", "random", "threading", "asyncio", "socket", "datetime", "secrets", "uuid", "subprocess",
    "multiprocessing", "urllib", "http", "requests", "IPython", "ipywidgets", "pandas", "graphviz",
    "concurrent", "selectors", "signal", "importlib",
}
# The layers above the replica (the README's layout: replica/ imports nothing else of omnilab).
FORBIDDEN_OMNILAB = ("omnilab.sim", "omnilab.view", "omnilab.widgets", "omnilab.grading")
# Touching files is the business of the durable storage alone.
STORAGE_ONLY = {"sqlite3", "pickle", "os", "pathlib", "io", "shutil", "tempfile", "shelve", "dbm"}
STORAGE_MODULE = "omnilab.replica.persistent"
# Calls that talk to a terminal or stop the program: a replica returns values and raises instead.
FORBIDDEN_CALLS = {"print", "input", "breakpoint", "exit", "quit"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def replica_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(REPLICA.rglob("*.py"))}


MODULES = replica_modules()


def direct_imports(name: str, path: Path) -> set[str]:
    """Absolute names of everything `path` imports, anywhere in the file (functions included).

    ``from . import x`` yields both the package and ``package.x`` (x may be a submodule).
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def closure(start: str) -> dict[str, str]:
    """Every module reachable from `start` through omnilab.replica modules -> the replica module that
    imports it (for the failure message)."""
    seen: dict[str, str] = {}
    todo = [start]
    visited = set()
    while todo:
        mod = todo.pop()
        if mod in visited:
            continue
        visited.add(mod)
        for imp in direct_imports(mod, MODULES[mod]):
            seen.setdefault(imp, mod)
            if imp in MODULES:
                todo.append(imp)
    return seen


def test_the_walk_sees_every_replica_module():
    assert "omnilab.replica.storage" in MODULES
    assert "omnilab.replica.persistent" in MODULES
    # the walker resolves relative imports to replica modules
    assert "omnilab.replica.ballot" in closure("omnilab.replica.storage")


def test_the_walk_would_catch_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from time import monotonic\n    import random as r\n")
    assert {"time", "time.monotonic", "random"} <= direct_imports("omnilab.replica.bad", bad)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_clock_randomness_threads_network_or_upper_layers(name):
    bad = []
    for imp, via in sorted(closure(name).items()):
        top = imp.split(".")[0]
        if top in FORBIDDEN:
            bad.append(f"{imp} (imported by {via})")
        if imp == "omnilab" or imp.startswith(FORBIDDEN_OMNILAB) or (
                imp.startswith("omnilab.") and not imp.startswith("omnilab.replica")):
            bad.append(f"{imp} (imported by {via}): the replica imports nothing else of omnilab")
    assert not bad, f"{name} reaches forbidden modules: " + "; ".join(bad)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_durable_storage_touches_files(name):
    if name == STORAGE_MODULE:
        return
    bad = sorted(imp for imp in direct_imports(name, MODULES[name]) if imp.split(".")[0] in STORAGE_ONLY)
    assert not bad, f"{name} imports {bad}; only {STORAGE_MODULE} may do file IO"


def test_the_durable_storage_imports_only_what_it_needs():
    allowed = {"sqlite3", "pickle", "os", "pathlib", "__future__", "typing", "zlib"}
    imports = direct_imports(STORAGE_MODULE, MODULES[STORAGE_MODULE])
    outside = sorted(i for i in imports
                     if not i.startswith("omnilab.replica") and i.split(".")[0] not in allowed)
    assert not outside, f"persistent.py imports {outside}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_printing(name):
    tree = ast.parse(MODULES[name].read_text())
    calls = [
        f"line {node.lineno}: {node.func.id}(...)"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS
    ]
    stdout = [
        f"line {node.lineno}: sys.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sys"
        and node.attr in {"stdout", "stderr", "stdin", "exit"}
    ]
    assert not calls + stdout, f"{name} talks to the terminal: {calls + stdout}"


_RUNTIME_PROBE = """
import importlib, sys, types
# Load omnilab.replica without running omnilab/__init__.py, so only the replica's own imports count.
pkg = types.ModuleType("omnilab")
pkg.__path__ = [sys.argv[1]]
sys.modules["omnilab"] = pkg
for name in sys.argv[2:]:
    importlib.import_module(name)
print("\\n".join(sorted(sys.modules)))
"""


def test_importing_the_replica_loads_no_upper_layer_or_front_end_library():
    omnilab_dir = str(REPO / "omnilab")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", _RUNTIME_PROBE, omnilab_dir, *sorted(MODULES)],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    heavy = sorted(m for m in loaded
                   if m.split(".")[0] in {"IPython", "ipywidgets", "pandas", "graphviz", "numpy",
                                          "requests", "asyncio", "threading", "socket", "random"}
                   or m.startswith(FORBIDDEN_OMNILAB))
    # sqlite3 pulls in time/datetime from the standard library; those are not the replica's doing.
    assert not heavy, f"importing omnilab.replica loaded {heavy}"
