"""The shared pieces of the generators: names, all-or-nothing writing, wiring into existing flows."""

from __future__ import annotations

import os

import pytest

from airnub.scaffolding import plan as plan_module
from airnub.scaffolding.deployments import add_deployments
from airnub.scaffolding.names import Department, ScaffoldError, component, department_id, identifier
from airnub.scaffolding.notebooks import check_task_name, core_notebook
from airnub.scaffolding.plan import Plan
from airnub.scaffolding.python_edit import add_before_return, add_import, add_parameter


@pytest.mark.parametrize(("text", "expected"), [
    ("Harbour Ops", "harbour_ops"), ("  Tide   Gauges ", "tide_gauges"), ("smooth-readings", "smooth_readings"),
    ("HarbourOps", "harbour_ops"), ("Berth 2 Counts", "berth_2_counts"),
])
def test_display_names_become_identifiers(text, expected):
    assert identifier(text, "name") == expected


@pytest.mark.parametrize(("text", "named"), [
    ("a\\b", "path separator"), ("../x", "path separator"), ("2nd shift", "digit"), ("import", "keyword"),
    ("", "empty"), ("---", "no letters"), ("Häfen", "ASCII"), ("x" * 40, "longer than"),
])
def test_bad_names_are_refused_with_the_field_named(text, named):
    with pytest.raises(ScaffoldError, match=named) as refused:
        identifier(text, "category")
    assert str(refused.value).startswith("category: ")


@pytest.mark.parametrize(("text", "named"), [("Tasks", "layout"), ("processing", "layout")])
def test_names_the_layout_already_uses_are_refused(text, named):
    with pytest.raises(ScaffoldError, match=named):
        component(text, "task")


@pytest.mark.parametrize(("task", "named"), [
    ("list", "builtin"), ("sum", "builtin"), ("input", "builtin"), ("window", "uses the name 'window'"),
    ("result", "uses the name 'result'"), ("columns", "uses the name 'columns'"), ("pd", "uses the name 'pd'"),
    ("readings", "uses the name 'readings'"), ("source", "uses the name 'source'"),
])
def test_task_names_that_would_shadow_what_the_notebook_uses_are_refused(task, named):
    with pytest.raises(ScaffoldError, match=named) as refused:
        check_task_name(task)
    assert str(refused.value).startswith(f"task: {task!r} ")


def test_a_task_name_left_free_runs_in_the_generated_notebook():
    """Every name the check lets through gives a notebook whose own tests pass (run here in-process)."""
    import nbformat

    for task in ("smooth_readings", "rolling_mean", "output", "berths"):
        cells = nbformat.reads(core_notebook(check_task_name(task), "T", "a stage", "python3"), as_version=4).cells
        namespace: dict = {}
        for cell in cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, f"{task}.ipynb", "exec"), namespace)  # noqa: S102 - our own template


def test_department_id_takes_the_folder_form_or_the_short_one():
    assert department_id("dept_harbour_ops") == department_id("harbour_ops") == "harbour_ops"


def test_a_failing_export_restores_changed_files_and_removes_new_ones(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.nbdev]\nlib_path = "pkg"\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "flow.py").write_text("original\n")

    def half_export(root):
        (root / "pkg" / "a.py").write_text("A = 2\n")
        (root / "pkg" / "b.py").write_text("B = 1\n")
        raise ScaffoldError("nbdev-export failed")

    monkeypatch.setattr(plan_module, "nbdev_export", half_export)
    plan = Plan(tmp_path, exported=["pkg/c.py"])
    plan.create("nbs/core/new/10_x.ipynb", "{}")
    plan.change("flow.py", "wired\n")
    with pytest.raises(ScaffoldError):
        plan.apply()
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "flow.py", "pkg", "pkg/a.py", "pyproject.toml"]
    assert (tmp_path / "flow.py").read_text() == "original\n" and (tmp_path / "pkg/a.py").read_text() == "A = 1\n"


def test_a_rewritten_file_keeps_its_mode_and_a_new_one_gets_the_usual_mode(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.nbdev]\nlib_path = "pkg"\n')
    (tmp_path / "script.py").write_text("original\n")
    (tmp_path / "script.py").chmod(0o755)
    plan = Plan(tmp_path)
    plan.change("script.py", "wired\n")
    plan.create("configs/new.yaml", "a: 1\n")
    plan.apply()
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "script.py").read_text() == "wired\n"
    assert (tmp_path / "script.py").stat().st_mode & 0o777 == 0o755, "a rewritten file keeps its mode"
    assert (tmp_path / "configs/new.yaml").stat().st_mode & 0o777 == 0o666 & ~umask, "not mkstemp's 0600"


def test_a_flow_of_another_shape_is_refused_with_what_to_add_by_hand():
    source = 'from prefect import flow\n\n\n@flow\ndef f() -> dict:\n    """Doc."""\n    return {"a": 1}\n'
    with pytest.raises(ScaffoldError, match="by hand"):
        add_before_return(source, "f", ["    pass"], "g", "f.py")


def test_a_parameter_joins_a_multi_line_signature_and_keeps_the_body():
    source = ('@flow\ndef f(\n    a: int = 1,\n    b: str = "x",\n) -> dict:\n    # the body starts here\n'
              '    results = {}\n    return results\n')
    changed = add_parameter(source, "f", "run_x: bool = True", "f.py")
    assert changed == ('@flow\ndef f(a: int = 1, b: str = "x", run_x: bool = True) -> dict:\n'
                       '    # the body starts here\n    results = {}\n    return results\n')


@pytest.mark.parametrize("source", [
    "from airnub.orchestration.notebook_task import run_notebook_task\n",
    "from airnub.orchestration import notebook_task as run_notebook_task\n",
    "def run_notebook_task():\n    pass\n",
    "run_notebook_task = None\n",
])
def test_an_import_that_would_replace_a_name_the_file_uses_is_refused(source):
    with pytest.raises(ScaffoldError, match="run_notebook_task: the file it would be imported into already uses"):
        add_import(source, "flows.dept_demo.analysis.tasks.run_notebook_task", "run_notebook_task")
    assert "from flows.x import run_notebook_task" in add_import("from flows.x import run_notebook_task\n", "flows.x",
                                                                "run_notebook_task"), "the same import: unchanged"


def test_a_deployments_file_without_one_work_pool_is_refused_with_the_file_named():
    text = ("definitions:\n  work_pools:\n    docker: &docker {name: a}\n    kubernetes: &kubernetes {name: b}\n"
            "  schedules:\n    daily_morning: &daily_morning {cron: '0 6 * * *'}\ndeployments: []\n")
    with pytest.raises(ScaffoldError, match=r"^prefect\.docker\.yaml: expected .*`work_pools` \(one pool\)"):
        add_deployments(text, Department("harbour_ops", "Harbour Ops"), ("ingestion",), "prefect.docker.yaml")
    one_pool = text.replace("    kubernetes: &kubernetes {name: b}\n", "")
    added = add_deployments(one_pool, Department("harbour_ops", "Harbour Ops"), ("ingestion",), "prefect.docker.yaml")
    assert added.count("work_pool: *docker") == 2, "the pipeline and the stage, on the file's one pool"
