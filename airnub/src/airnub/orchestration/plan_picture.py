"""The pipeline as a picture: a plan's steps (stages, categories, and the files each step reads and writes) as Mermaid.

It draws the same model as the plan (`plan`): each step's verdict, with the files from its last run's
record. MkDocs Material renders the fence on the docs site; Prefect's UI shows the text in a markdown artifact.
"""

from __future__ import annotations

import re
from pathlib import Path

from airnub.orchestration.plan import Step


def _node(text: str) -> str:
    return "n" + re.sub(r"[^A-Za-z0-9]", "_", text)


def _label(text: str) -> str:
    return text.replace('"', "'")


def _shown(path: Path, root: Path) -> str:
    path = Path(path)
    return str(path.relative_to(root)) if path.is_absolute() and path.is_relative_to(root) else path.name


def mermaid(steps: list[Step], root: Path, verdicts: bool = True, direction: str = "LR") -> str:
    """A Mermaid flowchart: a box per stage and category, a node per step (with its verdict: `verdicts`), files;
    `direction` LR (left to right, for a wide screen such as Prefect's UI) or TB (top to bottom, a docs page)."""
    lines, opened = [f"flowchart {direction}"], []
    for index, step in enumerate(steps):
        where = list(step.flows[1:])
        common = next((i for i, (a, b) in enumerate(zip(opened, where, strict=False)) if a != b),
                      min(len(opened), len(where)))
        lines += ["  " * depth + "end" for depth in range(len(opened), common, -1)]
        for depth, name in enumerate(where[common:], start=common + 1):
            lines.append("  " * depth + f'subgraph {_node(name)}["{_label(name)}"]')
        opened = where
        mark = ("<br/>(would run)" if step.verdict.runs else "<br/>(cached)") if verdicts else ""
        lines.append("  " * (len(where) + 1) + f'{_node(f"step{index}")}["{_label(step.name)}{mark}"]')
    lines += ["  " * depth + "end" for depth in range(len(opened), 0, -1)]
    edges: list[str] = []  # a file read by several steps is one node; an edge drawn twice, once
    files: dict[str, str] = {}
    for index, step in enumerate(steps):
        for path, arrow in [*((p, "in") for p in step.verdict.reads), *((p, "out") for p in step.verdict.writes)]:
            shown = _shown(path, root)
            node = files.setdefault(shown, _node(f"file{len(files)}"))
            if arrow == "in":
                edges.append(f'  {node}[("{_label(shown)}")] --> {_node(f"step{index}")}')
            else:
                edges.append(f'  {_node(f"step{index}")} --> {node}[("{_label(shown)}")]')
    return "\n".join([*lines, *dict.fromkeys(edges)])


def picture_markdown(steps: list[Step], root: Path) -> str:
    """The picture in a markdown fence (a docs page or an artifact)."""
    return f"\n### The pipeline\n\n```mermaid\n{mermaid(steps, root)}\n```\n"


def department_page(department: str, title: str) -> str:
    """A docs page: the department's pipeline as a picture, planned from the project's files (config files, not
    Variables; no server is asked), with the files each step reads and writes as its last run here recorded them."""
    from airnub.engine.settings import load_settings
    from airnub.orchestration.cache import variables_read_at_once
    from airnub.orchestration.departments import stage_flow
    from airnub.orchestration.plan import plan_flow

    flow = stage_flow(department)
    with variables_read_at_once({}):
        steps, _ = plan_flow(flow)
    root = load_settings().paths.root
    return (f"# Pipeline: {title}\n\n"
            f"The pipeline of the department `{department}` (`airnub run {department}`, the flow `{flow.name}`), "
            "drawn from the same model as its plan: a box per stage and per category, a node per step, and the "
            "files and notebooks each step reads (arrows in) and writes (arrows out). The files a step opens while "
            "it runs join the picture once it has run where the site is built. `airnub run "
            f"{department} --plan` says which steps would run and why; every run of the pipeline carries this "
            "picture, with each step's verdict, as a markdown artifact on its flow run.\n\n"
            f"```mermaid\n{mermaid(steps, root, verdicts=False, direction='TB')}\n```\n")
