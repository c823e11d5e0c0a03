"""The project's own checks, kept by every project: its package is what its notebooks export and never imports
Prefect, its notebooks use the project kernel, its reports are parameterised notebooks, its departments are found."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from airnub.engine.settings import load_settings
from airnub.orchestration.departments import departments
from airnub.testing.helpers import PROJECT_ROOT

PACKAGE = "airnub_prefect_starter"
NOTEBOOKS = PROJECT_ROOT / "nbs"


def _modules(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*.py")}


def test_the_package_is_what_its_notebooks_export(tmp_path):
    """A module edited by hand, or a notebook not exported since its last edit, fails here (before any commit too)."""
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(NOTEBOOKS, tmp_path / "nbs")
    subprocess.run([Path(sys.executable).parent / "nbdev-export"], cwd=tmp_path, check=True, capture_output=True)
    exported, package = _modules(tmp_path / PACKAGE), _modules(PROJECT_ROOT / PACKAGE)
    assert sorted(exported) == sorted(package), "a module has no notebook, or a notebook's module is missing"
    changed = [name for name in exported if exported[name] != package[name]]
    assert changed == [], f"the package and its notebooks disagree: run make export: {changed}"


def test_the_package_never_imports_prefect():
    code = (f"import importlib, pkgutil, sys, {PACKAGE} as p\n"
            "for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.'): importlib.import_module(m.name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_every_notebook_uses_the_project_kernel():
    kernel = load_settings(PROJECT_ROOT).kernel_name
    notebooks = sorted(NOTEBOOKS.rglob("*.ipynb"))
    assert notebooks, "nbs/ holds the project's notebooks (index.ipynb at least)"
    assert [n for n in notebooks if nbformat.read(n, as_version=4).metadata.kernelspec.name != kernel] == []


@pytest.mark.parametrize("notebook", sorted((NOTEBOOKS / "reports").glob("*.ipynb")), ids=lambda p: p.name)
def test_report_notebooks_are_parameterised_and_never_exported(notebook):
    cells = nbformat.read(notebook, as_version=4).cells
    assert any("parameters" in c.metadata.get("tags", []) for c in cells)
    assert not any(c.source.lstrip().startswith(("#| default_exp", "#| export")) for c in cells)


def test_every_department_folder_is_a_department():
    """A `flows/dept_<id>/` without its pipeline flow is not run by `airnub run`: say so here rather than there."""
    folders = {p.name.removeprefix("dept_") for p in (PROJECT_ROOT / "flows").glob("dept_*") if p.is_dir()}
    assert sorted(departments(PROJECT_ROOT)) == sorted(folders)
