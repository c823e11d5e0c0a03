"""`make bench`, one figure: a sweep on a Dask cluster started apart against the same sweep on local threads.

`airnub sweep` of SWEEP_RUNS runs of a small notebook (cache off), as processes, on the local task runner (threads,
`max_workers = 2`) and on a `dask scheduler` with two `dask worker` processes (one thread each) on loopback
(airnub/src/airnub/testing/dask_cluster.py), started before the clock and warmed by a first short sweep, as a team's
long-lived cluster is (it idles while the local sweeps run).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from airnub.testing.dask_cluster import dask_cluster

SWEEP_RUNS = 32
WORKERS = 2
ROUNDS = 2  # each sweep twice, alternated


def _grid(folder: Path, runs: int) -> Path:
    grid = folder / f"grid-{runs}.yaml"
    grid.write_text(yaml.safe_dump({"label": [f"run {n}" for n in range(runs)]}))
    return grid


def dask_sweep_vs_local(notebook: Path, env: dict, scratch: Path,
                        command_seconds: Callable[[list[str], dict], float]) -> dict[str, float]:
    """The fastest of ROUNDS seconds of `airnub sweep` on local threads and on a 2-worker cluster, alternated so that
    the machine's load falls on both alike (`command_seconds` times one command)."""
    folder = scratch / "dask"
    folder.mkdir(parents=True, exist_ok=True)
    sweep = [str(Path(sys.executable).parent / "airnub"), "sweep", str(notebook), "--no-cache", "--grid"]
    env = {**env, "AIRNUB_NOTEBOOKS_DIR": str(notebook.parent), "AIRNUB_ALLOW_NOTEBOOKS_OUTSIDE_PROJECT": "true",
           "AIRNUB_MAX_WORKERS": str(WORKERS)}
    grid, seconds = str(_grid(folder, SWEEP_RUNS)), {"sweep_local_threads": [], "sweep_dask_cluster": []}
    with dask_cluster(folder, env, workers=WORKERS) as cluster:
        on_cluster = {**env, "AIRNUB_TASK_RUNNER": "dask", "AIRNUB_DASK_SCHEDULER_ADDRESS": cluster.address}
        local = {**env, "AIRNUB_TASK_RUNNER": "threads"}
        command_seconds([*sweep, str(_grid(folder, WORKERS))], on_cluster)  # each worker imports what tasks need
        for _ in range(ROUNDS):
            seconds["sweep_local_threads"].append(command_seconds([*sweep, grid], local))
            seconds["sweep_dask_cluster"].append(command_seconds([*sweep, grid], on_cluster))
    return {name: min(times) for name, times in seconds.items()}
