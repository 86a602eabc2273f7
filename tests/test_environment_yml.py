"""environment.yml (the conda path) names the same dependencies, with the same minimum versions, as
pyproject.toml (the pip path that `make lab` and CI use), so the two install paths cannot drift apart.
No conda channel is reachable here, so this is what CI can check of the conda path."""

import re
from pathlib import Path

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
#: PyPI name -> conda-forge name, where they differ.
CONDA_NAME = {"graphviz": "python-graphviz"}
#: conda entries with no PyPI counterpart: the `dot` program, and pip itself.
CONDA_ONLY = {"graphviz", "pip"}
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$")


def split(requirement: str) -> tuple[str, str]:
    """("pandas", ">=2") from "pandas>=2" (a conda line's comment already stripped by YAML)."""
    match = REQUIREMENT.match(requirement)
    assert match, requirement
    return match.group(1).lower(), match.group(2).replace(" ", "")


def pip_requirements() -> dict:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {"python": project["requires-python"].replace(" ", "")}
    for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
        name, spec = split(requirement)
        wanted[CONDA_NAME.get(name, name)] = spec
    return wanted


def conda_requirements() -> tuple[dict, list]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    found, pip = {}, []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip += entry["pip"]
            continue
        name, spec = split(entry)
        if name not in CONDA_ONLY:
            found[name] = spec
    return found, pip


def test_environment_yml_names_what_pyproject_names_with_the_same_minimum_versions():
    found, _ = conda_requirements()
    assert found == pip_requirements()


def test_environment_yml_installs_the_checkout_with_its_test_extra():
    _, pip = conda_requirements()
    assert pip == ['-e ".[test]"'] or pip == ["-e .[test]"]


def test_the_comparison_sees_a_missing_or_loosened_dependency():
    wanted = pip_requirements()
    assert {**wanted, "pandas": ">=1"} != wanted and {k: v for k, v in wanted.items() if k != "nbval"} != wanted
    assert wanted["python-graphviz"] == ">=0.20" and wanted["python"] == ">=3.10"
