"""`make bench-team`: many deployment runs on two workers that play other machines, and a worker killed mid-run.

A team on loopback (airnub.testing.team): a bare repository, a checkout that deploys its HEAD, a Prefect server, one
storage root, and two process workers (WORKER_LIMIT 1 each), each in a folder of its own with a venv built from the
deployed commit. Measured in one run, in order: a first pipeline run (cold: nothing cached), one more alone (the
baseline), RUNS submitted at once, then RUNS_KILLED at once with the first worker killed (SIGKILL) while its run runs.
Reports seconds, the workers' peak memory (worker, flow runs and kernels), and outcomes: every run's final state, on
which workers it ran (none lost, none run twice but a crashed one). Writes reports/benchmarks/team.json.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

import psutil

from airnub.testing.helpers import migrated_prefect_database, wait_for
from airnub.testing.servers import define_server
from airnub.testing.team import Team, assemble_team, ran_on

PIPELINE = "pipeline-dept-demo/pipeline-dept-demo"
RUNS = int(os.environ.get("BENCH_TEAM_RUNS", "20"))
RUNS_KILLED = 4
FINAL = ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")


class PeakMemory:
    """Peak resident memory of the processes `pids` and their descendants, sampled every 100 ms."""

    def __init__(self, pids: list[int]) -> None:
        self.pids, self.peak, self._stop = pids, 0, threading.Event()

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            total = 0
            for pid in self.pids:
                with suppress(psutil.Error):
                    top = psutil.Process(pid)
                    total += sum(p.memory_info().rss for p in [top, *top.children(recursive=True)])
            self.peak = max(self.peak, total)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def runs_to_the_end(team: Team, count: int, final: tuple[str, ...] = FINAL) -> tuple[list[str], float]:
    """`count` pipeline runs submitted at once, waited for until each is in a `final` state; (ids, seconds)."""
    started = time.monotonic()
    ids = team.submit(PIPELINE, count)
    assert wait_for(lambda: all(s[0] in final for s in team.states(ids).values()), 1800), team.states(ids)
    return ids, time.monotonic() - started


def outcomes(team: Team, ids: list[str], logs: dict[str, Path]) -> dict:
    """Final states by type, runs that ran on more than one worker, runs no worker took."""
    states, workers = team.states(ids), ran_on(logs, ids)
    counts: dict[str, int] = {}
    for state in states.values():
        counts[state[0]] = counts.get(state[0], 0) + 1
    return {"states": counts, "started_twice": sum(len(w) > 1 for w in workers.values()),
            "lost": sum(not w for w in workers.values()),
            "started_by": {name: sum(w.count(name) for w in workers.values()) for name in logs}}


def killed_mid_run(team: Team, first, logs: dict[str, Path]) -> dict:
    """RUNS_KILLED runs at once; the first worker killed while it runs one of them; how they end."""
    started = time.monotonic()
    ids = team.submit(PIPELINE, RUNS_KILLED)
    taken = lambda: [r for r, on in ran_on({"first": logs["first"]}, ids).items()  # noqa: E731
                     if on and team.states([r])[r][0] == "RUNNING"]
    assert wait_for(lambda: bool(taken()), 600), "the first worker took none of the runs"
    os.kill(first.pid, signal.SIGKILL)
    assert wait_for(lambda: all(s[0] in FINAL[:3] for s in team.states(ids).values()), 1800), team.states(ids)
    return {"seconds": time.monotonic() - started, **outcomes(team, ids, logs),
            "killed_run_count": max(state[2] for state in team.states(ids).values())}


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-team-"))
    server = define_server(folder, migrated_prefect_database(folder / "database"))
    team = assemble_team(folder, server)
    result: dict = {"runs": RUNS, "workers": 2, "worker_limit": 1}
    with server.start():
        deployed = team.deploy()
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        with team.worker("first") as (first, first_log), team.worker("second") as (second, second_log):
            logs = {"first": first_log, "second": second_log}
            with PeakMemory([first.pid, second.pid]) as memory:
                result["cold_run_seconds"] = runs_to_the_end(team, 1)[1]
                result["baseline_run_seconds"] = runs_to_the_end(team, 1)[1]
                ids, result["runs_at_once_seconds"] = runs_to_the_end(team, RUNS)
            result["peak_mib"] = memory.peak / 2**20
            result["outcomes"] = outcomes(team, ids, logs)
            result["killed"] = killed_mid_run(team, first, logs)
    result["ratio_to_runs_in_sequence"] = result["runs_at_once_seconds"] / (RUNS * result["baseline_run_seconds"])
    out = Path("reports") / "benchmarks" / "team.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    for name in ("first", "second"):  # the workers' logs, beside the figures; the rest of the scratch folder goes
        shutil.copyfile(folder / name / "worker.log", out.parent / f"team-worker-{name}.log")
    shutil.rmtree(folder)  # kept when a step failed: its logs say why
    print(f"bench-team: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
