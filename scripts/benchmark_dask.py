"""`make bench`, one figure: a sweep on a Dask cluster started apart against the same sweep on local threads.

`airnub sweep` of SWEEP_RUNS runs of a small notebook (cache off), as processes, first on the local task runner
(threads, `max_workers = 2`), then on a `dask scheduler` with two `dask worker` processes (one thread each) on
loopback (airnub/src/airnub/testing/dask_cluster.py), started before the clock and warmed by a first short sweep,
as a team's long-lived cluster is.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from airnub.testing.dask_cluster import dask_cluster

SWEEP_RUNS = 32
WORKERS = 2


def _grid(folder: Path, runs: int) -> Path:
    grid = folder / f"grid-{runs}.yaml"
    grid.write_text(yaml.safe_dump({"label": [f"run {n}" for n in range(runs)]}))
    return grid


def dask_sweep_vs_local(notebook: Path, env: dict, scratch: Path,
                        command_seconds: Callable[[list[str], dict], float]) -> dict[str, float]:
    """Seconds of `airnub sweep` on local threads and on a 2-worker cluster (`command_seconds` times a command)."""
    folder = scratch / "dask"
    folder.mkdir(parents=True, exist_ok=True)
    sweep = [str(Path(sys.executable).parent / "airnub"), "sweep", str(notebook), "--no-cache", "--grid"]
    env = {**env, "AIRNUB_NOTEBOOKS_DIR": str(notebook.parent), "AIRNUB_ALLOW_NOTEBOOKS_OUTSIDE_PROJECT": "true",
           "AIRNUB_MAX_WORKERS": str(WORKERS)}
    seconds = {"sweep_local_threads": command_seconds([*sweep, str(_grid(folder, SWEEP_RUNS))],
                                                      {**env, "AIRNUB_TASK_RUNNER": "threads"})}
    with dask_cluster(folder, env, workers=WORKERS) as cluster:
        on_cluster = {**env, "AIRNUB_TASK_RUNNER": "dask", "AIRNUB_DASK_SCHEDULER_ADDRESS": cluster.address}
        command_seconds([*sweep, str(_grid(folder, WORKERS))], on_cluster)  # each worker imports what tasks need
        seconds["sweep_dask_cluster"] = command_seconds([*sweep, str(_grid(folder, SWEEP_RUNS))], on_cluster)
    return seconds
