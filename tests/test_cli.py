"""The `airnub` console script, run as a user runs it: a subprocess with its own Prefect home."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import PROJECT_ROOT, write_notebook

AIRNUB = Path(sys.executable).parent / "airnub"


def airnub(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([AIRNUB, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_run_a_single_stage(subprocess_env, tmp_path):
    done = airnub("run", "demo", "--stage", "ingestion", env=subprocess_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["bundled_dataset"]["rows"] == 178
    assert len(pd.read_csv(tmp_path / "data" / "raw" / "wine.csv")) == 178
    assert not (tmp_path / "data" / "interim" / "wine_clean.parquet").exists(), "only the ingestion stage ran"


@pytest.mark.parametrize(("args", "named", "listed"), [
    (("run", "harbour"), "'harbour'", "demo"),
    (("run", "demo", "--stage", "cooking"), "'cooking'", "ingestion, processing, analysis"),
])
def test_unknown_department_or_stage_is_refused(subprocess_env, args, named, listed):
    done = airnub(*args, env=subprocess_env)
    assert done.returncode == 2
    assert named in done.stderr and listed in done.stderr


def test_notebook_command_converts_and_injects_parameters(subprocess_env, tmp_path):
    notebook = write_notebook(tmp_path / "area.ipynb", "side: int = 2\nlabels: list = []",
                              "print('area', side * side, 'labels', len(labels))")
    done = airnub("notebook", str(notebook), "-p", "side", "7", "-p", "labels", "[a, b, c]", env=subprocess_env)
    assert done.returncode == 0, done.stderr
    html = Path(done.stdout.split("report: ")[1].strip())
    assert html.is_relative_to(tmp_path / "reports") and "area 49 labels 3" in html.read_text()


def test_variables_sync_refuses_a_broken_file_naming_it(subprocess_env, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "configs", project / "configs")
    for name in ("settings.ini", "pyproject.toml"):
        shutil.copy(PROJECT_ROOT / name, project)
    broken = project / "configs" / "variables" / "dept_demo" / "processing" / "cleaning.yaml"
    broken.write_text("include_dropped_files: true\n  nested: [oops\n")
    done = airnub("variables", "sync", env={**subprocess_env, "AIRNUB_PROJECT_ROOT": str(project)})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"airnub: {broken}:2: not valid YAML"), done.stderr


def test_variables_dry_run_and_blocks_setup(subprocess_env):
    files = sorted((PROJECT_ROOT / "configs" / "variables").rglob("*.yaml"))
    dry = airnub("variables", "sync", "--dry-run", env=subprocess_env)
    assert dry.returncode == 0, dry.stderr
    assert "would create  dept_demo__ingestion__inbox_csv  (configs/variables/dept_demo/ingestion/inbox_csv.yaml)" \
        in dry.stdout
    assert f"{len(files)} Variable(s): {len(files)} would create, 0 would update, 0 unchanged" in dry.stdout
    secret = "https://hooks.example.invalid/services/s3cr3t-t0ken"
    blocks = airnub("blocks", "setup", env={**subprocess_env, "AIRNUB_WEBHOOK_URL": secret})
    assert blocks.returncode == 0, blocks.stderr
    assert blocks.stdout == "airnub-webhook-url: saved from AIRNUB_WEBHOOK_URL\n"
    assert "s3cr3t" not in blocks.stdout + blocks.stderr
