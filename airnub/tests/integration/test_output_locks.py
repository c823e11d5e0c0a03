"""Locks per output, between real processes running real flows on a real Prefect server: runs writing the same
outputs take turns, runs writing other outputs overlap, with lock files and with the server's concurrency limits;
a holder killed with SIGKILL frees its server-side slot when its lease runs out."""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

from airnub.orchestration.locks import LEASE_SECONDS
from airnub.testing.processes import background

pytestmark = pytest.mark.integration

# A flow holding the lock on `outputs` (argv 1): it notes when it starts and ends in its log (argv 2), and holds on
# until the other run's log (argv 3) shows it started, or `patience` seconds (argv 4) passed.
HOLDER = """
import sys, time
from pathlib import Path
from prefect import flow
from airnub.orchestration.locks import one_run_at_a_time

outputs, mine, other, patience = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])

@flow(name="hold-outputs")
@one_run_at_a_time(outputs=outputs)
def hold():
    with mine.open("a") as log:
        log.write(f"start {time.time()}\\n")
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline and not (other.exists() and "start" in other.read_text()):
        time.sleep(0.2)
    with mine.open("a") as log:
        log.write(f"end {time.time()}\\n")

hold()
"""


def times(log: Path) -> dict[str, float]:
    return {word: float(value) for word, value in (line.split() for line in log.read_text().splitlines())}


def run_pair(tmp: Path, env: dict, outputs: tuple[str, str], patience: float = 20) -> list[dict[str, float]]:
    """Two holders started at once on `outputs`; their start and end times once both ended."""
    tmp.mkdir(parents=True)
    script, logs = tmp / "holder.py", [tmp / f"{name}-{n}.times" for n, name in enumerate(outputs)]
    script.write_text(HOLDER)
    with ExitStack() as stack:
        runs = [stack.enter_context(background(
            [sys.executable, str(script), name, str(logs[n]), str(logs[1 - n]), str(patience)], env,
            tmp / f"{name}-{n}.log")) for n, name in enumerate(outputs)]
        for run in runs:
            assert run.wait(timeout=300) == 0, [log.read_text() for log in tmp.glob("*.log")]
    return [times(log) for log in logs]


def overlap(first: dict[str, float], second: dict[str, float]) -> bool:
    return first["start"] < second["end"] and second["start"] < first["end"]


def test_runs_of_one_output_take_turns_other_outputs_overlap_and_a_killed_holder_is_freed(server, tmp_path):
    # the repossessor frees expired leases every second, not every 15 s: the wait is the lease's own minute
    with server.start(extra_env={"PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "1"}), \
            temporary_settings(updates={PREFECT_API_URL: server.api_url,
                                        PREFECT_API_AUTH_STRING: server.env["PREFECT_API_AUTH_STRING"]}), \
            get_client(sync_client=True) as client:
        for mode in ("files", "auto"):  # auto: this server is not the project's own, so the locks are its limits
            env = {**server.env, "AIRNUB_OUTPUT_LOCKS": mode}
            same = run_pair(tmp_path / mode / "same", env, ("dept_a", "dept_a"))
            assert not overlap(*same), f"{mode}: runs writing the same outputs took turns"
            other = run_pair(tmp_path / mode / "other", env, ("dept_a", "dept_b"))
            assert overlap(*other), f"{mode}: runs writing other outputs did not wait for each other"
            limits = {limit.name for limit in client.read_global_concurrency_limits(limit=100)}
            wanted = {"airnub-outputs-airnub-prefect-starter-dept-a", "airnub-outputs-airnub-prefect-starter-dept-b"}
            assert (wanted <= limits) == (mode == "auto"), limits

        # A holder killed with SIGKILL cannot free its slot: the server does, once its lease runs out.
        killed = tmp_path / "killed"
        killed.mkdir()
        (killed / "holder.py").write_text(HOLDER)
        logs = [killed / "first.times", killed / "second.times"]
        command = [sys.executable, str(killed / "holder.py"), "dept_a"]
        with background([*command, str(logs[0]), str(killed / "never"), "600"], server.env,
                        killed / "first.log") as first:
            deadline = time.monotonic() + 120
            while not (logs[0].exists() and "start" in logs[0].read_text()) and time.monotonic() < deadline:
                time.sleep(0.2)
            with background([*command, str(logs[1]), str(killed / "never"), "0"], server.env,
                            killed / "second.log") as second:
                time.sleep(5)
                assert not logs[1].exists(), "the second run waits while the first holds the slot"
                os.killpg(first.pid, signal.SIGKILL)
                killed_at = time.time()
                assert second.wait(timeout=LEASE_SECONDS + 90) == 0, (killed / "second.log").read_text()
        freed = times(logs[1])["start"] - killed_at
        assert "waiting for another run to finish writing dept_a" in (killed / "second.log").read_text()
        assert "end" not in logs[0].read_text(), "the first run never finished: its slot was taken back"
        assert freed < LEASE_SECONDS + 60, freed
        print(f"a killed holder's slot was free after {freed:.0f} s (lease {LEASE_SECONDS} s)")
