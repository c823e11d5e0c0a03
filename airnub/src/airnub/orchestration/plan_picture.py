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


def mermaid(steps: list[Step], root: Path) -> str:
    """A Mermaid flowchart: a box per stage and category, a node per step (a step that would run in bold), files."""
    lines, opened = ["flowchart LR"], []
    for index, step in enumerate(steps):
        where = list(step.flows[1:])
        common = next((i for i, (a, b) in enumerate(zip(opened, where, strict=False)) if a != b),
                      min(len(opened), len(where)))
        lines += ["  " * depth + "end" for depth in range(len(opened), common, -1)]
        for depth, name in enumerate(where[common:], start=common + 1):
            lines.append("  " * depth + f'subgraph {_node(name)}["{_label(name)}"]')
        opened = where
        mark = "would run" if step.verdict.runs else "cached"
        lines.append("  " * (len(where) + 1) + f'{_node(f"step{index}")}["{_label(step.name)}<br/>({mark})"]')
    lines += ["  " * depth + "end" for depth in range(len(opened), 0, -1)]
    files: dict[str, str] = {}
    for index, step in enumerate(steps):
        for path, arrow in [*((p, "in") for p in step.verdict.reads), *((p, "out") for p in step.verdict.writes)]:
            shown = _shown(path, root)
            node = files.setdefault(shown, _node(f"file{len(files)}"))
            if arrow == "in":
                lines.append(f'  {node}[("{_label(shown)}")] --> {_node(f"step{index}")}')
            else:
                lines.append(f'  {_node(f"step{index}")} --> {node}[("{_label(shown)}")]')
    return "\n".join(dict.fromkeys(lines))


def picture_markdown(steps: list[Step], root: Path) -> str:
    """The picture in a markdown fence (a docs page or an artifact)."""
    return f"\n### The pipeline\n\n```mermaid\n{mermaid(steps, root)}\n```\n"
