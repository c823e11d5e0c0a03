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
from helpers import PROJECT_ROOT
from integration.postgres import postgres_bin, postgres_database
from integration.processes import background, make

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


def test_server_on_postgres_runs_a_deployment(server, tmp_path):
    assert postgres_bin() is not None, "AIRNUB_REQUIRE_POSTGRES is set but PostgreSQL is not installed"
    with postgres_database() as database_url:
        with server.start({"PREFECT_API_DATABASE_CONNECTION_URL": database_url}) as startup_seconds:
            print(f"server on PostgreSQL answered after {startup_seconds:.1f} s")
            deployed = make("deploy", env=server.env)
            assert deployed.returncode == 0, deployed.stdout + deployed.stderr
            with background(["make", "--no-print-directory", "worker"], server.env, tmp_path / "worker.log"):
                run = subprocess.run([sys.executable, "-m", "prefect", "deployment", "run",
                                      "ingestion-dept-demo/ingestion-dept-demo", "--watch", "--watch-timeout", "240"],
                                     env=server.env, capture_output=True, text=True, timeout=300)
            assert run.returncode == 0, run.stdout + run.stderr + (tmp_path / "worker.log").read_text()[-3000:]
            declared = yaml.safe_load((PROJECT_ROOT / "prefect.local.yaml").read_text())["deployments"]
            assert asyncio.run(count_rows(database_url, "deployment")) == len(declared)
            assert asyncio.run(count_rows(database_url, "flow_run")) >= 3, "the stage flow and its two subflows"
    assert "Completed" in run.stdout
    assert len(pd.read_csv(tmp_path / "data" / "raw" / "wine.csv")) == 178
    assert not (server.home / "prefect.db").exists(), "the server kept its data in PostgreSQL, not SQLite"
