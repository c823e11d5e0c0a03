"""A worker stopped in the middle of a deployment run: what the user sees, and that the next run succeeds.

On a project with a department of its own (the `department_project` fixture), as a project without the demo has:
its analysis deployment is stopped while its report notebook runs in a kernel, once with SIGTERM
to the worker's process group (`kill`, a service manager) and once with SIGKILL (a crash, the OOM
killer). A process worker starts each flow run in a session of its own, and the kernel has one too,
so neither signal reaches them directly: what happens to them is what Prefect and Jupyter do.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import joblib
import nbformat
import pandas as pd
import psutil
import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.client.schemas.objects import State
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

from airnub.testing.processes import background, make

pytestmark = pytest.mark.integration

WORKER = ["make", "--no-print-directory", "worker"]


def run_processes(run_id: str) -> list[psutil.Process]:
    """Processes started for flow run `run_id`: its engine process and its notebook kernels (they inherit its id)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("PREFECT__FLOW_RUN_ID") == run_id:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def is_kernel(process: psutil.Process) -> bool:
    try:
        return "ipykernel_launcher" in process.cmdline()
    except psutil.Error:
        return False


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> float:
    """Seconds until `condition()` is true; fails after `timeout` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout} s")


def state_of(client: SyncPrefectClient, run_id: str) -> State:
    return client.read_flow_run(run_id).state


def crashed_state(client: SyncPrefectClient, run_id: str) -> State | None:
    """The run's Crashed state, if it had one: `make deploy`'s automation moves a crashed first run on at once."""
    return next((state for state in client.read_flow_run_states(run_id) if state.is_crashed()), None)


def end_run_processes(run_ids: list[str]) -> None:
    """Kill what is left of these flow runs (when the test failed midway): they do not die with their worker."""
    for process in [p for run_id in run_ids for p in run_processes(run_id)]:
        with contextlib.suppress(psutil.Error):
            process.kill()


def start_run(client: SyncPrefectClient, deployment_id, started: list[str]) -> str:
    started.append(str(client.create_flow_run_from_deployment(deployment_id).id))
    return started[-1]


def run_to_end(client: SyncPrefectClient, deployment_id, started: list[str], timeout: float = 180) -> State:
    """Run a deployment; its final state."""
    run_id = start_run(client, deployment_id, started)
    wait_for(lambda: state_of(client, run_id).is_final(), timeout, "the flow run finished")
    return state_of(client, run_id)


def start_analysis_and_stop_worker(client: SyncPrefectClient, deployment_id, started: list[str], worker,
                                   sig: int) -> str:
    """Run the analysis deployment; once its report notebook's kernel is up, send `sig` to the worker's group."""
    run_id = start_run(client, deployment_id, started)
    wait_for(lambda: any(is_kernel(p) for p in run_processes(run_id)), 180, "the report notebook's kernel started")
    assert state_of(client, run_id).is_running()
    os.killpg(worker.pid, sig)
    worker.wait(timeout=180)  # a worker stops its flow run first: over a minute with the 2 cores busy
    return run_id


def report_logged(client: SyncPrefectClient, run_id: str) -> bool:
    """The flow run `run_id` logged that it ran its report notebook (or took it from the cache)."""
    logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])), limit=200)
    return any(log.message.startswith(("tide_report.ipynb: ran: ", "tide_report.ipynb: served from the cache"))
               for log in logs)


def outputs_free(client: SyncPrefectClient) -> bool:
    """No run holds the department's outputs lock: with a team server (the `server` fixture is not the project's
    own), a Prefect global concurrency limit, freed when its holder ends or its lease runs out after a SIGKILL."""
    locks = [limit for limit in client.read_global_concurrency_limits(limit=100)
             if limit.name.startswith("airnub-outputs-")]
    assert locks, "the runs took their lock on the server"
    return all(limit.active_slots == 0 for limit in locks)


def assert_outputs_whole(root: Path) -> None:
    """No temporary file is left where outputs live, and every output loads (an interrupted report is whole)."""
    files = [p for folder in ("data", "models", "reports") for p in (root / folder).rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.endswith(".tmp")], "a half-written file was left"
    for path in files:
        if path.suffix == ".parquet":
            pd.read_parquet(path)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".joblib":
            joblib.load(path)
        elif path.suffix == ".ipynb":
            nbformat.read(path, as_version=4)


def test_worker_stopped_mid_run_then_the_next_run_completes(server, department_project, tmp_path):
    timings, started = {}, []
    root, project_env = department_project
    env = {**server.env, **{name: project_env[name] for name in ("AIRNUB_PROJECT_ROOT", "PYTHONPATH",
                                                                  "AIRNUB_INPUT_TABLE")},
           "REPORT_SECONDS": "8"}  # the report's kernel runs that long: long enough to be stopped mid-run
    try:
        with server.start(), temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_API_AUTH_STRING:
                                                   server.env["PREFECT_API_AUTH_STRING"]}), \
                get_client(sync_client=True) as client:
            for target in ("variables", "deploy"):
                done = make(target, env=env, cwd=root)
                assert done.returncode == 0, done.stdout + done.stderr
            deployments = {name: client.read_deployment_by_name(f"{name}/{name}").id
                           for name in ("processing-dept-harbour-ops", "analysis-dept-harbour-ops")}

            # SIGTERM: the worker stops at once and takes the flow run's process down with it (the kernel follows).
            with background(WORKER, env, tmp_path / "worker-1.log", cwd=root) as worker:
                processed = run_to_end(client, deployments["processing-dept-harbour-ops"], started)
                assert processed.is_completed(), processed
                terminated = start_analysis_and_stop_worker(client, deployments["analysis-dept-harbour-ops"], started,
                                                            worker, signal.SIGTERM)
            timings["SIGTERM: processes gone"] = wait_for(lambda: not run_processes(terminated), 60,
                                                          "the flow run's process and kernel ended")
            # The worker gets SIGTERM twice (the group's, and make's forwarded copy) and stops once: it stops the
            # flow run, and Prefect 3.9 records no final state, so the run shows Running. (Crashed, as after SIGKILL
            # below, is what a worker that killed itself on the second SIGTERM left, before services/worker.py.)
            print(f"after SIGTERM: {state_of(client, terminated).name} ({state_of(client, terminated).message})")
            assert state_of(client, terminated).type.value in ("RUNNING", "CRASHED"), state_of(client, terminated)
            wait_for(lambda: outputs_free(client), 120, "the outputs lock is free")
            assert_outputs_whole(tmp_path)

            # SIGKILL: the flow run's process outlives its worker, fails on its next log line, reports Crashed. A cache
            # folder of its own: the run above may have finished its report (and cached it) before it crashed.
            uncached = {**env, "AIRNUB_CACHE_DIR": str(tmp_path / "cache-after-sigterm")}
            with background(WORKER, uncached, tmp_path / "worker-2.log", cwd=root) as worker:
                killed = start_analysis_and_stop_worker(client, deployments["analysis-dept-harbour-ops"], started,
                                                        worker, signal.SIGKILL)
            clock = time.monotonic()
            timings["SIGKILL: Crashed"] = wait_for(lambda: crashed_state(client, killed), 60, "Crashed")
            crashed = crashed_state(client, killed)
            assert crashed.message == "Execution was aborted by Python system exit call.", crashed.message
            wait_for(lambda: not run_processes(killed), 60, "the flow run's process and kernel ended")
            timings["SIGKILL: processes gone"] = time.monotonic() - clock
            timings["SIGKILL: outputs lock free"] = wait_for(lambda: outputs_free(client), 120,
                                                             "the outputs lock is free")
            assert_outputs_whole(tmp_path)

            # A new worker, a new run: Completed, its report written whole; what processing wrote is left as it was.
            processed = tmp_path / "data" / "processed" / "dept_harbour_ops" / "processing" / "smooth_readings.parquet"
            before = processed.stat().st_mtime_ns
            with background(WORKER, {**env, "REPORT_SECONDS": "0"}, tmp_path / "worker-3.log", cwd=root):
                clock = time.monotonic()
                state = run_to_end(client, deployments["analysis-dept-harbour-ops"], started)
                timings["next run"] = time.monotonic() - clock
                assert state.is_completed(), state
                # Logs reach the API in batches, after the state, sent by the run's process as it ends: wait for
                # them while the worker still runs (stopping it at once could stop that process before they leave).
                wait_for(lambda: report_logged(client, started[-1]), 90, "the next run's log says it ran the report")
                # The crashed run was scheduled again by make deploy's automation (crash_retry.py), once: this worker
                # took it too, and it completed.
                wait_for(lambda: state_of(client, killed).is_final(), 180, "the crashed run, run again, finished")
                again = client.read_flow_run(killed)
                assert again.state.is_completed() and again.run_count == 2, (again.state, again.run_count)
        assert processed.stat().st_mtime_ns == before
        assert list((tmp_path / "reports").glob("tide_report/*/tide_report.html")), "the report of the next run"
        assert_outputs_whole(tmp_path)
        print(", ".join(f"{what} {seconds:.1f} s" for what, seconds in timings.items()))
    finally:
        end_run_processes(started)
