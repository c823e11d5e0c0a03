"""The team path, as a user walks it: serve, variables, deploy, worker, run; then a server restart.

On a project with a department of its own (the `department_project` fixture), as a project without the demo has."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from airnub.engine.settings import load_settings
from airnub.testing.helpers import PROJECT_ROOT
from airnub.testing.processes import background, make

pytestmark = pytest.mark.integration

PREFECT = [sys.executable, "-m", "prefect"]
LIST_STATE = """
import asyncio, json
from prefect.client.orchestration import get_client
async def main():
    async with get_client() as client:
        variables = {v.name: v.value for v in await client.read_variables()}
        deployments = {d.name: [d.work_pool_name, sorted(d.tags), len(d.schedules)]
                       for d in await client.read_deployments()}
    print(json.dumps({"variables": variables, "deployments": deployments}))
asyncio.run(main())
"""


def server_state(env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", LIST_STATE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_serve_variables_deploy_worker_run_and_restart(server, department_project, tmp_path):
    root, project_env = department_project
    env = {**server.env, **{name: project_env[name] for name in ("AIRNUB_PROJECT_ROOT", "PYTHONPATH",
                                                                  "AIRNUB_INPUT_TABLE")}}
    files = sorted((root / "configs" / "variables").rglob("*.yaml"))
    declared = yaml.safe_load((root / "prefect.local.yaml").read_text())["deployments"]
    edited = {"input_table": "", "output_folder": "dept_harbour_ops/analysis", "title": "Tides, edited on the server"}

    with server.start() as startup_seconds:
        print(f"server answered after {startup_seconds:.1f} s")
        synced = make("variables", env=env, cwd=root)
        assert synced.returncode == 0, synced.stderr
        assert f"{len(files)} Variable(s): {len(files)} created, 0 updated, 0 unchanged" in synced.stdout
        again = make("variables", "DRY_RUN=1", env=env, cwd=root)
        assert f"{len(files)} Variable(s): 0 would create, 0 would update, {len(files)} unchanged" in again.stdout

        deployed = make("deploy", env=env, cwd=root)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        # A Variable edited on the server (as from the UI) is what the next run reads, not the YAML file.
        subprocess.run([*PREFECT, "variable", "set", "dept_harbour_ops__analysis__tide_report", json.dumps(edited),
                        "--overwrite"], env=env, check=True, capture_output=True, timeout=120)

        with background(["make", "--no-print-directory", "worker"], env, tmp_path / "worker.log", cwd=root):
            started = time.monotonic()
            # The scheduled deployment: the whole pipeline, so the morning run processes and reports too.
            run = subprocess.run([*PREFECT, "deployment", "run", "pipeline-dept-harbour-ops/pipeline-dept-harbour-ops",
                                  "--watch", "--watch-timeout", "420"], env=env, capture_output=True, text=True,
                                 timeout=480)
            print(f"deployment run took {time.monotonic() - started:.1f} s")
        assert run.returncode == 0, run.stdout + run.stderr + (tmp_path / "worker.log").read_text()[-3000:]
        assert "Completed" in run.stdout

    smoothed = tmp_path / "data" / "processed" / "dept_harbour_ops" / "processing" / "smooth_readings.parquet"
    assert pd.read_parquet(smoothed)["level"].tolist() == [1.0, 2.0, 3.0, 5.0, 7.0], "processing ran, from the copy"
    (report,) = (tmp_path / "reports").glob("tide_report/*/tide_report.html")
    assert "Tides, edited on the server" in report.read_text(), "the run read the Variable edited on the server"

    with server.start() as startup_seconds:
        print(f"server restart answered after {startup_seconds:.1f} s")
        state = server_state(env)
    assert state["variables"]["dept_harbour_ops__analysis__tide_report"] == edited
    assert state["variables"]["dept_harbour_ops__processing__smooth_readings"] == {
        "input_table": "", "output_folder": "dept_harbour_ops/processing", "window": 3, "columns": []}
    assert len(state["variables"]) == len(files)
    pool = load_settings(PROJECT_ROOT).work_pool
    assert len(state["deployments"]) == len(declared)
    assert {name: value for name, value in state["deployments"].items() if "harbour-ops" in name} == {
        "pipeline-dept-harbour-ops": [pool, ["dept_harbour_ops", "pipeline"], 1],
        "ingestion-dept-harbour-ops": [pool, ["dept_harbour_ops", "ingestion"], 0],
        "processing-dept-harbour-ops": [pool, ["dept_harbour_ops", "processing"], 0],
        "analysis-dept-harbour-ops": [pool, ["analysis", "dept_harbour_ops"], 0],
    }
