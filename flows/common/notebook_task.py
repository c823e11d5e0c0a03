"""The papermill task: run a parameterised notebook in the project kernel, as a Prefect task."""

from __future__ import annotations

import re
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger

from airnub_prefect_starter.core.notebook_runner import NotebookRun, run_notebook
from airnub_prefect_starter.data_science.config_ds import load_settings


@task(name="run-notebook", retries=0, task_run_name="run-notebook-{notebook.stem}")
def run_notebook_task(notebook: Path, parameters: dict | None = None) -> NotebookRun:
    """Execute `notebook` (relative to the project root) with `parameters`; return where its report is."""
    settings = load_settings()
    run = run_notebook(settings.paths.root / notebook, settings.paths.reports, parameters,
                       kernel_name=settings.kernel_name, cell_timeout=settings.cell_timeout_seconds,
                       cwd=settings.paths.root)
    get_run_logger().info("Ran %s in %.1f s; report: %s", notebook, run.duration_seconds, run.html)
    return run


def artifact_key(*parts: str) -> str:
    """A valid Prefect artifact key (lower-case letters, digits, dashes) from `parts`."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def report_markdown(run: NotebookRun, values: dict | None = None) -> str:
    """Markdown for an artifact: the notebook, its parameters, recorded values and where the report is."""
    rows = [f"| {name} | {value} |" for name, value in (values or {}).items()]
    table = "\n".join(["| value | |", "|---|---|", *rows]) + "\n\n" if rows else ""
    parameters = ", ".join(f"`{k}={v!r}`" for k, v in run.parameters.items()) or "defaults"
    return (f"### {run.notebook.name}\n\nParameters: {parameters}\n\n{table}"
            f"Report: [{run.html.name}]({run.html.as_uri()})  \nExecuted notebook: `{run.output_notebook}`\n")


@task(name="publish-notebook-report")
def publish_report_task(run: NotebookRun, key: str, values: dict | None = None) -> str:
    """Create a markdown artifact under `key` pointing at the report of `run`."""
    return str(create_markdown_artifact(key=key, markdown=report_markdown(run, values),
                                        description=f"Report of {run.notebook.name}"))
