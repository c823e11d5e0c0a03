"""What each generator writes: department, category, task. Each returns a Plan; nothing is written here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from airnub.engine.settings import CONFIG_ROOT, load_settings
from airnub.orchestration.departments import departments
from airnub.project import nbdev_folders, package_name
from airnub.scaffolding import notebooks, templates
from airnub.scaffolding.deployments import CONTAINER_DEPLOYMENTS_FILES, DEPLOYMENTS_FILE, add_deployments
from airnub.scaffolding.names import (
    STAGES,
    Department,
    ScaffoldError,
    component,
    department_id,
    identifier,
    stage,
    title,
)
from airnub.scaffolding.plan import Plan
from airnub.scaffolding.python_edit import (
    LINE_LENGTH,
    add_before_return,
    add_import,
    add_parameter,
    assigns,
    import_line,
)

CONFIGS = CONFIG_ROOT.as_posix()


def _department(plan: Plan, given: str) -> Department:
    """An existing department from its id (`harbour_ops` or `dept_harbour_ops`)."""
    known = departments(plan.root)
    short = department_id(given)
    if short not in known:
        raise ScaffoldError(f"department: {given!r} does not exist; expected one of {', '.join(known)} "
                            f"(add_department.py creates one)")
    return Department(short, known[short])


def _checked(plan: Plan) -> Plan:
    """`plan`, unless a generated Python file would not parse, or a name made a line longer than the linter allows."""
    for relative, text in plan.pending().items():
        if relative.endswith(".py"):
            try:
                ast.parse(text)
            except SyntaxError as error:
                raise ScaffoldError(f"{relative}: the generated code would not parse ({error})") from None
        too_long = [n for n, line in enumerate(text.splitlines(), 1) if len(line) > LINE_LENGTH]
        if relative.endswith(".py") and too_long:
            raise ScaffoldError(f"name: the names are too long for {relative} (line {too_long[0]} would exceed "
                                f"{LINE_LENGTH} characters); expected shorter names or ids")
    return plan


def _wire(plan: Plan, relative: str, edit, *arguments) -> None:
    """Apply one python_edit function to the planned text of `relative`."""
    text = plan.current(relative)
    if text is None:
        raise ScaffoldError(f"{relative} does not exist: the flow to wire into is missing")
    plan.change(relative, edit(text, *arguments))


def plan_department(root: Path, name: str, given_id: str | None = None) -> Plan:
    """A department: its stage flows and pipeline (found by their folder, nothing to register), configs, deployments."""
    plan = Plan(root)
    display = " ".join(name.split())
    derived = identifier(name, "name")  # validates the display name also when --id is given
    short = department_id(given_id) if given_id else derived
    known = departments(root)
    if short in known and known[short] != display:
        raise ScaffoldError(f"department id: {short!r} already exists as {known[short]!r}; expected that name "
                            f"or another --id")
    department = Department(short, display)
    folder = f"flows/{department.package}"
    plan.create(f"{folder}/__init__.py", templates.package_init(
        f"{display} department: its stage flows, categories and tasks."))
    for each in STAGES:  # a stage flow that exists (hand-written, or generated earlier) is left as it is
        if plan.current(f"{folder}/{each}_flow_{department.package}.py") is not None:
            continue
        plan.create(f"{folder}/{each}/__init__.py", templates.package_init(
            f"{display} department, {each} stage: its categories."))
        plan.create(f"{folder}/{each}_flow_{department.package}.py", templates.stage_flow(department, each))
        plan.create(f"{CONFIGS}/{department.package}/{each}.yaml", templates.stage_config(department, each))
    plan.create(f"{folder}/pipeline_flow_{department.package}.py", templates.pipeline_flow(department, STAGES))
    _wire(plan, DEPLOYMENTS_FILE, add_deployments, department, STAGES, DEPLOYMENTS_FILE)
    for kept in (file for file in CONTAINER_DEPLOYMENTS_FILES if plan.current(file) is not None):
        _wire(plan, kept, add_deployments, department, STAGES, kept)
    return _checked(plan)


def plan_category(root: Path, department: str, stage_name: str, name: str) -> Plan:
    """A category flow with its tasks package and config, run by its stage flow behind `run_<category>`."""
    plan = Plan(root)
    dept, stage_name, category = _department(plan, department), stage(stage_name), component(name, "category")
    display = title(name)
    stage_dir = f"flows/{dept.package}/{stage_name}"
    if plan.current(f"{stage_dir}/tasks/{category}_task.py") is not None:
        raise ScaffoldError(f"category: {category!r} is already a task of the {stage_name} stage; "
                            "expected another name")
    folder = f"{stage_dir}/{category}"
    plan.create(f"{stage_dir}/__init__.py", templates.package_init(f"{dept.name} department, {stage_name} stage."))
    plan.create(f"{folder}/__init__.py", templates.package_init(f"Category {category}: its flow and tasks."))
    plan.create(f"{folder}/tasks/__init__.py", templates.package_init(
        f"Tasks of the {category} category: thin wrappers over exported functions."))
    plan.create(f"{folder}/{dept.flow_name(category)}.py", templates.category_flow(dept, stage_name, category, display))
    plan.create(f"{CONFIGS}/{dept.package}/{stage_name}/{category}.yaml",
                templates.category_config(dept, stage_name, category, display))
    stage_flow, function = f"flows/{dept.package}/{dept.flow_name(stage_name)}.py", dept.flow_name(stage_name)
    module = f"flows.{dept.package}.{stage_name}.{category}.{dept.flow_name(category)}"
    _wire(plan, stage_flow, add_import, module, dept.flow_name(category))
    _wire(plan, stage_flow, add_parameter, function, f"run_{category}: bool = True", stage_flow)
    has_config = assigns(plan.current(stage_flow), function, "config", stage_flow)
    _wire(plan, stage_flow, add_before_return, function, templates.wire_category(dept, category, has_config),
          dept.flow_name(category), stage_flow)
    return _checked(plan)


def _kernel_name(root: Path) -> str:
    """The project kernel as settings.ini names it (environment overrides are for runs, not for files)."""
    return load_settings(root, environ={}, check_kernel=False).kernel_name


def _task_notebook(plan: Plan, task: str, name: str, where: str, notebook_task: bool) -> str:
    """Plan the task's notebook; return its path relative to the project."""
    kernel = _kernel_name(plan.root)
    if notebook_task:
        relative = f"nbs/reports/{task}.ipynb"
        existing = plan.current(relative)
        if existing is not None and not ('"parameters"' in existing and "summary_table" in existing):
            raise ScaffoldError(f"task: {relative} exists and is not a report with input_table and summary_table "
                                f"parameters; expected another name")
        plan.create(relative, notebooks.report_notebook(task, name, where, kernel))
        return relative
    core = plan.root / "nbs" / "core"
    mine = [p for p in core.glob("*.ipynb") if re.fullmatch(rf"\d+[a-z]?_{task}\.ipynb", p.name)]
    for path in mine:
        if not notebooks.exports_function(path, f"core.{task}", task):
            raise ScaffoldError(f"task: {path.relative_to(plan.root)} exists and does not export {task}() "
                                f"as core.{task}; expected another name")
    package = nbdev_folders(plan.root)[1].relative_to(plan.root).as_posix()
    module = f"{package}/core/{task}.py"
    if not mine and (plan.root / module).exists():
        raise ScaffoldError(f"task: {module} already exists (from another notebook); expected another name")
    notebooks.check_task_name(task)
    fresh = f"nbs/core/{notebooks.next_number(core)}_{task}.ipynb"
    relative = mine[0].relative_to(plan.root).as_posix() if mine else fresh
    plan.create(relative, notebooks.core_notebook(task, name, where, kernel))
    plan.exported = [module, f"{package}/_modidx.py"]
    return relative


def plan_task(root: Path, department: str, stage_name: str, category: str | None, name: str,
              notebook_task: bool = False) -> Plan:
    """A task: its notebook (exported with nbdev-export), thin wrapper and config, wired into its flow."""
    plan = Plan(root)
    dept, stage_name, task = _department(plan, department), stage(stage_name), component(name, "task")
    display = title(name)
    stage_dir = f"flows/{dept.package}/{stage_name}"
    if category is not None:
        category = component(category, "category")
        flow_file = f"{stage_dir}/{category}/{dept.flow_name(category)}.py"
        if plan.current(flow_file) is None:
            raise ScaffoldError(f"category: {category!r} does not exist in {stage_dir}; expected an existing "
                                f"category (add_category.py creates one)")
        tasks_dir, parts, function = f"{stage_dir}/{category}/tasks", (stage_name, category), dept.flow_name(category)
    else:
        if plan.current(f"{stage_dir}/{task}/{dept.flow_name(task)}.py") is not None:
            raise ScaffoldError(f"task: {task!r} is already a category of the {stage_name} stage; "
                                "expected another name")
        flow_file = f"flows/{dept.package}/{dept.flow_name(stage_name)}.py"
        tasks_dir, parts, function = f"{stage_dir}/tasks", (stage_name,), dept.flow_name(stage_name)
    where = (f"the {category} category of " if category else "") + f"the {stage_name} stage of {dept.name}"
    notebook = _task_notebook(plan, task, display, where, notebook_task)
    wrapper = f"{tasks_dir}/{task}_task.py"
    existing = plan.current(wrapper)
    core_import = import_line(f"{package_name(root)}.core.{task}", f"{task}_file")
    marker = f'Path("{notebook}")' if notebook_task else core_import
    if existing is not None and marker not in existing:
        raise ScaffoldError(f"task: {wrapper} exists as another kind of task; expected "
                            f"{'--notebook-task' if not notebook_task else 'no --notebook-task'} or another name")
    plan.create(f"{tasks_dir}/__init__.py", templates.package_init(
        f"Tasks of the {stage_name} stage of {dept.name}: thin wrappers over exported functions."))
    plan.create(wrapper, templates.task_wrapper(task, display, notebook, notebook_task, package_name(root)))
    plan.create(f"{CONFIGS}/{dept.package}/{'/'.join(parts)}/{task}.yaml",
                templates.task_config(dept, (*parts, task), display, notebook_task, category is None))
    _wire(plan, flow_file, add_import, f"flows.{dept.package}.{'.'.join(parts)}.tasks.{task}_task", f"{task}_task")
    if category is None:
        _wire(plan, flow_file, add_import, "airnub.orchestration.config", "load_config")
        _wire(plan, flow_file, add_parameter, function, f"run_{task}: bool = True", flow_file)
    _wire(plan, flow_file, add_before_return, function,
          templates.wire_task(dept, parts, task, category is not None), f"{task}_task", flow_file)
    return _checked(plan)
