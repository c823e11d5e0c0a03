"""Growing past one machine with no code change: the ingestion fan-out runs on an existing Dask cluster."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from distributed import Client, get_task_stream

from airnub.testing.dask_cluster import dask_cluster
from airnub_prefect_starter.data_science.dataset_processing import load_bundled_wine

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def test_inbox_files_are_validated_on_the_dask_workers(server, tmp_path):
    inbox = tmp_path / "data" / "external" / "inbox"
    inbox.mkdir(parents=True)
    for number in range(4):
        load_bundled_wine().iloc[number * 10:(number + 1) * 10].assign(alcohol=lambda f: f["alcohol"] + 0.3).to_csv(
            inbox / f"delivery_{number}.csv", index=False)
    # two workers in folders of their own, given no AIRNUB_* setting: the run's settings travel with its tasks
    with server.start(), dask_cluster(tmp_path / "dask", server.env, workers=2) as cluster, \
            Client(cluster.address, timeout=60) as client:
        cluster_workers = set(client.scheduler_info()["workers"])
        env = {**server.env, "AIRNUB_TASK_RUNNER": "dask", "AIRNUB_DASK_SCHEDULER_ADDRESS": cluster.address}
        with get_task_stream(client) as stream:
            run = subprocess.run([BIN / "airnub", "run", "demo", "--stage", "ingestion", "--json"], cwd=tmp_path,
                                 env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]

    assert sorted(json.loads(run.stdout)["inbox_csv"]["ingested"]) == [f"delivery_{n}.csv" for n in range(4)]
    ran_on = [record["worker"] for record in stream.data if record["key"].startswith("validate_csv_task")]
    assert len(ran_on) == 4, "one validation task per dropped file"
    assert set(ran_on) <= cluster_workers
    print(f"{len(ran_on)} validation task(s) ran on {len(set(ran_on))} of the cluster's workers")
