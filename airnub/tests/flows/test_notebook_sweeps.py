"""Sweeps: a notebook over a grid of parameters, in parallel, on threads and on a real Dask cluster."""

from __future__ import annotations

import os
import threading
from contextlib import suppress

import psutil
import pytest
from distributed import Client, LocalCluster
from prefect.artifacts import Artifact

from airnub.orchestration.sweep_flow import run_sweep
from airnub.testing.helpers import RECORD, write_notebook

GRID = {"side": [1, 2, 3], "label": ["a", "b"]}


@pytest.fixture
def square(notebooks_dir):
    return write_notebook(notebooks_dir / "square.ipynb", "side: int = 1\nlabel: str = 'x'", RECORD,
                          "import os\nrecord('area', side * side)\nrecord('kernel_parent', os.getppid())")


def test_sweep_on_threads_runs_every_combination_in_its_own_folder(square, project):
    runs = run_sweep(str(square), GRID)
    assert sorted((r.parameters["side"], r.parameters["label"], r.values["area"]) for r in runs) == [
        (s, lab, s * s) for s in (1, 2, 3) for lab in ("a", "b")]
    assert len({r.run_dir for r in runs}) == 6 and all(r.run_dir.parent == project.reports / "square" for r in runs)
    table = Artifact.get("sweep-square").data
    assert all(f'"area": {s * s}' in table for s in (1, 2, 3))


def test_sweep_refuses_a_bad_grid_before_any_run(square, project):
    with pytest.raises(ValueError, match="'sides'"):
        run_sweep(str(square), {"sides": [1, 2]})
    assert not (project.reports / "square").exists()


def test_sweep_on_a_dask_cluster_runs_on_its_workers(square, monkeypatch):
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        monkeypatch.setenv("AIRNUB_TASK_RUNNER", "dask")
        monkeypatch.setenv("AIRNUB_DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        runs = run_sweep(str(square), {"side": [1, 2, 3, 4]})
        worker_pids = set(client.run(os.getpid).values())
    assert sorted(r.values["area"] for r in runs) == [1, 4, 9, 16]
    kernel_parents = {r.values["kernel_parent"] for r in runs}
    assert kernel_parents <= worker_pids and os.getpid() not in kernel_parents


def kernel_processes(recursive: bool = True) -> list[psutil.Process]:
    """Live kernels started from this process (with `recursive`, also what they started: a kernel's short-lived
    forks carry its command line until they exec something else)."""
    return [p for p in psutil.Process().children(recursive=recursive)
            if p.status() != psutil.STATUS_ZOMBIE and "ipykernel_launcher" in " ".join(p.cmdline())]


def test_a_long_sweep_keeps_kernels_bounded_and_leaves_none(square, monkeypatch):
    """24 runs on 2 workers: twelve rounds of kernels started and shut down, never more than two at once."""
    runs_in_all = 24
    monkeypatch.setenv("AIRNUB_MAX_WORKERS", "2")
    counts, memory, done = [], [], threading.Event()

    def watch() -> None:
        while not done.wait(0.1):
            with suppress(psutil.Error):
                kernels = kernel_processes(recursive=False)
                counts.append(len(kernels))
                memory.append(sum(k.memory_info().rss for k in kernels))
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        runs = run_sweep(str(square), {"side": list(range(runs_in_all))}, use_cache=False)
    finally:
        done.set()
        watcher.join()
    assert sorted(r.values["area"] for r in runs) == [s * s for s in range(runs_in_all)]
    assert len({r.run_dir for r in runs}) == runs_in_all
    assert 1 <= max(counts) <= 2, "no more kernels at once than max_workers: each is shut down as its run ends"
    assert max(memory) < 2 * 400 * 2**20, "two kernels' worth of memory at most"
    assert kernel_processes() == []
