"""The scaffolding on the demo department: wiring into its hand-written flows, prompting for its names."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from airnub.scaffolding.python_edit import add_before_return, add_import, add_parameter
from airnub.testing.helpers import PROJECT_ROOT
from airnub.testing.scaffold import BIN, assert_again_changes_nothing, generate, scaffold_copy, snapshot

# wiring into the hand-written demo flows: a category, and a task the stage flow runs itself
ON_THE_DEMO = [
    ("add_category", "--department", "demo", "--stage", "analysis", "--name", "Drift Checks"),
    ("add_task", "--department", "demo", "--stage", "analysis", "--name", "flag drift"),
]


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """`(root, env, before)`: a copy of the project with a category and a task added to the demo's flows."""
    return scaffold_copy(PROJECT_ROOT, tmp_path_factory.mktemp("project"), tmp_path_factory.mktemp("prefect-home"),
                         ON_THE_DEMO)


def test_what_is_wired_into_the_demo_lints_imports_and_is_written_once(scaffolded):
    root, env, before = scaffolded
    linted = subprocess.run([BIN / "ruff", "check", "flows", "scripts"], cwd=root, env=env, capture_output=True,
                            text=True, timeout=120)
    assert linted.returncode == 0, linted.stdout
    modules = sorted({path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
                      for path in snapshot(root).keys() - before.keys() if path.endswith(".py")})
    assert "flows.dept_demo.analysis.drift_checks.drift_checks_flow_dept_demo" in modules
    assert "airnub_prefect_starter.core.flag_drift" in modules
    modules += ["flows.dept_demo.analysis_flow_dept_demo", "flows.dept_demo.pipeline_flow_dept_demo"]  # wired into
    code = ("import importlib, sys\nfor name in sys.argv[1:]:\n"
            f"    assert importlib.import_module(name).__file__.startswith({str(root)!r}), name")
    imported = subprocess.run([sys.executable, "-c", code, *modules], cwd=root, env=env, capture_output=True,
                              text=True, timeout=300)
    assert imported.returncode == 0, imported.stderr
    assert_again_changes_nothing(root, env, ON_THE_DEMO)


def test_a_task_that_would_replace_the_papermill_task_of_the_demos_evaluation_flow_is_refused(scaffolded):
    root, env, _ = scaffolded
    tree = snapshot(root)
    done = generate(root, env, "add_task", "--department", "demo", "--stage", "analysis", "--category", "evaluation",
                    "--name", "run notebook")
    assert done.returncode == 2, done.stderr
    assert "run_notebook_task: the file it would be imported into already uses that name" in done.stderr
    assert snapshot(root) == tree


def test_wiring_into_a_hand_written_stage_flow_is_sorted_and_idempotent():
    source = (PROJECT_ROOT / "flows/dept_demo/processing_flow_dept_demo.py").read_text()
    function = "processing_flow_dept_demo"
    wired = add_import(source, "flows.dept_demo.processing.dedupe.dedupe_flow_dept_demo", "dedupe_flow_dept_demo")
    wired = add_parameter(wired, function, "run_dedupe: bool = True", "processing")
    call = '        results["dedupe"] = dedupe_flow_dept_demo()'
    wired = add_before_return(wired, function, ["    if run_dedupe:", call], "dedupe_flow_dept_demo", "processing")
    lines = wired.splitlines()
    imports = [line for line in lines if line.startswith("from flows.")]
    assert imports == sorted(imports) and len(imports) == 3
    assert f"def {function}(run_cleaning: bool = True, run_features: bool = True, run_dedupe: bool = True)" in wired
    assert lines.index(call) == lines.index("    return results") - 1
    again = add_import(wired, "flows.dept_demo.processing.dedupe.dedupe_flow_dept_demo", "dedupe_flow_dept_demo")
    again = add_parameter(again, function, "run_dedupe: bool = True", "processing")
    assert add_before_return(again, function, ["    x"], "dedupe_flow_dept_demo", "processing") == wired


def test_in_a_terminal_what_is_missing_is_asked_for(monkeypatch, capsys):
    from airnub.scaffolding.command import add_arguments, run

    answers = iter(["Tide Gauges", "demo", "processing"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    parser = argparse.ArgumentParser()
    add_arguments(parser, "category")
    assert run("category", parser.parse_args(["--dry-run", "--root", str(PROJECT_ROOT)]), interactive=True) == 0
    planned = capsys.readouterr().out
    assert "create flows/dept_demo/processing/tide_gauges/tide_gauges_flow_dept_demo.py" in planned
    assert "change flows/dept_demo/processing_flow_dept_demo.py" in planned
    assert not (PROJECT_ROOT / "flows/dept_demo/processing/tide_gauges").exists(), "a dry run writes nothing"
