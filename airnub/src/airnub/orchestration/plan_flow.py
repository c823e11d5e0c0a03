"""Nothing changed, nothing orchestrated: a pipeline whose plan has nothing to do answers as one flow run.

`airnub run` plans first (`airnub.orchestration.plan`). When no step would run, the department -> stage -> category tree
is not started: one flow run answers, under the pipeline's own flow name (the UI lists it among the pipeline's runs,
and no department's flow file changes for it), with the plan and the last run's reports as its markdown artifact.
With something to do, the usual tree runs and the steps the plan marked cached are served as they are today.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from airnub.engine.run_records import NotebookRun
from airnub.engine.settings import load_settings
from airnub.orchestration.notebook_task import artifact_key, report_address
from airnub.orchestration.plan import Step, describe, known
from airnub.orchestration.plan_picture import picture_markdown


def reports_of(steps: list[Step]) -> list[Path]:
    """The reports of the notebook steps the plan serves from the cache (and the full copies beside them)."""
    runs = [step.verdict.result for step in steps if isinstance(step.verdict.result, NotebookRun)]
    return [path for run in runs for path in (run.html, run.full_html) if path is not None]


def plan_markdown(flow_name: str, steps: list[Step]) -> str:
    """The plan as markdown: its lines, the last run's reports as links (paths when no reports server answers)."""
    settings = load_settings()
    root, url_of = settings.paths.root, report_address(settings)
    links = [f"- [{path.name}]({url})" if (url := url_of(path)) else f"- `{path}`"
             for path in reports_of(steps)]
    reports = "\n\n### Reports of the last run\n\n" + "\n".join(links) if links else ""
    return f"### Plan\n\n```\n{describe(flow_name, steps, root)}\n```{reports}\n{picture_markdown(steps, root)}"


def answer_without_running(flow_name: str, steps: list[Step], result: Any) -> Any:
    """One flow run named like `flow_name`, whose artifact is the plan; its result is the planned (cached) result."""

    def nothing_to_do() -> Any:
        """Every step is served from the cache: the plan and the last run's reports, no nested flow runs."""
        create_markdown_artifact(key=artifact_key(flow_name, "plan"), markdown=plan_markdown(flow_name, steps),
                                 description=f"Plan of {flow_name}: nothing to do")
        return known(result)

    answer = flow(name=flow_name, flow_run_name=f"{flow_name}-nothing-to-do", log_prints=False)(nothing_to_do)
    return answer(return_state=True)


def attach_plan(state: Any, flow_name: str, steps: list[Step]) -> None:
    """The plan and the picture as a markdown artifact on the flow run of `state` (the tree's top), one click away."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactCreate

    if (flow_run_id := state.state_details.flow_run_id) is None:
        return
    with get_client(sync_client=True) as client:
        client.create_artifact(ArtifactCreate(key=artifact_key(flow_name, "plan"), type="markdown",
                                              data=plan_markdown(flow_name, steps), flow_run_id=flow_run_id,
                                              description=f"Plan of {flow_name}, and the pipeline as a picture"))
