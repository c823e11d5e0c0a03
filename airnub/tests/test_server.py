"""The project's Prefect server and warm runner: started on first use, said so, reused, stopped, nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from airnub.project import package_name
from airnub.testing.helpers import AIRNUB, PROJECT_ROOT, RECORD, airnub, kernels_of, wait_for, write_notebook

LIGHT = """
import sys
from airnub.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit_:
    code = exit_.code
heavy = sorted(name for name in ("prefect", "papermill", "pandas", "nbformat", "sklearn") if name in sys.modules)
print("HEAVY", ",".join(heavy), "EXIT", code)
"""


def light(*args: str, env: dict) -> tuple[str, int, str]:
    """Run `airnub args` in a process that reports which heavy libraries it imported: (imported, exit code, stderr)."""
    done = subprocess.run([sys.executable, "-c", LIGHT, *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    heavy, code = done.stdout.split("HEAVY ")[-1].split(" EXIT ")
    return heavy.strip(), int(code.strip() if code.strip() != "None" else 0), done.stderr


def test_commands_that_run_nothing_import_no_prefect_and_start_no_server(stopped_server, tmp_path):
    notebook = write_notebook(tmp_path / "nbs" / "small.ipynb", "label = 'x'  # what to call it\nn: int = 3",
                              f"{RECORD}\nrecord('n', n)")
    outside = write_notebook(tmp_path / "elsewhere" / "other.ipynb", "n = 1")
    for args, exit_code, said in [
        (["--help"], 0, ""),
        (["notebook", "--help"], 0, ""),
        (["params", str(notebook)], 0, ""),
        (["notebook", str(notebook), "-p", "n", "three"], 2, "parameter 'n' must be int, got 'three'"),
        (["notebook", str(notebook), "-p", "m", "1"], 2, "unknown parameter 'm'"),
        (["notebook", str(outside)], 2, "only notebooks inside"),
        (["notebook", str(notebook), "--timeout", "0"], 2, "--timeout must be a positive whole number of seconds"),
        (["notebook", str(notebook), "-p", "n", "4", "--dry-run"], 0, ""),
        (["run", "harbour"], 2, "unknown department 'harbour'"),
        (["server", "status"], 0, ""),
    ]:
        heavy, code, stderr = light(*args, env=stopped_server)
        assert (heavy, code) == ("", exit_code), (args, heavy, stderr)
        assert said in stderr and "Traceback" not in stderr, (args, stderr)
    assert {path.name for path in (tmp_path / "server").iterdir()} == {"prefect.db"}, "no server was started"


def test_params_lists_type_default_and_help(stopped_server, tmp_path):
    notebook = write_notebook(tmp_path / "nbs" / "small.ipynb", "label = 'x'  # what to call it\nn: int = 3")
    done = airnub("params", str(notebook), env=stopped_server)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == ["  label  str  default 'x'  what to call it", "  n      int  default 3"]


def _processes_of(state: dict) -> list[psutil.Process]:
    found = []
    for pid in filter(None, (state["server_pid"], state["runner_pid"], state.get("reports_pid"))):
        try:
            process = psutil.Process(pid)
            found += [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    return [p for p in found if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]






def test_first_use_starts_the_server_says_so_and_a_stop_leaves_nothing(stopped_server, tmp_path):
    notebook = write_notebook(tmp_path / "nbs" / "small.ipynb", "n: int = 3", f"{RECORD}\nrecord('double', 2 * n)")
    first = airnub("notebook", str(notebook), "-p", "n", "4", env=stopped_server)
    assert first.returncode == 0, first.stderr
    port = stopped_server["AIRNUB_SERVER_PORT"]
    announced = [line for line in first.stdout.splitlines() if line.startswith("airnub: started")]
    assert announced == [f"airnub: started the project's Prefect server at http://127.0.0.1:{port} (data in "
                         f"{tmp_path / 'server'}); it keeps running for the next commands; `airnub server stop` "
                         "stops it"], first.stdout
    assert '"double": 8' in first.stdout and f"http://127.0.0.1:{port}/runs/flow-run/" in first.stdout

    second = airnub("notebook", str(notebook), "-p", "n", "5", env=stopped_server)
    assert second.returncode == 0 and "airnub: started" not in second.stdout, "the running server is reused"
    status = airnub("server", "status", env=stopped_server)
    assert status.stdout.startswith(f"airnub: the project's Prefect server is running at http://127.0.0.1:{port}")
    state = json.loads((tmp_path / "server" / "airnub-server.json").read_text())
    assert len(_processes_of(state)) >= 3, "the Prefect server, the runner and the reports' file server"
    token = (tmp_path / "server" / "reports-token").read_text().strip()
    assert state["reports_url"] == f"http://127.0.0.1:{stopped_server['AIRNUB_REPORTS_PORT']}/{token}"

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    auth = (tmp_path / "server" / "api-auth").read_text().strip()
    with temporary_settings(updates={PREFECT_API_URL: state["api_url"], PREFECT_API_AUTH_STRING: auth}), \
            get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    assert len(runs) == 2 and {run.state.name for run in runs} == {"Completed"}, "CLI runs show in the UI"

    stopped = airnub("server", "stop", env=stopped_server)
    assert stopped.stdout == f"airnub: stopped the project's Prefect server at http://127.0.0.1:{port}/api\n"
    assert wait_for(lambda: not _processes_of(state), 10), _processes_of(state)
    assert not (tmp_path / "server" / "airnub-server.json").exists()
    assert airnub("server", "status", env=stopped_server).stdout.startswith(
        "airnub: the project's Prefect server is not running")


@pytest.mark.parametrize("how", ["SIGKILL", "Ctrl-C"])
def test_a_command_stopped_mid_run_leaves_no_run_and_no_kernel_behind(stopped_server, tmp_path, how):
    notebook = write_notebook(tmp_path / "nbs" / "slow.ipynb", "seconds: int = 120",
                              "import time\nprint('sleeping', flush=True)\ntime.sleep(seconds)")
    assert airnub("server", "start", env=stopped_server).returncode == 0
    runner = psutil.Process(json.loads((tmp_path / "server" / "airnub-server.json").read_text())["runner_pid"])
    command = subprocess.Popen([AIRNUB, "notebook", str(notebook)], cwd=PROJECT_ROOT, env=stopped_server,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert wait_for(lambda: kernels_of(runner.pid), 60), "the notebook's kernel started"
    kernels = kernels_of(runner.pid)  # stopped at once: the kernel may still be starting (the hardest moment)
    started = time.monotonic()
    os.killpg(command.pid, signal.SIGKILL if how == "SIGKILL" else signal.SIGINT)
    _, stderr = command.communicate(timeout=60)
    if how == "Ctrl-C":
        assert command.returncode == 130 and time.monotonic() - started < 30, stderr
        # one verdict (Prefect may still say, after it, that it flushes its last events)
        verdicts = [line for line in stderr.splitlines() if line.startswith("airnub: ") and "stopping" not in line]
        assert verdicts == ["airnub: interrupted; outputs of earlier runs are as they were"], stderr
        assert "Traceback" not in stderr
    assert wait_for(lambda: not any(kernel.is_running() for kernel in kernels), 30), "the run's kernel was stopped"
    assert wait_for(lambda: not [c for c in runner.children() if c.status() != psutil.STATUS_ZOMBIE], 30), \
        "the run's process ended"
    assert not list(Path(tmp_path / "reports").rglob("slow.ipynb")), "no half-written report is published"


def test_a_taken_reports_port_gives_way_to_a_free_one_and_the_server_still_starts(stopped_server, tmp_path):
    import socket

    port = int(stopped_server["AIRNUB_REPORTS_PORT"])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        started = airnub("server", "start", env=stopped_server)
    assert started.returncode == 0, started.stderr
    state = json.loads((tmp_path / "server" / "airnub-server.json").read_text())
    bound = int(state["reports_url"].split(":")[2].split("/")[0])
    assert bound != port and psutil.pid_exists(state["reports_pid"])
    assert (f"airnub: 127.0.0.1:{port} is in use by another program; reports are served on port {bound} instead "
            "(set reports_port in settings.ini or AIRNUB_REPORTS_PORT to choose)") in started.stdout
    assert f"reports at {state['reports_url']}" in airnub("server", "status", env=stopped_server).stdout


def test_a_bad_reports_port_is_refused_before_anything_starts(stopped_server, tmp_path):
    done = airnub("server", "start", env={**stopped_server, "AIRNUB_REPORTS_PORT": "web"})
    assert done.returncode == 2 and "'reports_port' must be a port number (0: do not serve reports), got 'web'" \
        in done.stderr, done.stderr
    assert not (tmp_path / "server" / "airnub-server.json").exists()


KEPT_OR_FRESH = """
import importlib, sys, types
from pathlib import Path
from airnub.services import warm_runner as runner

probe, package = Path(sys.argv[1]), sys.argv[2]
importlib.import_module(package)
module = sys.modules["flows.probe"] = types.ModuleType("flows.probe")
module.__file__ = str(probe)
runner.PRELOADED.update({name: runner._signature(sys.modules[name]) for name in ("flows.probe", package)})
runner._fresh_project_code()
print("unchanged:", "flows.probe" in sys.modules, package in sys.modules)
probe.write_text(probe.read_text() + "# edited\\n")
runner._fresh_project_code()
print("edited:", "flows.probe" in sys.modules, package in sys.modules, "airnub.services.warm_runner" in sys.modules)
"""


def test_the_runner_keeps_the_project_code_it_loaded_until_a_file_of_it_changes(tmp_path):
    """A command through the warm runner runs the project's code as on disk: one file edited, all of the project's
    imported anew (its package and flows; the tool's modules stay)."""
    probe = tmp_path / "probe.py"
    probe.write_text("VALUE = 1\n")
    package = package_name(PROJECT_ROOT)
    done = subprocess.run([sys.executable, "-c", KEPT_OR_FRESH, str(probe), package], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["unchanged: True True", "edited: False False True"], done.stdout


BUSY_WRITER = """
import sqlite3, sys, threading, time

import httpx

api, database, auth = sys.argv[1], sys.argv[2], tuple(sys.argv[3].split(":", 1))
stop = threading.Event()


def write():  # another writer to the server's database, as Prefect's own event and task-run recorders are
    connection = sqlite3.connect(database, timeout=60, isolation_level=None)
    connection.execute("CREATE TABLE IF NOT EXISTS airnub_busy_probe (at REAL)")
    while not stop.is_set():
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO airnub_busy_probe VALUES (?)", (time.time(),))
        time.sleep(0.002)
        connection.execute("COMMIT")
        time.sleep(0.005)
    connection.execute("DROP TABLE airnub_busy_probe")
    connection.close()


writer = threading.Thread(target=write)
writer.start()
answers = []
try:
    with httpx.Client(base_url=api, auth=auth, timeout=60) as client:  # no retries: each answer as the server gives it
        flow = client.post("/flows/", json={"name": "busy-probe"}).json()["id"]
        for n in range(20):
            run = client.post("/flow_runs/", json={"flow_id": flow, "state": {"type": "PENDING"}})
            answers.append(run.status_code)
            if run.status_code == 201:
                answers.append(client.post("/task_runs/", json={"flow_run_id": run.json()["id"], "task_key": "probe",
                                                                "dynamic_key": str(n), "name": "probe"}).status_code)
finally:
    stop.set()
    writer.join()
print(" ".join(map(str, answers)))
"""


def test_the_project_server_waits_for_a_busy_database_instead_of_answering_503(airnub_server):
    """Runs and task runs are created while another writer commits to the database: none is refused.

    Prefect's server on SQLite answers 503 when a transaction that read first cannot take the write lock, and the
    client then sleeps 2**n s: the 2 s pauses of cached runs (PrefectHQ/prefect#18934). The project's server begins
    its transactions IMMEDIATE (services/prefect_server_process.py), so they wait for the lock instead.
    """
    state = json.loads((Path(airnub_server["AIRNUB_SERVER_HOME"]) / "airnub-server.json").read_text())
    database = Path(state["home"]) / "prefect.db"
    done = subprocess.run([sys.executable, "-c", BUSY_WRITER, state["api_url"], str(database),
                           airnub_server["PREFECT_API_AUTH_STRING"]], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["201"] * 40, done.stdout
