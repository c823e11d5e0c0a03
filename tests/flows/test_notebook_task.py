"""The papermill task: injected values reach the report notebook; a failing cell fails the task clearly."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import PROJECT_ROOT, write_notebook

from airnub_prefect_starter.core.notebook_runner import NotebookExecutionError
from flows.common.notebook_flow import notebook_flow

REPORT = "nbs/reports/model_evaluation.ipynb"


def test_injected_title_reaches_the_report_notebook(pipeline_run):
    run = notebook_flow(REPORT, {"title": "Harvest review 4711"})
    executed = nbformat.read(run.output_notebook, as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in executed.cells]
    parameters_at, injected_at = (next(i for i, t in enumerate(tags) if tag in t)
                                  for tag in ("parameters", "injected-parameters"))
    assert injected_at == parameters_at + 1, "papermill injects right after the parameters cell"
    shown = [o["data"]["text/markdown"] for c in executed.cells if c.cell_type == "code"
             for o in c.outputs if "text/markdown" in o.get("data", {})]
    assert any(text.startswith("## Harvest review 4711") for text in shown)
    assert "Harvest review 4711" in run.html.read_text()


def test_nbdev_clean_keeps_the_parameters_tag(tmp_path):
    copy = shutil.copy(PROJECT_ROOT / REPORT, tmp_path / "report.ipynb")
    subprocess.run([Path(sys.executable).parent / "nbdev-clean", "--fname", copy], cwd=PROJECT_ROOT, check=True)
    cells = nbformat.read(copy, as_version=4).cells
    assert sum("parameters" in c.metadata.get("tags", []) for c in cells) == 1


def test_failing_cell_fails_the_task_and_keeps_the_partial_report(project, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRNUB_NOTEBOOKS_DIR", str(tmp_path))
    notebook = write_notebook(tmp_path / "fragile.ipynb", "limit: int = 3  # the largest value accepted",
                              "print('checked so far')", "assert limit < 3, f'limit {limit} is too high'")
    with pytest.raises(NotebookExecutionError) as failed:
        notebook_flow(str(notebook), {"limit": 5})
    message = str(failed.value)
    assert "fragile.ipynb" in message and "cell 3" in message and "limit 5 is too high" in message
    (run_dir,) = (project.reports / "fragile").iterdir()
    assert "checked so far" in (run_dir / "fragile.html").read_text()
    assert (run_dir / "fragile.ipynb").exists()
