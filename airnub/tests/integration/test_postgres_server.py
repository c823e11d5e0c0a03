"""A team server on PostgreSQL: deployments registered on it run to Completed through a worker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pandas as pd
import pytest
import yaml

from airnub.testing.postgres import postgres_bin, postgres_database
from airnub.testing.processes import background, make

pytestmark = pytest.mark.integration

if postgres_bin() is None and not os.environ.get("AIRNUB_REQUIRE_POSTGRES"):
    pytest.skip("PostgreSQL is not installed (`apt-get install postgresql`; .ci/run installs it)",
                allow_module_level=True)


async def count_rows(database_url: str, table: str) -> int:
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        return await connection.fetchval(f"select count(*) from {table}")
    finally:
        await connection.close()


def test_server_on_postgres_runs_a_deployment(server, department_project, tmp_path):
    assert postgres_bin() is not None, "AIRNUB_REQUIRE_POSTGRES is set but PostgreSQL is not installed"
    root, project_env = department_project
    env = {**server.env, **{name: project_env[name] for name in ("AIRNUB_PROJECT_ROOT", "PYTHONPATH",
                                                                  "AIRNUB_INPUT_TABLE")}}
    with postgres_database() as database_url:
        with server.start({"PREFECT_API_DATABASE_CONNECTION_URL": database_url}) as startup_seconds:
            print(f"server on PostgreSQL answered after {startup_seconds:.1f} s")
            deployed = make("deploy", env=env, cwd=root)
            assert deployed.returncode == 0, deployed.stdout + deployed.stderr
            with background(["make", "--no-print-directory", "worker"], env, tmp_path / "worker.log", cwd=root):
                run = subprocess.run([sys.executable, "-m", "prefect", "deployment", "run",
                                      "processing-dept-harbour-ops/processing-dept-harbour-ops", "--watch",
                                      "--watch-timeout", "240"], env=env, capture_output=True, text=True, timeout=300)
            assert run.returncode == 0, run.stdout + run.stderr + (tmp_path / "worker.log").read_text()[-3000:]
            declared = yaml.safe_load((root / "prefect.local.yaml").read_text())["deployments"]
            assert asyncio.run(count_rows(database_url, "deployment")) == len(declared)
            assert asyncio.run(count_rows(database_url, "flow_run")) >= 1, "the stage flow"
    assert "Completed" in run.stdout
    smoothed = tmp_path / "data" / "processed" / "dept_harbour_ops" / "processing" / "smooth_readings.parquet"
    assert len(pd.read_parquet(smoothed)) == 5
    assert not (server.home / "prefect.db").exists(), "the server kept its data in PostgreSQL, not SQLite"
