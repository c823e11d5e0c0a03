"""The package as nbdev generates it: in step with the notebooks, free of Prefect, runnable on its own."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import nbformat
import pytest
from helpers import PROJECT_ROOT

from airnub_prefect_starter.engine.settings import load_settings

PACKAGE = "airnub_prefect_starter"


def _package_files(root: Path) -> dict[str, str]:
    """The package's .py files under `root`: `{path inside the package: text}`."""
    return {p.relative_to(root / PACKAGE).as_posix(): p.read_text() for p in (root / PACKAGE).rglob("*.py")
            if "__pycache__" not in p.parts}


def test_the_package_is_what_nbdev_export_writes_from_the_notebooks(tmp_path):
    """Each module is its notebook's export, committed or not yet (a new project, a generator's new module):
    a module edited by hand, a notebook not exported since its edit, or a module without a notebook fails."""
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(PROJECT_ROOT / "nbs", tmp_path / "nbs")
    subprocess.run([Path(sys.executable).parent / "nbdev-export"], cwd=tmp_path, check=True)
    exported, present = _package_files(tmp_path), _package_files(PROJECT_ROOT)
    assert sorted(present) == sorted(exported), "a module has no notebook, or a notebook's module is missing"
    changed = [name for name in exported if exported[name] != present[name]]
    assert changed == [], f"the notebooks and the package disagree: run nbdev-export (make export): {changed}"


def test_the_package_never_imports_prefect():
    code = ("import importlib, pkgutil, sys, airnub_prefect_starter as p\n"
            "for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.'): importlib.import_module(m.name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_no_process_that_imports_prefect_builds_the_iri_parsers():
    """`make setup` leaves out rfc3987-syntax: jsonschema (which Prefect, nbformat's validator and JupyterLab import)
    would import it and build its Earley parsers, 1.1 s in every such process, for a format no schema here uses."""
    code = "import sys, jsonschema, prefect; print('rfc3987_syntax' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", "rfc3987-syntax is installed: make setup uninstalls it"


def test_every_notebook_uses_the_project_kernel():
    kernel = load_settings(PROJECT_ROOT).kernel_name
    notebooks = sorted((PROJECT_ROOT / "nbs").rglob("*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        assert nbformat.read(notebook, as_version=4).metadata.kernelspec.name == kernel, notebook


@pytest.mark.parametrize("notebook", sorted((PROJECT_ROOT / "nbs" / "reports").glob("*.ipynb")), ids=lambda p: p.name)
def test_report_notebooks_are_parameterised_and_never_exported(notebook):
    cells = nbformat.read(notebook, as_version=4).cells
    assert any("parameters" in c.metadata.get("tags", []) for c in cells)
    assert not any(c.source.lstrip().startswith(("#| default_exp", "#| export")) for c in cells)


def _pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_license_file_is_the_one_pyproject_declares():
    project = _pyproject()["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    text = (PROJECT_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"], "the Apache License 2.0, from its first line"
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX: How to apply the Apache License" in text, "full text"


@pytest.mark.parametrize("command", ["nbdev_export", "nbdev_test", "nbdev_clean"])
def test_nbdev_underscore_commands_run_what_the_hyphenated_ones_run(command):
    nbdev_commands = {e.name: e.value for e in entry_points(group="console_scripts") if e.dist.name == "nbdev"}
    assert _pyproject()["project"]["scripts"][command] == nbdev_commands[command.replace("_", "-")]
    done = subprocess.run([Path(sys.executable).parent / command, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith(f"usage: {command}"), done.stdout + done.stderr


def test_test_and_lint_tools_are_only_in_the_dev_extra():
    project = _pyproject()["project"]
    name = re.compile(r"[A-Za-z0-9_.-]+")
    runtime = {name.match(d).group().lower() for d in project["dependencies"]}
    dev = {name.match(d).group().lower() for d in project["optional-dependencies"]["dev"]}
    assert {"ruff", "pytest", "pytest-xdist", "nbval", "pre-commit"} <= dev
    assert runtime & dev == set(), "a tool of `make test` or `make lint` is a runtime dependency"
