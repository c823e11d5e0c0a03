"""Helpers shared by the tests (importable because pytest puts tests/ on the path)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from airnub_prefect_starter.data_science.config_ds import find_project_root

PROJECT_ROOT = find_project_root(Path(__file__).parent)


def output_overrides(tmp: Path) -> dict[str, str]:
    """AIRNUB_* variables that move data, models and reports under `tmp` (the code and nbs/ stay)."""
    return {"AIRNUB_DATA_ROOT": str(tmp / "data"), "AIRNUB_MODELS_DIR": str(tmp / "models"),
            "AIRNUB_REPORTS_DIR": str(tmp / "reports"), "AIRNUB_CACHE_DIR": str(tmp / "cache")}


def write_notebook(path: Path, parameters: str, *cells: str) -> Path:
    """A notebook at `path` with a `parameters`-tagged cell holding `parameters`, then `cells`."""
    parameters_cell = new_code_cell(parameters)
    parameters_cell.metadata["tags"] = ["parameters"]
    nbformat.write(new_notebook(cells=[parameters_cell, *map(new_code_cell, cells)]), path)
    return path
