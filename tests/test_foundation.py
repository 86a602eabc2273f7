"""The project's foundation: the package, its command line, the layout, and how notebooks are stored."""

from __future__ import annotations

import importlib
import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import omnilab
from omnilab import cli

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NOTEBOOK_DIRS = ("notebooks", "solutions", "exercises")
CHECK_OUTPUT = "nbval-check-output"  # the nbval cell tag of cells whose stored output is compared


def run(*command: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


# --- package and command line --------------------------------------------------------------


def test_version_is_the_installed_distributions_version():
    assert omnilab.__version__ == importlib.metadata.version("omnilab")


@pytest.mark.parametrize("command", [[str(BIN / "omnilab")], [sys.executable, "-m", "omnilab"]])
def test_omnilab_help_works(command):
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: omnilab")
    assert "OmniPaxos" in result.stdout


def test_omnilab_version_prints_the_version():
    result = run(str(BIN / "omnilab"), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"omnilab {omnilab.__version__}"


def test_omnilab_without_a_command_prints_help_and_succeeds(capsys):
    assert cli.main([]) == 0
    assert capsys.readouterr().out.startswith("usage: omnilab")


def test_an_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["no-such-command"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_registered_command_gets_its_arguments_and_sets_the_exit_code(capsys):
    seen = []

    def add_echo_command(subparsers):
        parser = subparsers.add_parser("echo", help="say the word back")
        parser.add_argument("word")
        parser.set_defaults(handler=lambda args: seen.append(args.word) or 3)

    assert cli.main(["echo", "paxos"], commands=[add_echo_command]) == 3
    assert seen == ["paxos"]
    cli.main([], commands=[add_echo_command])
    assert "say the word back" in capsys.readouterr().out


def test_import_omnilab_pulls_in_no_front_end_library():
    # `omnilab --help` and the replica must stay quick to import: the widget stack loads only
    # when a notebook asks for it.
    front_end = ["ipywidgets", "IPython", "ipykernel", "jupyterlab", "jupyter_server", "playwright"]
    probe = f"import sys, omnilab.cli; print([m for m in {front_end!r} if m in sys.modules])"
    result = run(sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "omnilab/replica", "omnilab/sim", "omnilab/view", "omnilab/widgets", "omnilab/grading",
    "notebooks", "exercises", "solutions", "tests", "bench",
    "environment.yml", "pyproject.toml", "Makefile", "README.md", ".ci/run",
])
def test_the_design_layout_exists(path):
    assert (REPO / path).exists()


@pytest.mark.parametrize("module", ["omnilab.view", "omnilab.widgets", "omnilab.grading"])
def test_layer_packages_import(module):
    assert importlib.import_module(module).__doc__


def test_ci_script_is_executable_and_strict():
    script = REPO / ".ci" / "run"
    assert script.stat().st_mode & 0o111
    assert "set -euo pipefail" in script.read_text()


# --- notebooks -------------------------------------------------------------------------------


def all_notebooks() -> list[Path]:
    return sorted(path for folder in NOTEBOOK_DIRS for path in (REPO / folder).glob("*.ipynb"))


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: str(p.relative_to(REPO)))
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        where = f"{path.name} cell {index}"
        assert not cell.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT"), \
            f"{where}: mark checked cells with the {CHECK_OUTPUT!r} tag, not a comment the learner reads"
        if CHECK_OUTPUT in cell.metadata.get("tags", []):
            assert cell.outputs, f"{where} is tagged {CHECK_OUTPUT} but stores no output to compare"
            assert cell.execution_count is not None, f"{where}: nbval only compares cells with an execution count"
        else:
            assert not cell.outputs, f"{where} stores outputs; clear them (only {CHECK_OUTPUT} cells keep theirs)"
            assert cell.execution_count is None, f"{where} stores an execution count"


# --- make ------------------------------------------------------------------------------------


@pytest.fixture
def make_sandbox(tmp_path):
    """A directory with the Makefile and what its rules depend on, but none of the notebooks."""
    if shutil.which("make") is None:
        pytest.fail("`make` is not installed")
    shutil.copy(REPO / "Makefile", tmp_path)
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "setup.sh", tmp_path / "scripts")
    for folder in ("notebooks", *NOTEBOOK_DIRS, "bench"):
        (tmp_path / folder).mkdir(exist_ok=True)
    return tmp_path


def pytest_command_of_make_test(directory: Path) -> str:
    result = run("make", "--dry-run", "test", cwd=directory)
    assert result.returncode == 0, result.stderr
    [command] = [line for line in result.stdout.splitlines() if "-m pytest" in line]
    return command


def test_make_test_runs_course_and_solution_notebooks_but_not_exercises(make_sandbox):
    for name in ("notebooks/01-b.ipynb", "notebooks/00-a.ipynb", "solutions/ex01.ipynb", "exercises/ex01.ipynb"):
        (make_sandbox / name).write_text("{}")
    command = pytest_command_of_make_test(make_sandbox)
    assert "tests notebooks/00-a.ipynb notebooks/01-b.ipynb solutions/ex01.ipynb --nbval-lax" in command
    assert "exercises/" not in command
    assert "--nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg" in command


def test_make_test_without_solution_notebooks_still_runs(make_sandbox):
    (make_sandbox / "notebooks/00-a.ipynb").write_text("{}")
    command = pytest_command_of_make_test(make_sandbox)
    assert "tests notebooks/00-a.ipynb --nbval-lax" in command


def test_make_bench_runs_every_benchmark(make_sandbox):
    result = run("make", "--dry-run", "bench", cwd=make_sandbox)
    assert result.returncode == 0, result.stderr
    (make_sandbox / "bench" / "b.py").write_text("")
    (make_sandbox / "bench" / "a.py").write_text("")
    result = run("make", "--dry-run", "bench", cwd=make_sandbox)
    assert "for bench in bench/a.py bench/b.py;" in result.stdout
