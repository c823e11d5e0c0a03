"""The departments of this project and how to find their flows.

Every department follows one layout (see docs/layout.md): `flows/dept_<id>/<stage>_flow_dept_<id>.py`
holds the stage flow `<stage>_flow_dept_<id>`, and `pipeline_flow_dept_<id>.py` runs the stages
in order. `scripts/generators/add_department.py` adds an entry here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

STAGES = ("ingestion", "processing", "analysis")

# department id -> display name
DEPARTMENTS = {
    "demo": "Demo",
}


class UnknownNameError(LookupError):
    """A department or stage that this project does not have."""


def _flow(department: str, name: str) -> Callable:
    module = importlib.import_module(f"flows.dept_{department}.{name}_flow_dept_{department}")
    return getattr(module, f"{name}_flow_dept_{department}")


def check_names(department: str, stage: str | None = None) -> None:
    """UnknownNameError naming what this project has, unless `department` (and `stage`, when given) exist."""
    if department not in DEPARTMENTS:
        raise UnknownNameError(f"unknown department {department!r}; this project has: {', '.join(DEPARTMENTS)}")
    if stage is not None and stage not in STAGES:
        raise UnknownNameError(f"unknown stage {stage!r}; stages are: {', '.join(STAGES)}")


def stage_flow(department: str, stage: str | None = None) -> Callable:
    """The flow of `stage` in `department`, or its whole pipeline when `stage` is None."""
    check_names(department, stage)
    return _flow(department, stage or "pipeline")
