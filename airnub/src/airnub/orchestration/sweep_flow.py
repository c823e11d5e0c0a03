"""Run one notebook over a grid of parameters, in parallel on the configured task runner."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.artifacts import create_table_artifact
from prefect.futures import wait

from airnub.engine.notebook_parameters import check_grid
from airnub.orchestration.notebook_task import artifact_key, run_notebook_task
from airnub.orchestration.task_runner import task_runner_from_settings


@flow(name="notebook-sweep", flow_run_name="sweep-{notebook}")
def sweep_flow(notebook: str, grid: dict[str, list], use_cache: bool = True, cell_timeout: int | None = None) -> list:
    """One run of `notebook` per combination in `grid`; a table artifact of parameters against recorded values."""
    combinations = check_grid(Path(notebook), grid, f"grid for {notebook}")
    futures = [run_notebook_task.submit(Path(notebook), combination, use_cache=use_cache, cell_timeout=cell_timeout)
               for combination in combinations]
    wait(futures)
    states = [future.state for future in futures]
    runs = [state.result() if state.is_completed() else None for state in states]
    rows = [{**combination, **(run.values if run else {}), "status": state.name,
             "report": str(run.html) if run else str(state.message)}
            for combination, run, state in zip(combinations, runs, states, strict=True)]
    create_table_artifact(key=artifact_key("sweep", Path(notebook).stem), table=rows,
                          description=f"Sweep of {Path(notebook).name}: parameters and recorded values")
    if failed := [state for state in states if not state.is_completed()]:
        failed[0].result()  # raises the first failure, with its message
    return runs


def run_sweep(notebook: str, grid: dict[str, list], use_cache: bool = True, cell_timeout: int | None = None) -> list:
    """`sweep_flow` on the task runner chosen in settings.ini (threads, processes or Dask)."""
    return sweep_flow.with_options(task_runner=task_runner_from_settings())(notebook, grid, use_cache, cell_timeout)
