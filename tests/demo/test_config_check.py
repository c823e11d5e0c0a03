"""A config is checked against the flow it configures before any flow run (issue 20 item 4), on the demo's configs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from airnub.engine.settings import SETTINGS_FILE
from airnub.orchestration.config_check import config_problems
from airnub.testing.helpers import PROJECT_ROOT, airnub

TRAINING = "configs/variables/dept_demo/analysis/training.yaml"


@pytest.fixture
def demo_configs(tmp_path) -> Path:
    """A project at tmp_path/project with the demo's settings and configs (its flows are this checkout's)."""
    root = tmp_path / "project"
    for name in (SETTINGS_FILE, "pyproject.toml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / name, root / name)
    shutil.copytree(PROJECT_ROOT / "configs" / "variables" / "dept_demo", root / "configs" / "variables" / "dept_demo")
    (root / "flows").symlink_to(PROJECT_ROOT / "flows")  # its departments: found by their folders
    return root


def test_the_demo_configs_fit_their_flows(demo_configs):
    assert config_problems(demo_configs) == []


@pytest.mark.parametrize("command", [("run", "demo"), ("variables", "sync", "--dry-run")])
def test_a_typo_text_for_a_number_and_a_duplicate_key_are_refused_before_any_run(command, demo_configs,
                                                                                   subprocess_env):
    (demo_configs / TRAINING).write_text("test_size: abc\nrandom_state: 42\nregularisaton: 1.0\n")
    done = airnub(*command, env={**subprocess_env, "AIRNUB_PROJECT_ROOT": str(demo_configs)})
    assert done.returncode == 2 and done.stdout == "", done.stdout
    training = demo_configs / TRAINING  # named whole: the command runs outside that project's folder
    assert done.stderr.splitlines() == [
        f"airnub: {training}:1: test_size: expected a number (float), got 'abc'",
        f"airnub: {training}:3: unknown key 'regularisaton': did you mean 'regularisation'? flow training-dept-demo "
        "takes test_size, random_state, regularisation"], done.stderr
    (demo_configs / TRAINING).write_text("test_size: 0.25\nrandom_state: 42\nrandom_state: 7\n")
    done = airnub(*command, env={**subprocess_env, "AIRNUB_PROJECT_ROOT": str(demo_configs)})
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr == (f"airnub: {training}:3: not valid YAML (duplicate key 'random_state' (first on line 2); "
                           "keep one of them)\n"), done.stderr


def test_a_variable_that_overrides_its_file_is_checked_too(demo_configs, monkeypatch):
    monkeypatch.chdir(demo_configs)  # from the project's folder, files are named from there
    stored = {"dept_demo__analysis__training": {"test_size": "0.2", "random_state": 42}}
    assert config_problems(demo_configs, stored.get) == [
        "Prefect Variable 'dept_demo__analysis__training' (it differs from " + TRAINING + ", and a run reads it): "
        "test_size: expected a number (float), got '0.2'"]


def test_a_task_config_is_checked_against_the_task(demo_configs, monkeypatch):
    monkeypatch.chdir(demo_configs)
    (demo_configs / "configs/variables/dept_demo/analysis/training/notify_webhook.yaml").write_text(
        "mesage: 'trained'\ntimeout_seconds: soon\n")
    assert config_problems(demo_configs) == [
        "configs/variables/dept_demo/analysis/training/notify_webhook.yaml:1: unknown key 'mesage': did you mean "
        "'message'? task notify-webhook takes message, values, timeout_seconds",
        "configs/variables/dept_demo/analysis/training/notify_webhook.yaml:2: timeout_seconds: expected a number "
        "(float), got 'soon'"]
