"""A Dask cluster started apart (`dask scheduler`, two `dask worker` processes in folders of their own, none given an
`AIRNUB_*` setting): sweeps run their kernels on its workers, under the settings of the flow that submitted them."""

from __future__ import annotations

import json
import os
import threading

import psutil
import pytest
import yaml
from prefect import task

from airnub.orchestration.dask_runner import applied_settings, carrying
from airnub.orchestration.sweep_flow import run_sweep
from airnub.testing.dask_cluster import dask_cluster
from airnub.testing.helpers import RECORD, airnub, write_notebook

RUNS = 6
WHERE = "import os, time\ntime.sleep(0.3)\nrecord('kernel_parent', os.getppid())\nrecord('cwd', os.getcwd())"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, airnub_server):
    """A scheduler and two workers, with the session server's URL and credential as the docs set them."""
    folder = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{airnub_server['AIRNUB_SERVER_PORT']}/api",
           "PREFECT_API_AUTH_STRING": airnub_server["PREFECT_API_AUTH_STRING"],
           "PREFECT_HOME": str(folder / "prefect-home")}
    with dask_cluster(folder, env, workers=2) as running:
        yield running


@pytest.fixture
def where(notebooks_dir):
    """A notebook that records the process its kernel was started by."""
    return write_notebook(notebooks_dir / "where.ipynb", "n: int = 0", RECORD, WHERE)


def test_a_sweep_starts_its_kernels_on_both_workers_and_reports_where_settings_say(cluster, where, project,
                                                                                   monkeypatch):
    monkeypatch.setenv("AIRNUB_TASK_RUNNER", "dask")
    monkeypatch.setenv("AIRNUB_DASK_SCHEDULER_ADDRESS", cluster.address)
    runs = run_sweep(str(where), {"n": list(range(RUNS))}, use_cache=False)
    assert sorted(run.parameters["n"] for run in runs) == list(range(RUNS))
    assert {run.values["kernel_parent"] for run in runs} == cluster.worker_pids, "kernels started on both workers"
    assert all(run.html.is_file() and run.run_dir.parent == project.reports / "where" for run in runs)
    in_worker_folders = [page for folder in cluster.folders for page in folder.rglob("*.html")]
    assert not in_worker_folders, "no report in a worker's own folder"


def test_the_sweep_command_carries_its_settings_to_workers_started_without_them(cluster, where, subprocess_env,
                                                                                tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"n": list(range(4))}))
    elsewhere = tmp_path / "elsewhere" / "reports"
    env = {**subprocess_env, "AIRNUB_TASK_RUNNER": "dask", "AIRNUB_DASK_SCHEDULER_ADDRESS": cluster.address,
           "AIRNUB_REPORTS_DIR": str(elsewhere), "AIRNUB_NOTEBOOKS_DIR": str(where.parent),
           "AIRNUB_ALLOW_NOTEBOOKS_OUTSIDE_PROJECT": "true"}
    done = airnub("sweep", str(where), "--grid", str(grid), "--no-cache", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    values = [json.loads(line.split(" -> ")[1]) for line in done.stdout.splitlines() if " -> " in line]
    parents = [value["kernel_parent"] for value in values]
    assert len(parents) == 4 and set(parents) <= cluster.worker_pids, "every kernel started on a worker"
    assert len(list(elsewhere.glob("where/*/where.html"))) == 4, "every report in the command's AIRNUB_REPORTS_DIR"


def test_with_no_address_a_local_cluster_of_max_workers_processes_runs_the_sweep(where, project, monkeypatch):
    monkeypatch.setenv("AIRNUB_TASK_RUNNER", "dask")
    monkeypatch.setenv("AIRNUB_MAX_WORKERS", "2")
    runs = run_sweep(str(where), {"n": [1, 2]}, use_cache=False)
    parents = {run.values["kernel_parent"] for run in runs}
    assert os.getpid() not in parents and all(run.run_dir.parent == project.reports / "where" for run in runs)
    assert not [child for child in psutil.Process().children() if child.pid in parents], "the cluster is gone"


def test_applied_settings_replace_the_process_settings_for_the_block_only(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRNUB_REPORTS_DIR", "/worker/reports")
    monkeypatch.setenv("AIRNUB_MAX_WORKERS", "7")
    monkeypatch.delenv("AIRNUB_PROJECT_ROOT", raising=False)  # `make test` exports the checkout's
    with applied_settings({"AIRNUB_REPORTS_DIR": str(tmp_path), "AIRNUB_PROJECT_ROOT": str(tmp_path / "absent")}):
        assert os.environ["AIRNUB_REPORTS_DIR"] == str(tmp_path)
        assert "AIRNUB_MAX_WORKERS" not in os.environ, "the flow's settings only, none of the worker's own"
        assert "AIRNUB_PROJECT_ROOT" not in os.environ, "a project folder this machine lacks is not applied"
    monkeypatch.setenv("AIRNUB_PROJECT_ROOT", str(tmp_path))
    with applied_settings({"AIRNUB_PROJECT_ROOT": str(tmp_path / "absent")}):
        assert os.environ["AIRNUB_PROJECT_ROOT"] == str(tmp_path), "the worker keeps its own project folder"
    assert os.environ["AIRNUB_REPORTS_DIR"] == "/worker/reports" and os.environ["AIRNUB_MAX_WORKERS"] == "7"


def test_a_carried_task_runs_under_the_flow_settings_to_its_end(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRNUB_REPORTS_DIR", "/worker/reports")
    flow_side = {"AIRNUB_REPORTS_DIR": str(tmp_path)}
    one = carrying(task(lambda: os.environ["AIRNUB_REPORTS_DIR"], name="one"), flow_side)

    def steps():
        yield os.environ["AIRNUB_REPORTS_DIR"]
        yield os.environ["AIRNUB_REPORTS_DIR"]
    assert one.fn() == str(tmp_path) and one.name == "one"
    assert list(carrying(task(steps), flow_side).fn()) == [str(tmp_path)] * 2, "a generator task, every step"
    assert os.environ["AIRNUB_REPORTS_DIR"] == "/worker/reports", "the worker's own settings after the task"


def test_a_task_under_other_settings_waits_for_the_one_running_in_another_thread(tmp_path):
    first_entered, release, seen = threading.Event(), threading.Event(), []

    def run(reports: str, hold: bool) -> None:
        with applied_settings({"AIRNUB_REPORTS_DIR": reports}):
            seen.append(("in", reports, os.environ["AIRNUB_REPORTS_DIR"]))
            if hold:
                first_entered.set()
                release.wait(10)
            seen.append(("out", reports, os.environ["AIRNUB_REPORTS_DIR"]))

    first = threading.Thread(target=run, args=(str(tmp_path / "a"), True))
    first.start()
    assert first_entered.wait(10)
    second = threading.Thread(target=run, args=(str(tmp_path / "b"), False))
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second task waits while the first runs under other settings"
    release.set()
    first.join(10)
    second.join(10)
    assert [(step, folder.rsplit("/", 1)[1]) for step, _, folder in seen] == [
        ("in", "a"), ("out", "a"), ("in", "b"), ("out", "b")], "each saw its own settings throughout"
