"""The Python and YAML files the generators write, in the house layout (see docs/layout.md)."""

from __future__ import annotations

from airnub.scaffolding.names import Department
from airnub.scaffolding.python_edit import LINE_LENGTH, import_line

FLOW_TAIL = '\n\nif __name__ == "__main__":\n    {function}()\n'


def _pack(first: str, continuation: str, arguments: list[str], closing: str) -> list[str]:
    rows, row = [], first
    for index, argument in enumerate(arguments):
        piece = argument + (", " if index < len(arguments) - 1 else closing)
        if len(row) + len(piece) > LINE_LENGTH and row not in (first, continuation):
            rows.append(row.rstrip())
            row = continuation
        row += piece
    return [*rows, row]


def call(indent: str, head: str, arguments: list[str], brackets: str = "()") -> list[str]:
    """`head(arguments)` at `indent`: one line, else wrapped and aligned, else with a hanging indent."""
    opening = f"{indent}{head}{brackets[0]}"
    if not arguments:
        return [opening + brackets[1]]
    aligned = _pack(opening, " " * len(opening), arguments, brackets[1])
    if all(len(row) <= LINE_LENGTH for row in aligned):
        return aligned
    return [opening, *_pack(indent + "    ", indent + "    ", arguments, brackets[1])]


def config_parts(department: Department, *parts: str) -> str:
    return ", ".join(f'"{part}"' for part in (department.package, *parts))


def package_init(docstring: str) -> str:
    return f'"""{docstring}"""\n'


def stage_flow(department: Department, stage: str) -> str:
    function = department.flow_name(stage)
    return (f'"""Stage flow: {stage} for the {department.name} department."""\n\n'
            "from prefect import flow\nfrom prefect.logging import get_run_logger\n\n"
            "from airnub.orchestration.config import load_config\n"
            "from airnub.orchestration.locks import one_run_at_a_time\n"
            "from airnub.orchestration.subflows import without_heartbeats\n"
            "from airnub.orchestration.tables import input_table_text\n\n"
            f"# configs/variables/{department.package}/{stage}.yaml\n"
            f"CONFIG = ({config_parts(department, stage)})\n\n\n"
            f'@flow(name="{department.prefect_name(stage)}")\n@without_heartbeats()\n@one_run_at_a_time()\n'
            f"def {function}(input_table: str | None = None) -> dict:\n"
            f'    """Run the {stage} categories of {department.name} in order; return their results."""\n'
            '    config = load_config(*CONFIG, overrides={"input_table": input_table})\n'
            '    get_run_logger().info("input table: %s", input_table_text(config["input_table"]))\n'
            "    results = {}\n    return results\n" + FLOW_TAIL.format(function=function))


def pipeline_flow(department: Department, stages: tuple[str, ...]) -> str:
    function = department.flow_name("pipeline")
    imports = sorted(import_line(f"flows.{department.package}.{department.flow_name(s)}", department.flow_name(s))
                     for s in stages)
    body = call("    ", "return ", [f'"{s}": {department.flow_name(s)}()' for s in stages], brackets="{}")
    return (f'"""The {department.name} department\'s whole pipeline (`airnub run {department.id}`)."""\n\n'
            "from prefect import flow\n\nfrom airnub.orchestration.locks import one_run_at_a_time\n"
            "from airnub.orchestration.subflows import without_heartbeats\n"
            + "\n".join(imports) + "\n\n\n"
            f'@flow(name="{department.prefect_name("pipeline")}")\n@without_heartbeats()\n@one_run_at_a_time()\n'
            f"def {function}() -> dict:\n"
            f'    """Run the three stages of the {department.name} department in order."""\n'
            + "\n".join(body) + "\n" + FLOW_TAIL.format(function=function))


def stage_config(department: Department, stage: str) -> str:
    return (f"# The {stage} stage of {department.name} "
            f"(flows/{department.package}/{stage}_flow_{department.package}.py).\n"
            f"# Prefect Variable: {department.package}__{stage}. Flow parameters override these values.\n"
            'input_table: ""   # parquet table its categories read, relative to the storage root; '
            "empty: input_table of settings.ini\n")


def category_flow(department: Department, stage: str, category: str, name: str) -> str:
    function = department.flow_name(category)
    return (f'"""{stage.capitalize()} category {category} of {department.package}: its tasks, in order."""\n\n'
            "from prefect import flow\nfrom prefect.logging import get_run_logger\n\n"
            "from airnub.orchestration.config import load_config\n"
            "from airnub.orchestration.tables import input_table_text\n\n"
            f"# configs/variables/{department.package}/{stage}/{category}.yaml, and {category}/ per task\n"
            f"CONFIG = ({config_parts(department, stage, category)})\n\n\n"
            f'@flow(name="{department.prefect_name(category)}")\n'
            f'def {function}(input_table: str = "", output_folder: str | None = None) -> dict:\n'
            '    """Run the tasks of this category in order on `input_table` (empty: input_table of settings.ini).\n\n'
            '    Unset parameters come from the category config.\n    """\n'
            '    config = load_config(*CONFIG, overrides={"output_folder": output_folder})\n'
            '    get_run_logger().info("tasks read %s, write under %s in the processed folder",\n'
            '                          input_table_text(input_table), config["output_folder"])\n'
            "    results = {}\n    return results\n" + FLOW_TAIL.format(function=function))


def category_config(department: Department, stage: str, category: str, name: str) -> str:
    return (f"# Category {name} of {department.name}, {stage} stage "
            f"(flows/{department.package}/{stage}/{category}/).\n"
            f"# Prefect Variable: {department.package}__{stage}__{category}. Its tasks' own settings are in "
            f"{category}/<task>.yaml.\n"
            f"output_folder: {department.package}/{stage}/{category}   # where its tasks write their tables, "
            "relative to the processed folder\n")


def task_config(department: Department, parts: tuple[str, ...], name: str, notebook: bool, standalone: bool) -> str:
    """The task's YAML; `standalone` (no category) also holds the input and output a category would give it."""
    lines = [f"# Task {name} of {department.name}, {' / '.join(parts)}.",
             f"# Prefect Variable: {'__'.join((department.package, *parts))}."]
    if standalone:
        lines += ['input_table: ""   # parquet table to read, relative to the storage root; '
                  "empty: input_table of settings.ini",
                  f"output_folder: {department.package}/{parts[0]}   # where the result goes, "
                  "relative to the processed folder"]
    if notebook:
        lines += [f'title: "{name}"   # heading of the report']
    else:
        lines += ["window: 3   # rows each rolling mean covers", "columns: []   # numeric columns to smooth; "
                  "empty: every numeric column"]
    return "\n".join(lines) + "\n"


def task_wrapper(task: str, name: str, notebook_path: str, notebook: bool, package: str) -> str:
    """The thin task module: it calls the exported function (of the project's `package`, or the report notebook)."""
    if notebook:
        run = call("    ", "run = run_notebook_task",
                   ["REPORT_NOTEBOOK", '{"input_table": str(input_table_path(input_table)), '
                    '"summary_table": str(summary), "title": title}'])
        return (f'"""Task {task}: the report notebook {notebook_path}, run through the papermill task."""\n\n'
                "from pathlib import Path\n\nfrom prefect import task\n\n"
                "from airnub.orchestration.notebook_task import run_notebook_task\n"
                "from airnub.orchestration.tables import input_table_path, output_table_path\n\n"
                f'REPORT_NOTEBOOK = Path("{notebook_path}")\n\n\n'
                f'@task(name="{task.replace("_", "-")}")\n'
                f"def {task}_task(input_table: str, output_folder: str, title: str) -> dict:\n"
                '    """Run the report on `input_table`, saving its summary table in `output_folder`; '
                'return where both are."""\n'
                f'    summary = output_table_path(output_folder, "{task}_summary")\n'
                + "\n".join(run) + "\n"
                '    return {"report": str(run.html), "summary_table": str(summary)}\n')
    log = '"%s -> %s: %d rows, %d columns", source, target, summary["rows"], summary["columns"]'
    return (f'"""Task {task}: a thin wrapper over the function exported from {notebook_path}."""\n\n'
            "from prefect import task\nfrom prefect.logging import get_run_logger\n\n"
            "from airnub.orchestration.tables import input_table_path, output_table_path\n"
            + import_line(f"{package}.core.{task}", f"{task}_file") + "\n\n\n"
            f'@task(name="{task.replace("_", "-")}")\n'
            f"def {task}_task(input_table: str, output_folder: str, window: int, columns: list[str]) -> dict:\n"
            f'    """{name} of `input_table` into `output_folder`; return the shape of the result."""\n'
            f'    source, target = input_table_path(input_table), output_table_path(output_folder, "{task}")\n'
            + "\n".join(call("    ", "summary = " + f"{task}_file", ["source", "target", "window", "columns"])) + "\n"
            + "\n".join(call("    ", "get_run_logger().info", [log])) + "\n"
            "    return summary\n")


def wire_category(department: Department, category: str, stage_has_config: bool) -> list[str]:
    """The lines a stage flow gets for a new category: run it unless switched off."""
    argument = ['config["input_table"]'] if stage_has_config else []
    return [f"    if run_{category}:",
            *call("        ", f'results["{category}"] = {department.flow_name(category)}', argument)]


def wire_task(department: Department, parts: tuple[str, ...], task: str, in_category: bool) -> list[str]:
    """The lines a category flow (or a stage flow, without a category) gets for a new task."""
    config = f'**load_config({config_parts(department, *parts, task)})'
    if in_category:
        return call("    ", f'results["{task}"] = {task}_task',
                    ["input_table", 'config["output_folder"]', f'**load_config(*CONFIG, "{task}")'])
    return [f"    if run_{task}:", *call("        ", f'results["{task}"] = {task}_task', [config])]
