"""The papermill task: run a parameterised notebook of the project in its kernel, as a Prefect task.

It sits on `airnub.engine.notebook_execution` (checked parameters, project kernel,
report folder, recorded values, cache) and adds the Prefect side: only notebooks inside the
notebooks folder (`notebooks_dir` in settings.ini) run, the log says in one line why it ran or that
it was served from the cache, and a failure publishes a markdown artifact with the error and the partial report
before it fails the task. Retries: `run_notebook_task.with_options(retries=N)`. The report's artifact
links the report over HTTP: below `reports_url` when the team names where browsers open the reports folder (workers
on other machines: never a path on the worker's disk), else on the project's server's reports server while it answers
(`airnub/src/airnub/services/reports_http.py`); browsers refuse `file://` links from the UI, so otherwise it
shows the file's path as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger

from airnub.engine.notebook_execution import NotebookExecutionError, NotebookRun, confine, run_notebook
from airnub.engine.run_cache import RunCache, path_roots
from airnub.engine.run_records import cached_run, prepare_run
from airnub.engine.settings import Settings, load_settings
from airnub.orchestration.cache import watched
from airnub.orchestration.plan import SERVED, Verdict, follows_its_inputs, planned, plans_with
from airnub.services.prefect_server import ServerError, read_state, server_config
from airnub.services.reports_http import report_url, under_address


def artifact_key(*parts: str) -> str:
    """A valid Prefect artifact key (lower-case letters, digits, dashes) from `parts`."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def plan_notebook(notebook: Path, parameters: dict | None = None, inputs: list[Path] | None = None,
                  use_cache: bool = True, cell_timeout: int | None = None, from_text: bool = False,
                  cwd: Path | None = None, report_mode: bool = False) -> Verdict:
    """What a run would do with this call of `run_notebook_task`: its cache verdict, with no kernel started."""
    settings = load_settings()
    notebook = confine(settings.paths.root / notebook, settings.paths.notebooks)
    run = prepare_run(notebook, parameters, settings.kernel_name, report_mode, cwd, inputs, from_text,
                      path_roots(settings.paths))
    reads = [notebook, *run.inputs]
    if not use_cache:
        return Verdict(True, "would run: asked to run again", reads=reads)
    hit, reason = cached_run(RunCache.for_paths(settings.paths), run.key, run.parts)
    if hit is None:
        return Verdict(True, f"would run: {reason.removeprefix('ran: ')}", reads=reads)
    try:  # what it read while it ran, from its run's record
        depends = json.loads(hit.manifest.read_text(encoding="utf-8")).get("depends", {})
    except (OSError, ValueError):
        depends = {}
    files = [Path(path) for path in depends.get("files", {})]
    return Verdict(False, SERVED, hit, [*reads, *files], [hit.html, *([hit.full_html] if report_mode else [])])


@task(name="run-notebook", retries=0, task_run_name="run-notebook-{notebook.stem}")
@plans_with(plan_notebook)
def run_notebook_task(notebook: Path, parameters: dict | None = None, inputs: list[Path] | None = None,
                      use_cache: bool = True, cell_timeout: int | None = None, from_text: bool = False,
                      cwd: Path | None = None, report_mode: bool = False) -> NotebookRun:
    """Run `notebook` (inside the notebooks folder; relative paths from the project root) with `parameters`.

    The kernel starts in the notebook's folder, as in Jupyter, unless `cwd` names another. `report_mode`:
    the HTML shows no code (for readers of the results); `<notebook>.full.html` beside it shows everything.
    """
    settings, logger = load_settings(), get_run_logger()
    notebook = confine(settings.paths.root / notebook, settings.paths.notebooks)
    timeout = settings.cell_timeout_seconds if cell_timeout is None else cell_timeout  # 0 is refused, not unset
    try:
        prepared = prepare_run(notebook, parameters, settings.kernel_name, report_mode, cwd, inputs, from_text,
                               path_roots(settings.paths))
        run = run_notebook(prepared, settings.paths.reports, timeout, cache=RunCache.for_paths(settings.paths),
                           use_cache=use_cache, watch=watched(settings.paths))
    except NotebookExecutionError as error:
        create_markdown_artifact(key=artifact_key("failed", notebook.stem), markdown=f"### {notebook.name} failed\n\n"
                                 f"```\n{error}\n```\n", description=f"Failure of {notebook.name}")
        raise
    took = "" if run.from_cache else f" in {run.duration_seconds:.1f} s"
    logger.info("%s: %s%s; report: %s", notebook.name, run.reason, took, run.html)
    return run


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def report_markdown(run: NotebookRun, values: dict | None = None,
                    url_of: Callable[[Path], str | None] = lambda _: None) -> str:
    """Markdown for an artifact: the notebook, its parameters, recorded values and where the report is.

    `url_of` gives a file's web address (None: its path is shown as text; browsers do not open file links).
    """
    rows = [f"| {_cell(name)} | {_cell(value)} |" for name, value in {**run.values, **(values or {})}.items()]
    table = "\n".join(["| name | value |", "|---|---|", *rows]) + "\n\n" if rows else ""
    parameters = ", ".join(f"`{k}={v!r}`" for k, v in run.parameters.items()) or "defaults"
    cached = " (served from the cache)" if run.from_cache else ""
    files = [("Report", run.html), ("Report with code", run.full_html), ("Executed notebook", run.output_notebook)]
    links = [f"{what}: [{path.name}]({url})" if (url := url_of(path)) else f"{what}: `{path}`"
             for what, path in files if path is not None]
    return f"### {run.notebook.name}{cached}\n\nParameters: {parameters}\n\n{table}" + "  \n".join(links) + "\n"


def report_address(settings: Settings) -> Callable[[Path], str | None]:
    """A report's web address: below `reports_url` when set, else on the project's reports server while it answers."""
    if settings.server.reports_url:
        return lambda path: under_address(path, settings.paths.reports, settings.server.reports_url)
    try:
        state = read_state(server_config(settings.paths.root))
    except ServerError:  # a bad [server] setting: the artifact shows paths, and `airnub server` names the setting
        state = None
    return lambda path: report_url(path, state)


@task(name="publish-notebook-report")
@planned(follows_its_inputs)
def publish_report_task(run: NotebookRun, key: str, values: dict | None = None) -> str:
    """Create a markdown artifact under `key`: recorded (and extra) values as a table, and the report link."""
    markdown = report_markdown(run, values, report_address(load_settings()))
    return str(create_markdown_artifact(key=key, markdown=markdown, description=f"Report of {run.notebook.name}"))
