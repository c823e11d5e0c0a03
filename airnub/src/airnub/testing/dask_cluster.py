"""A real Dask cluster started apart, as a team starts one (docs/team-path.md, "A Dask cluster"): a `dask scheduler`
process and `dask worker` processes on loopback, each worker in a working folder of its own; stopped after.

The workers get what the docs tell a team to give them (the project folder on PYTHONPATH, Prefect's client
settings) and no `AIRNUB_*` setting: what a flow's settings are on a worker is what the flow's task runner carries.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from airnub.engine.settings import ENV_PREFIX
from airnub.testing.helpers import PROJECT_ROOT, free_port
from airnub.testing.processes import background

DASK = Path(sys.executable).parent / "dask"  # the `distributed` command line prefect-dask brings


@dataclass(frozen=True)
class DaskCluster:
    """A running scheduler's address, and its workers' folders and pids (one worker process each)."""

    address: str  # tcp://127.0.0.1:PORT, what `dask_scheduler_address` names
    folders: tuple[Path, ...]  # each worker's working folder (and --local-directory)
    worker_pids: frozenset[int]  # the processes tasks run in (below each worker's nanny)


def worker_environment(env: dict) -> dict:
    """`env` without any `AIRNUB_*` setting, with the project folder first on PYTHONPATH (its flows are imported)."""
    paths = [str(PROJECT_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**{name: value for name, value in env.items() if not name.startswith(ENV_PREFIX)},
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def _worker_pids(address: str, workers: int, processes: list, logs: list[Path], timeout_seconds: float) -> frozenset:
    """The pids of the `workers` worker processes once all joined the scheduler; fails with the logs when one exits
    or they are not all there after `timeout_seconds`."""
    from distributed import Client

    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if exited := [log for process, log in zip(processes, logs, strict=True) if process.poll() is not None]:
            raise AssertionError(f"{exited[0].name} ended early:\n{exited[0].read_text()[-3000:]}")
        try:
            with Client(address, timeout=5) as client:
                client.wait_for_workers(workers, timeout=max(1.0, min(5.0, deadline - time.monotonic())))
                return frozenset(client.run(os.getpid).values())
        except (OSError, TimeoutError):
            time.sleep(0.5)
    tails = "\n".join(f"{log.name}:\n{log.read_text()[-1500:]}" for log in logs if log.exists())
    raise AssertionError(f"{workers} Dask worker(s) did not join {address} in {timeout_seconds} s:\n{tails}")


@contextmanager
def dask_cluster(folder: Path, env: dict, workers: int = 2, timeout_seconds: float = 90) -> Iterator[DaskCluster]:
    """A scheduler on a free loopback port and `workers` workers (`--nworkers 1 --nthreads 1`), each in
    `folder/worker-N`, with `worker_environment(env)`; all stopped (SIGTERM, then SIGKILL) when the block ends."""
    address, env = f"tcp://127.0.0.1:{free_port()}", worker_environment(env)
    folders = tuple(folder / f"worker-{n}" for n in range(workers))
    logs = [folder / "scheduler.log", *(own / "worker.log" for own in folders)]
    with ExitStack() as stack:  # stopped in reverse: the workers, then the scheduler
        folder.mkdir(parents=True, exist_ok=True)
        processes = [stack.enter_context(background(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
            env, logs[0], cwd=folder))]
        for n, own in enumerate(folders):
            own.mkdir(parents=True, exist_ok=True)
            processes.append(stack.enter_context(background(
                [str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                 "--name", own.name, "--local-directory", str(own)], env, logs[n + 1], cwd=own)))
        yield DaskCluster(address, folders, _worker_pids(address, workers, processes, logs, timeout_seconds))
