"""The project's server on a machine others share (issue 19): only its user reaches it, a foreign server on its port
is never used, and a stale or tampered state file never makes `airnub server stop` signal or remove anything else."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import urllib.request
import uuid
from pathlib import Path

import pytest

from airnub.testing.helpers import (
    RECORD,
    SECOND_USER,
    airnub,
    free_port,
    second_user_python,
    seed_prefect_home,
    wait_for,
    write_notebook,
)

# What the second user runs with the machine's Python: a request to the owner's API, without its credential.
PROBE = """
import sys, urllib.error, urllib.request
api = sys.argv[1]
for path, body in (("/block_documents/filter", b'{"include_secrets": true}'), ("/variables/filter", b"{}")):
    request = urllib.request.Request(api + path, data=body, headers={"Content-Type": "application/json"})
    try:
        print(path, urllib.request.urlopen(request, timeout=10).status)
    except urllib.error.HTTPError as error:
        print(path, error.code)
"""

# Another user's program on the project's port: it answers every request as a healthy Prefect API would, and logs it.
FOREIGN = """
import http.server, sys
port, log = int(sys.argv[1]), sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self):
        with open(log, "a") as out:
            out.write(f"{self.command} {self.path}\\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"true")
    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""




def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def test_another_user_gets_401_from_the_project_server_and_cannot_read_its_credential(stopped_server, second_user):
    shared = Path(tempfile.mkdtemp())  # a folder every user may enter (pytest's own tmp_path is private)
    try:
        shared.chmod(0o755)
        home = seed_prefect_home(shared / "server", Path(stopped_server["AIRNUB_SERVER_HOME"]) / "prefect.db")
        env = {**stopped_server, "AIRNUB_SERVER_HOME": str(home)}
        started = airnub("server", "start", env=env)
        assert started.returncode == 0, started.stdout + started.stderr
        api = json.loads((home / "airnub-server.json").read_text())["api_url"]

        probed = second_user_python(PROBE, api)
        assert probed.stdout.split() == ["/block_documents/filter", "401", "/variables/filter", "401"], probed
        stolen = second_user_python("import sys; print(open(sys.argv[1]).read())", str(home / "api-auth"))
        assert stolen.returncode != 0 and "Permission denied" in stolen.stderr, stolen.stdout
        database = second_user_python("import sys; open(sys.argv[1], 'rb').read(16)", str(home / "prefect.db"))
        assert database.returncode != 0 and "Permission denied" in database.stderr, "the database holds the secrets"
        assert (home.stat().st_mode & 0o777, (home / "api-auth").stat().st_mode & 0o777) == (0o700, 0o600)

        auth = (home / "api-auth").read_text().strip()
        request = urllib.request.Request(api + "/variables/filter", data=b"{}", headers={
            "Content-Type": "application/json", "Authorization": "Basic " + base64.b64encode(auth.encode()).decode()})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200, "the owner's credential is accepted"
    finally:
        airnub("server", "stop", env={**stopped_server, "AIRNUB_SERVER_HOME": str(shared / "server")})
        shutil.rmtree(shared, ignore_errors=True)


def test_a_foreign_server_on_the_port_is_never_used_the_project_server_takes_a_port_of_its_own(
        stopped_server, second_user, tmp_path):
    port = stopped_server["AIRNUB_SERVER_PORT"]
    log = Path(f"/tmp/airnub-foreign-{uuid.uuid4().hex}.log")
    foreign = subprocess.Popen(["runuser", "-u", SECOND_USER, "--", "env", "-i", "PATH=/usr/bin:/bin",
                                "/usr/bin/python3", "-c", FOREIGN, port, str(log)], cwd="/tmp",
                               start_new_session=True)
    try:
        assert wait_for(lambda: _answers(f"http://127.0.0.1:{port}/api/health")), "the foreign server answers"
        notebook = write_notebook(tmp_path / "nbs" / "small.ipynb", "n: int = 3", f"{RECORD}\nrecord('double', 2 * n)")
        done = airnub("notebook", str(notebook), "-p", "n", "4", env=stopped_server)
        assert done.returncode == 0, done.stdout + done.stderr
        state = json.loads((Path(stopped_server["AIRNUB_SERVER_HOME"]) / "airnub-server.json").read_text())
        assert state["port"] != int(port)
        said = [line for line in done.stdout.splitlines() if "is taken by" in line]
        assert len(said) == 1 and said[0].startswith(
            f"airnub: 127.0.0.1:{port} is taken by pid {_listener(foreign.pid)} (/usr/bin/python3 -c"), done.stdout
        assert said[0].endswith(f"; the project's server uses 127.0.0.1:{state['port']}"), said
        assert '"double": 8' in done.stdout and f"127.0.0.1:{state['port']}/runs/flow-run/" in done.stdout

        status = airnub("server", "status", env=stopped_server).stdout
        assert f"running at http://127.0.0.1:{state['port']} (port {state['port']}; 127.0.0.1:{port} was taken" \
            in status, status
        requests = log.read_text().splitlines() if log.exists() else []
        assert not [line for line in requests if not line.startswith("GET /api/health")], requests
    finally:
        os.killpg(foreign.pid, signal.SIGKILL)
        foreign.wait(timeout=30)
        log.unlink(missing_ok=True)


def _listener(runuser_pid: int) -> int:
    """The pid of the foreign server: runuser's child (`env` execs python)."""
    children = Path(f"/proc/{runuser_pid}/task/{runuser_pid}/children").read_text().split()
    return int(children[0]) if children else runuser_pid


def test_stop_signals_and_removes_only_what_the_project_started(stopped_server, tmp_path):
    home = Path(stopped_server["AIRNUB_SERVER_HOME"])
    unrelated = subprocess.Popen(["sleep", "300"], start_new_session=True)  # a pid reused after a reboot, say
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    stat = Path(f"/proc/{unrelated.pid}/stat").read_text().rsplit(")", 1)[1].split()
    try:
        for recorded in ({"pid": unrelated.pid, "start_time": 1, "cmdline": ["sleep", "300"]},  # stale: started later
                         {"pid": unrelated.pid, "start_time": int(stat[19]), "cmdline": ["sleep", "300"]}):  # not ours
            state = {"api_url": f"http://127.0.0.1:{stopped_server['AIRNUB_SERVER_PORT']}/api", "ui_url": "x",
                     "server_pid": unrelated.pid, "runner_pid": unrelated.pid, "reports_pid": unrelated.pid,
                     "processes": {"server": recorded, "runner": recorded, "reports": recorded},
                     "socket": str(outside), "home": str(home)}
            (home / "airnub-server.json").write_text(json.dumps(state))
            stopped = airnub("server", "stop", env=stopped_server)
            assert stopped.returncode == 0 and "Traceback" not in stopped.stderr, stopped.stderr
            assert f"airnub: left pid {unrelated.pid} alone: it is not the server this project started" \
                in stopped.stdout, stopped.stdout
            assert unrelated.poll() is None, "an unrelated process was signalled"
            assert outside.read_text() == "keep me", "a file outside the state folder was removed"
    finally:
        unrelated.kill()
        unrelated.wait(timeout=10)


@pytest.mark.parametrize("text", ["{not json", '{"socket": 5}', "[1, 2]"])
def test_a_corrupt_state_file_is_said_in_one_line_and_replaced(stopped_server, text):
    state_file = Path(stopped_server["AIRNUB_SERVER_HOME"]) / "airnub-server.json"
    for action in ("status", "stop"):
        state_file.write_text(text)
        done = airnub("server", action, env=stopped_server)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.splitlines() == [line for line in done.stderr.splitlines() if line.startswith(
            f"airnub: {state_file} is not a state file this project wrote")] != [], done.stderr
        assert not state_file.exists()


def test_two_checkouts_side_by_side_each_get_their_own_server(stopped_server, tmp_path):
    first = stopped_server
    other_home = seed_prefect_home(tmp_path / "other-server", Path(first["AIRNUB_SERVER_HOME"]) / "prefect.db")
    second = {**first, "AIRNUB_SERVER_HOME": str(other_home), "AIRNUB_REPORTS_PORT": str(free_port())}
    try:
        for env in (first, second):
            started = airnub("server", "start", env=env)
            assert started.returncode == 0, started.stdout + started.stderr
        assert "is taken by pid" in started.stdout and "the project's server uses" in started.stdout, started.stdout
        states = [json.loads((Path(env["AIRNUB_SERVER_HOME"]) / "airnub-server.json").read_text())
                  for env in (first, second)]
        assert states[0]["port"] == int(first["AIRNUB_SERVER_PORT"]) != states[1]["port"]
        for env, state in zip((first, second), states, strict=True):
            status = airnub("server", "status", env=env).stdout
            assert f"running at {state['ui_url']}" in status and f"data in {env['AIRNUB_SERVER_HOME']}" in status
    finally:
        airnub("server", "stop", env=second)
