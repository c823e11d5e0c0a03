"""Faults end in one line and leave nothing half-written (issue 19, item 9): a Prefect server killed mid-run, a full
disk under the reports, a parameter too large for Prefect."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from airnub.engine.notebook_parameters import PARAMETER_LIMIT_BYTES
from airnub.testing.helpers import AIRNUB, PROJECT_ROOT, airnub, own_notebooks_dir, wait_for, write_notebook


def _verdicts(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("airnub: ")]




@pytest.mark.parametrize("where", ["warm runner", "command"])
def test_a_prefect_server_killed_mid_run_ends_the_command_in_one_line_and_keeps_the_report(stopped_server, tmp_path,
                                                                                          where):
    """Once 2 min 39 s of retries and ~300 traceback lines although the report was complete. The run goes through
    the warm runner, or runs in the command itself (a server named by PREFECT_API_URL the runner does not serve)."""
    notebook = write_notebook(tmp_path / "nbs" / "sleepy.ipynb", "seconds: int = 6",
                              "import time\nprint('sleeping', flush=True)\ntime.sleep(seconds)")
    assert airnub("server", "start", env=stopped_server).returncode == 0
    state = json.loads((tmp_path / "server" / "airnub-server.json").read_text())
    if where == "command":
        state["api_url"] = state["api_url"].replace("127.0.0.1", "localhost")
        credential = (tmp_path / "server" / "api-auth").read_text().strip()  # a server named by URL: the user's own
        stopped_server = {**stopped_server, "PREFECT_API_URL": state["api_url"], "PREFECT_API_AUTH_STRING": credential}
    command = subprocess.Popen([AIRNUB, "notebook", str(notebook)], cwd=PROJECT_ROOT, env=stopped_server,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reports = tmp_path / "reports" / "sleepy"
    try:  # papermill writes the partial notebook as the first cell starts: the kernel sleeps now
        assert wait_for(lambda: list(reports.glob("*/.partial.sleepy.ipynb")), 90), "the run started"
        os.kill(state["server_pid"], 9)
        _, stderr = command.communicate(timeout=90)  # Prefect's own retries took 159 s
    finally:
        command.kill()
    assert command.returncode == 1, stderr
    verdicts = _verdicts(stderr)
    assert len(verdicts) == 1 and "Traceback" not in stderr, stderr
    assert verdicts[0].startswith(f"airnub: the Prefect server at {state['api_url']} stopped answering (ConnectError: ")
    assert len(stderr.splitlines()) < 30, stderr
    runs = list(reports.iterdir())
    assert len(runs) == 1 and {path.name for path in runs[0].iterdir()} == {"sleepy.ipynb", "sleepy.html", "run.json"}
    assert json.loads((runs[0] / "run.json").read_text())["status"] == "completed", "the report stays complete"


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB file system (tmpfs) mounted for the test; skipped with the reason where none can be mounted."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs as the reports folder")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True,
                             text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_full_disk_during_a_report_ends_in_one_line_and_the_next_run_is_unaffected(subprocess_env, tmp_path,
                                                                                     small_disk):
    """Once NotJSONError tracebacks and a .partial file that filled the disk, so that the next run failed too."""
    reports = small_disk / "reports"
    env = {**subprocess_env, **own_notebooks_dir(tmp_path / "nbs"), "AIRNUB_REPORTS_DIR": str(reports)}
    notebook = write_notebook(tmp_path / "nbs" / "loud.ipynb", "megabytes: int = 5",
                              "print('x' * (megabytes << 20))")
    full = airnub("notebook", str(notebook), env=env)
    assert full.returncode == 1, full.stderr[-3000:]
    assert _verdicts(full.stderr) == [
        f"airnub: no space left in {reports} (writing the report of loud.ipynb); the run's half-written files were "
        "removed: free some space there, or choose another folder (reports_dir in settings.ini, or "
        "AIRNUB_REPORTS_DIR)"], full.stderr[-3000:]
    assert "Traceback" not in full.stderr, full.stderr[-3000:]
    assert not [path for path in reports.rglob("*") if path.is_file()], "nothing half-written is left"

    small = airnub("notebook", str(notebook), "-p", "megabytes", "0", env=env)
    assert small.returncode == 0, small.stderr[-3000:]
    assert [path.name for path in reports.rglob("*.html")] == ["loud.html"]


def test_a_parameter_too_large_for_prefect_is_refused_in_one_line_before_anything_runs(stopped_server, tmp_path):
    """Once Prefect's 422 as a 2 MB traceback."""
    notebook = write_notebook(tmp_path / "nbs" / "echo.ipynb", "text: str = ''", "print(len(text))")
    (tmp_path / "big.yaml").write_text(f"text: {'x' * (1 << 20)}\n")  # 1 MB: more than one argument may hold
    (tmp_path / "grid.yaml").write_text(f"text: [short, {'y' * 100_000}]\n")
    limit = f"limit {PARAMETER_LIMIT_BYTES} bytes); put the value in a file and pass the file's path instead"
    for args, size in [(["notebook", str(notebook), "-f", str(tmp_path / "big.yaml")], (1 << 20) + 2),
                       (["notebook", str(notebook), "-p", "text", "z" * 70_000], 70_002),
                       (["sweep", str(notebook), "--grid", str(tmp_path / "grid.yaml")], 100_002)]:
        done = airnub(*args, env=stopped_server)
        assert done.returncode == 2, done.stderr[-2000:]
        assert done.stderr == f"airnub: parameter 'text' is too large ({size} bytes; {limit}\n", done.stderr[-2000:]
    assert {path.name for path in (tmp_path / "server").iterdir()} == {"prefect.db"}, "no server was started"
    assert not Path(tmp_path / "reports").exists(), "nothing was written"
