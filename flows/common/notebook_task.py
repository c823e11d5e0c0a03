"""The papermill task: run a parameterised notebook of the project in its kernel, as a Prefect task.

It sits on `airnub_prefect_starter.core.notebook_runner` (checked parameters, project kernel,
report folder, recorded values, cache) and adds the Prefect side: only notebooks inside the
notebooks folder (`notebooks_dir` in settings.ini) run, the log says when a run was served from
the cache, and a failure publishes a markdown artifact with the error and the partial report
before it fails the task. Retries: `run_notebook_task.with_options(retries=N)`.
"""

from __future__ import annotations

import re
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger

from airnub_prefect_starter.core.notebook_runner import NotebookExecutionError, NotebookRun, confine, run_notebook
from airnub_prefect_starter.core.run_cache import RunCache
from airnub_prefect_starter.data_science.config_ds import load_settings


def artifact_key(*parts: str) -> str:
    """A valid Prefect artifact key (lower-case letters, digits, dashes) from `parts`."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


@task(name="run-notebook", retries=0, task_run_name="run-notebook-{notebook.stem}")
def run_notebook_task(notebook: Path, parameters: dict | None = None, inputs: list[Path] | None = None,
                      use_cache: bool = True, cell_timeout: int | None = None, from_text: bool = False,
                      cwd: Path | None = None) -> NotebookRun:
    """Run `notebook` (inside the notebooks folder; relative paths from the project root) with `parameters`.

    The kernel starts in the notebook's folder, as in Jupyter, unless `cwd` names another.
    """
    settings, logger = load_settings(), get_run_logger()
    notebook = confine(settings.paths.root / notebook, settings.paths.notebooks)
    timeout = settings.cell_timeout_seconds if cell_timeout is None else cell_timeout  # 0 is refused, not unset
    try:
        run = run_notebook(notebook, settings.paths.reports, parameters, kernel_name=settings.kernel_name,
                           cell_timeout=timeout, cwd=cwd,
                           inputs=inputs, cache=RunCache(settings.paths.cache), use_cache=use_cache,
                           from_text=from_text)
    except NotebookExecutionError as error:
        create_markdown_artifact(key=artifact_key("failed", notebook.stem), markdown=f"### {notebook.name} failed\n\n"
                                 f"```\n{error}\n```\n", description=f"Failure of {notebook.name}")
        raise
    if run.from_cache:
        logger.info("%s: served from the cache (code, parameters and inputs unchanged); report: %s", notebook.name,
                    run.html)
    else:
        logger.info("Ran %s in %.1f s; report: %s", notebook.name, run.duration_seconds, run.html)
    return run


def report_markdown(run: NotebookRun, values: dict | None = None) -> str:
    """Markdown for an artifact: the notebook, its parameters, recorded values and where the report is."""
    rows = [f"| {name} | {value} |" for name, value in {**run.values, **(values or {})}.items()]
    table = "\n".join(["| value | |", "|---|---|", *rows]) + "\n\n" if rows else ""
    parameters = ", ".join(f"`{k}={v!r}`" for k, v in run.parameters.items()) or "defaults"
    cached = " (served from the cache)" if run.from_cache else ""
    return (f"### {run.notebook.name}{cached}\n\nParameters: {parameters}\n\n{table}"
            f"Report: [{run.html.name}]({run.html.as_uri()})  \nExecuted notebook: `{run.output_notebook}`\n")


@task(name="publish-notebook-report")
def publish_report_task(run: NotebookRun, key: str, values: dict | None = None) -> str:
    """Create a markdown artifact under `key`: recorded (and extra) values as a table, and the report link."""
    return str(create_markdown_artifact(key=key, markdown=report_markdown(run, values),
                                        description=f"Report of {run.notebook.name}"))
