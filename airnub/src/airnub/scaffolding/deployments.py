"""Deployments of a new department, appended to each deployments file with its comments, anchors and layout kept."""

from __future__ import annotations

import io

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from airnub.scaffolding.names import Department, ScaffoldError

DEPLOYMENTS_FILE = "prefect.local.yaml"
# The same deployments on other work pools (Docker, Kubernetes): each file names one pool in its definitions, and a
# new department is added to every one of them that the project keeps (a project may delete the container files).
CONTAINER_DEPLOYMENTS_FILES = ("prefect.docker.yaml", "prefect.kubernetes.yaml")
HEADER_WIDTH = 88  # `--- department: <id> ---...` after the `# ` as the file writes it
DESCRIPTIONS = {"pipeline": "The whole pipeline of {name} every morning (ingestion, processing, analysis).",
                "ingestion": "Bring data in for {name}.", "processing": "Clean and transform data for {name}.",
                "analysis": "Analyse data and report for {name}."}


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def _deployment(department: Department, stage: str, data: CommentedMap, pool: str) -> CommentedMap:
    definitions = data["definitions"]
    entry = CommentedMap()
    entry["name"] = department.prefect_name(stage)
    entry["description"] = DESCRIPTIONS[stage].format(name=department.name)
    module = f"flows/{department.package}/{stage}_flow_{department.package}.py"
    entry["entrypoint"] = f"{module}:{department.flow_name(stage)}"
    tags = CommentedSeq([department.package, stage])
    tags.fa.set_flow_style()
    entry["tags"] = tags
    entry["work_pool"] = definitions["work_pools"][pool]  # dumped as the file's alias, e.g. *local_process
    if stage == "pipeline":  # the shared daily_morning schedule: every stage runs every morning, in order
        entry["schedules"] = CommentedSeq([definitions["schedules"]["daily_morning"]])
    return entry


def add_deployments(text: str, department: Department, stages: tuple[str, ...],
                    file: str = DEPLOYMENTS_FILE) -> str:
    """`text` (a deployments file) with `department`'s scheduled pipeline and a deployment per stage on the file's
    one work pool; unchanged when they are there."""
    stages = ("pipeline", *stages)
    yaml = _yaml()
    data = yaml.load(text)
    try:
        deployments = data["deployments"]
        (pool,) = data["definitions"]["work_pools"]
        data["definitions"]["schedules"]["daily_morning"]
    except (KeyError, TypeError, ValueError) as error:
        raise ScaffoldError(f"{file}: expected `deployments` and the definitions `work_pools` (one pool) and "
                            f"`schedules.daily_morning`; missing or more than one: {error}") from None
    present = {entry.get("name") for entry in deployments}
    missing = [stage for stage in stages if department.prefect_name(stage) not in present]
    if not missing:
        return text
    first = len(deployments)
    deployments.extend(_deployment(department, stage, data, pool) for stage in missing)
    if len(missing) == len(stages):
        header = f"--- department: {department.id} ".ljust(HEADER_WIDTH, "-")
        deployments.yaml_set_comment_before_after_key(first, before=header, indent=2)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
