"""The generators run into a copy of the project: what they write imports, lints, runs, and is written once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from airnub.orchestration.departments import departments
from airnub.testing.fixtures import READINGS
from airnub.testing.helpers import write_notebook
from airnub.testing.scaffold import BIN, SCAFFOLD, assert_again_changes_nothing, generate, snapshot

DEPARTMENT = "flows/dept_harbour_ops"


def test_the_copy_holds_the_project_but_its_outputs(scaffolded):
    root, _, before = scaffolded
    assert "nbs/index.ipynb" in before and "nbs/reports/.notest" in before
    assert not any(path.startswith((".venv/", ".git/", "data/")) for path in before)


def test_generated_files_pass_the_linter(scaffolded):
    root, env, _ = scaffolded
    done = subprocess.run([BIN / "ruff", "check", "flows", "scripts"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout


def test_every_generated_module_imports_from_the_copy(scaffolded):
    root, env, before = scaffolded
    modules = sorted({path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
                      for path in snapshot(root).keys() - before.keys()
                      if path.endswith(".py") and path.startswith(("flows/", "airnub_prefect_starter/"))})
    assert "airnub_prefect_starter.core.smooth_readings" in modules
    assert f"{DEPARTMENT.replace('/', '.')}.processing.tide_gauges.tasks.smooth_readings_task" in modules
    code = ("import importlib, sys\nfor name in sys.argv[1:]:\n    module = importlib.import_module(name)\n"
            f"    assert module.__file__.startswith({str(root)!r}), module.__file__\nprint(len(sys.argv) - 1)")
    done = subprocess.run([sys.executable, "-c", code, *modules], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(modules) >= 15


def test_generated_notebook_exports_and_passes_its_own_tests(scaffolded):
    root, env, before = scaffolded
    (notebook,) = (root / "nbs" / "core").glob("*_smooth_readings.ipynb")
    taken = [int(path[len("nbs/core/"):][:2]) for path in before if re.match(r"nbs/core/\d\d_[^/]+\.ipynb$", path)]
    assert notebook.name == f"{(max(taken, default=-10) // 10 + 1) * 10:02d}_smooth_readings.ipynb", \
        "the next free number (a ten) after the notebooks already in nbs/core/"
    cells = json.loads(notebook.read_text())["cells"]
    assert "".join(cells[0]["source"]) == "#| default_exp core.smooth_readings"
    exported = snapshot(root)
    subprocess.run([BIN / "nbdev-export"], cwd=root, env=env, check=True, timeout=300)
    assert snapshot(root) == exported, "the generator left the package as nbdev-export writes it"
    done = subprocess.run([BIN / "nbdev-test", str(notebook)], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = root / "nbs" / "reports" / "tide_report.ipynb"
    subprocess.run([BIN / "nbdev-clean", "--fname", str(notebook)], cwd=root, env=env, check=True, timeout=120)
    subprocess.run([BIN / "nbdev-clean", "--fname", str(report)], cwd=root, env=env, check=True, timeout=120)
    assert snapshot(root) == exported, "generated notebooks are already as nbdev-clean keeps them"


@pytest.mark.integration
def test_new_department_runs_its_category_task_and_report(scaffolded):
    root, env, _ = scaffolded
    readings = root / "data" / "processed" / "readings.parquet"
    readings.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(READINGS).to_parquet(readings, index=False)
    done = subprocess.run([BIN / "airnub", "run", "harbour_ops", "--json"], cwd=root, capture_output=True, text=True,
                          env={**env, "AIRNUB_INPUT_TABLE": str(readings)}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["ingestion"] == {} and result["analysis"] == {}
    smoothed = root / "data/processed/dept_harbour_ops/processing/tide_gauges/smooth_readings.parquet"
    assert result["processing"]["tide_gauges"]["smooth_readings"]["output_file"] == str(smoothed)
    assert pd.read_parquet(smoothed)["level"].tolist() == [1.0, 2.0, 3.0, 5.0, 7.0], "window 3 from the task config"
    report = result["processing"]["tide_report"]
    assert "5 rows, 2 columns" in Path(report["report"]).read_text()
    assert pd.read_parquet(report["summary_table"]).set_index("column").loc["level", "mean"] == 5.0


def test_running_the_generators_again_changes_nothing(scaffolded):
    root, env, _ = scaffolded
    assert_again_changes_nothing(root, env, SCAFFOLD)


def test_department_is_mapped_and_deployed_with_the_file_layout_kept(scaffolded):
    root, _, _ = scaffolded
    from airnub.testing.helpers import PROJECT_ROOT

    original, changed = (PROJECT_ROOT / "prefect.local.yaml").read_text(), (root / "prefect.local.yaml").read_text()
    kept = re.sub(r"^deployments: \[\]\n\Z", "deployments:\n", original, flags=re.MULTILINE)  # none yet: a list now
    assert changed.startswith(kept), "comments, anchors and existing deployments stay byte for byte"
    added = changed[len(kept):]
    assert added.startswith("  # --- department: harbour_ops ---") and added.count("*local_process") == 4
    deployments = {d["name"]: d for d in yaml.safe_load(changed)["deployments"]}
    scheduled = {name for name, d in deployments.items() if d.get("schedules")}
    already = {d["name"] for d in yaml.safe_load(original)["deployments"] if d.get("schedules")}
    assert scheduled == already | {"pipeline-dept-harbour-ops"}, "the whole pipeline runs every morning"
    pipeline = deployments["pipeline-dept-harbour-ops"]
    assert pipeline["entrypoint"] == f"{DEPARTMENT}/pipeline_flow_dept_harbour_ops.py:pipeline_flow_dept_harbour_ops"
    assert pipeline["schedules"] == [{"cron": "0 6 * * *", "timezone": "UTC"}]
    processing = deployments["processing-dept-harbour-ops"]
    flow = "processing_flow_dept_harbour_ops"
    assert processing["entrypoint"] == f"{DEPARTMENT}/{flow}.py:{flow}"
    assert processing["work_pool"]["name"] == "{{ $AIRNUB_WORK_POOL }}"
    assert departments(root)["harbour_ops"] == "Harbour Ops", "found by its folder, named by its docstring"


@pytest.mark.parametrize("file, pool", [("prefect.docker.yaml", "docker"), ("prefect.kubernetes.yaml", "kubernetes")])
def test_department_is_deployed_on_the_container_pools_too(scaffolded, file, pool):
    root, _, _ = scaffolded
    local, container = (yaml.safe_load((root / name).read_text())["deployments"]
                        for name in ("prefect.local.yaml", file))
    assert [(d["name"], d["entrypoint"], d.get("schedules")) for d in container] == [
        (d["name"], d["entrypoint"], d.get("schedules")) for d in local], "the same deployments, on the file's pool"
    added = (root / file).read_text().split("# --- department: harbour_ops ---")[1]
    assert added.count(f"*{pool}") == 4 and "job_variables" not in added, "the pool's settings stay in one place"


@pytest.mark.parametrize(("command", "args", "named"), [
    ("add_department", ("--name", "Harbour Operations", "--id", "harbour_ops"), "already exists as 'Harbour Ops'"),
    ("add_department", ("--name", "ops/west"), "path separator"),
    ("add_department", ("--name", "9 Docks"), "starts with a digit"),
    ("add_department", ("--name", "lambda"), "keyword"),
    ("add_department", ("--name", "  "), "empty"),
    ("add_category", ("--department", "harbour_ops", "--stage", "processing", "--name", "Tide Report"),
     "already a task"),
    ("add_category", ("--department", "nowhere", "--stage", "processing", "--name", "Tides"), "does not exist"),
    ("add_task", ("--department", "harbour_ops", "--stage", "processing", "--category", "berths", "--name", "x"),
     "category: 'berths' does not exist"),
    ("add_task", ("--department", "harbour_ops", "--stage", "processing", "--category", "tide_gauges",
                  "--name", "smooth readings", "--notebook-task"), "another kind of task"),
    ("add_task", ("--department", "harbour_ops", "--stage", "processing", "--name", "for"), "keyword"),
    # names that would shadow a builtin or a name the generated notebook uses (its tests would fail)
    ("add_task", ("--department", "harbour_ops", "--stage", "processing", "--name", "list"),
     "task: 'list' is a Python builtin"),
    ("add_task", ("--department", "harbour_ops", "--stage", "processing", "--category", "tide_gauges",
                  "--name", "window"), "the generated notebook already uses the name 'window'"),
    ("airnub new task", ("--department", "harbour_ops", "--stage", "analysis", "--name", "Result"),
     "the generated notebook already uses the name 'result'"),
    ("airnub new category", ("--department", "harbour_ops", "--stage", "processing"), "expected --name"),
])
def test_refused_input_writes_nothing(scaffolded, command, args, named):
    root, env, _ = scaffolded
    tree = snapshot(root)
    done = generate(root, env, command, *args)
    assert done.returncode == 2 and named in done.stderr, done.stderr
    assert snapshot(root) == tree


def test_dry_run_lists_the_files_and_writes_none(scaffolded):
    root, env, _ = scaffolded
    tree = snapshot(root)
    done = generate(root, env, "add_task", "--department", "harbour_ops", "--stage", "analysis", "--name",
                    "rank berths", "--dry-run", yes=False)
    assert done.returncode == 0, done.stderr
    (smooth,) = (root / "nbs" / "core").glob("*_smooth_readings.ipynb")  # the last notebook added
    assert f"create nbs/core/{int(smooth.name[:2]) + 10:02d}_rank_berths.ipynb" in done.stdout
    assert "create airnub_prefect_starter/core/rank_berths.py (nbdev-export)" in done.stdout
    assert f"change {DEPARTMENT}/analysis_flow_dept_harbour_ops.py" in done.stdout
    assert snapshot(root) == tree


def test_a_task_named_like_a_notebook_that_exports_something_else_is_refused(scaffolded):
    root, env, _ = scaffolded
    taken = write_notebook(root / "nbs" / "core" / "95_berth_counts.ipynb", None, "#| default_exp core.berths")
    try:
        tree = snapshot(root)
        done = generate(root, env, "add_task", "--department", "harbour_ops", "--stage", "processing", "--name",
                        "berth counts")
        assert done.returncode == 2 and "95_berth_counts.ipynb exists and does not export berth_counts()" in done.stderr
        assert snapshot(root) == tree
    finally:
        taken.unlink()


def test_a_failure_half_way_undoes_everything(scaffolded):
    root, env, _ = scaffolded
    broken = root / "nbs" / "core" / "55_broken.ipynb"
    broken.write_text("{ this is not a notebook")
    try:
        tree = snapshot(root)
        done = generate(root, env, "add_task", "--department", "harbour_ops", "--stage", "analysis", "--name",
                        "rank berths")
        assert done.returncode == 1 and "nbdev-export failed" in done.stderr, done.stderr
        assert snapshot(root) == tree
        assert not (root / DEPARTMENT / "analysis" / "tasks").exists()
    finally:
        broken.unlink()
