"""Run any parameterised notebook of the project as a flow (what `airnub notebook` calls)."""

from __future__ import annotations

import sys
from pathlib import Path

from prefect import flow

from airnub.engine.notebook_execution import NotebookRun
from airnub.orchestration.notebook_task import artifact_key, publish_report_task, run_notebook_task


def _run_name() -> str:
    """The flow run's name: `notebook-<file name>`, not its absolute path."""
    from prefect.runtime import flow_run

    return f"notebook-{Path(flow_run.parameters['notebook']).name}"


@flow(name="notebook", flow_run_name=_run_name)
def notebook_flow(notebook: str, parameters: dict | None = None, use_cache: bool = True,
                  cell_timeout: int | None = None, retries: int = 0, cwd: str | None = None,
                  inputs: list[str] | None = None, report_mode: bool = False) -> NotebookRun:
    """Run `notebook` with `parameters` and publish an artifact with its recorded values and report.

    `cwd`: the kernel's working folder (the notebook's own by default); `inputs`: files it reads that no
    parameter names, so that a change to them is a new run rather than an answer from the cache;
    `report_mode`: the HTML report shows no code (`<notebook>.full.html` beside it shows everything).
    """
    task = run_notebook_task.with_options(retries=retries) if retries else run_notebook_task
    run = task(Path(notebook), parameters, use_cache=use_cache, cell_timeout=cell_timeout,
               cwd=Path(cwd) if cwd else None, inputs=[Path(p) for p in inputs or []],
               report_mode=report_mode)
    publish_report_task(run, key=artifact_key("notebook", Path(notebook).stem))
    return run


if __name__ == "__main__":
    notebook_flow(sys.argv[1] if len(sys.argv) > 1 else "nbs/reports/model_evaluation.ipynb")
