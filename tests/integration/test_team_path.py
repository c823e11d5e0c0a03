"""The team path, as a user walks it: serve, variables, deploy, worker, run; then a server restart."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pandas as pd
import pytest
from helpers import PROJECT_ROOT
from integration.processes import background, make

from airnub_prefect_starter.data_science.dataset_processing import load_bundled_wine
from airnub_prefect_starter.engine.settings import load_settings

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


def test_serve_variables_deploy_worker_run_and_restart(server, tmp_path):
    wines = load_bundled_wine().head(6).assign(alcohol=lambda f: f["alcohol"] + 0.5)
    inbox = tmp_path / "data" / "external" / "inbox"
    inbox.mkdir(parents=True)
    wines.to_csv(inbox / "harvest_north.csv", index=False)
    wines.head(3).to_csv(inbox / "other_notes.csv", index=False)

    with server.start() as startup_seconds:
        print(f"server answered after {startup_seconds:.1f} s")
        synced = make("variables", env=server.env)
        assert synced.returncode == 0, synced.stderr
        assert "7 Variable(s): 7 created, 0 updated, 0 unchanged" in synced.stdout
        again = make("variables", "DRY_RUN=1", env=server.env)
        assert "7 Variable(s): 0 would create, 0 would update, 7 unchanged" in again.stdout, again.stdout

        deployed = make("deploy", env=server.env)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        # A Variable edited on the server (as from the UI) is what the next run reads, not the YAML file.
        subprocess.run([*PREFECT, "variable", "set", "dept_demo__ingestion__inbox_csv", '{"pattern": "harvest_*.csv"}',
                        "--overwrite"], env=server.env, check=True, capture_output=True, timeout=120)

        with background(["make", "--no-print-directory", "worker"], server.env, tmp_path / "worker.log"):
            started = time.monotonic()
            # The scheduled deployment: the whole pipeline, so the morning run retrains and reports too.
            run = subprocess.run([*PREFECT, "deployment", "run", "pipeline-dept-demo/pipeline-dept-demo",
                                  "--watch", "--watch-timeout", "420"], env=server.env, capture_output=True, text=True,
                                 timeout=480)
            print(f"deployment run took {time.monotonic() - started:.1f} s")
        assert run.returncode == 0, run.stdout + run.stderr + (tmp_path / "worker.log").read_text()[-3000:]
        assert "Completed" in run.stdout

    assert len(pd.read_csv(tmp_path / "data" / "raw" / "wine.csv")) == 178
    manifest = json.loads((tmp_path / "data" / "raw" / "ingest_manifest.json").read_text())
    assert [record["source"] for record in manifest.values()] == ["harvest_north.csv"], "the Variable's pattern"
    assert (tmp_path / "data" / "processed" / "wine_features.parquet").is_file(), "processing ran"
    assert (tmp_path / "models" / "wine_classifier.joblib").is_file(), "the model was retrained"
    assert list((tmp_path / "reports").glob("model_evaluation/*/model_evaluation.html")), "the report was refreshed"

    with server.start() as startup_seconds:
        print(f"server restart answered after {startup_seconds:.1f} s")
        state = server_state(server.env)
    assert state["variables"]["dept_demo__analysis__training"] == {"test_size": 0.25, "random_state": 42,
                                                                   "regularisation": 1.0}
    assert state["variables"]["dept_demo__ingestion__inbox_csv"] == {"pattern": "harvest_*.csv"}
    assert len(state["variables"]) == 7
    pool = load_settings(PROJECT_ROOT).work_pool
    assert state["deployments"] == {
        "pipeline-dept-demo": [pool, ["dept_demo", "pipeline"], 1],
        "ingestion-dept-demo": [pool, ["dept_demo", "ingestion"], 0],
        "processing-dept-demo": [pool, ["dept_demo", "processing"], 0],
        "analysis-dept-demo": [pool, ["analysis", "dept_demo"], 0],
    }
