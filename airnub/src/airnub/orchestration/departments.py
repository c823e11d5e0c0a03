"""The departments of a project and how to find their flows: by convention, with nothing to register.

Every department follows one layout (see docs/layout.md): the folder `flows/dept_<id>/` holds the stage flows
`<stage>_flow_dept_<id>` in `<stage>_flow_dept_<id>.py` and `pipeline_flow_dept_<id>.py`, which runs the stages in
order. A folder with that pipeline file is a department (as Kedro's `find_pipelines` finds pipelines); its display
name is the first line of its `__init__.py` docstring (`airnub new department` writes both).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from pathlib import Path

from airnub.engine.settings import find_project_root
from airnub.project import importable

STAGES = ("ingestion", "processing", "analysis")


class UnknownNameError(LookupError):
    """A department or stage that this project does not have."""


def departments(root: Path | None = None) -> dict[str, str]:
    """Department id -> display name, for every `flows/dept_<id>/` of the project with a pipeline flow."""
    root = find_project_root() if root is None else root
    found = {}
    for folder in sorted((root / "flows").glob("dept_*")):
        if (folder / f"pipeline_flow_{folder.name}.py").is_file():
            found[folder.name.removeprefix("dept_")] = _display_name(folder)
    return found


def _display_name(folder: Path) -> str:
    try:
        docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))
    except (OSError, SyntaxError, ValueError):
        docstring = None
    title = (docstring or folder.name.removeprefix("dept_")).splitlines()[0].split(":")[0].strip()
    return title.removesuffix(" department")


def _flow(department: str, name: str) -> Callable:
    importable(find_project_root())
    module = importlib.import_module(f"flows.dept_{department}.{name}_flow_dept_{department}")
    return getattr(module, f"{name}_flow_dept_{department}")


def check_names(department: str, stage: str | None = None) -> None:
    """UnknownNameError naming what this project has, unless `department` (and `stage`, when given) exist."""
    known = departments()
    if department not in known:
        listed = ", ".join(known) or "none yet (`airnub new department --name NAME` adds one)"
        raise UnknownNameError(f"unknown department {department!r}; this project has: {listed}")
    if stage is not None and stage not in STAGES:
        raise UnknownNameError(f"unknown stage {stage!r}; stages are: {', '.join(STAGES)}")


def stage_flow(department: str, stage: str | None = None) -> Callable:
    """The flow of `stage` in `department`, or its whole pipeline when `stage` is None."""
    check_names(department, stage)
    return _flow(department, stage or "pipeline")
