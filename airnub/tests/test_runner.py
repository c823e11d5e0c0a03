"""The warm runner on a machine others share: no client crashes, drains or stalls it; no run outlives its command."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from airnub.testing.helpers import AIRNUB, PROJECT_ROOT, airnub, kernels_of, wait_for, write_notebook

FORWARD = """
import sys
from pathlib import Path
from airnub.cli.main import request_of
from airnub.services import warm_runner_protocol as runner_protocol

runner_protocol.TAKE_SECONDS = float(sys.argv[2])
sys.exit(runner_protocol.forward(Path(sys.argv[1]), request_of(sys.argv[3:])))
"""
STATUS = ("server", "status")  # a command the runner answers at once: what the project's server is doing


def forwarded(socket_path: str, *argv: str, take_seconds: float = 15,
              timeout: float = 60) -> tuple[int, str, str, float]:
    """`airnub argv`, checked, sent to the runner at `socket_path` as a command sends it: (code, out, err, seconds)."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", FORWARD, socket_path, str(take_seconds), *argv], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


@pytest.fixture
def runner(stopped_server, tmp_path):
    """(the runner's process, its socket path, the environment) of a project server started for the test."""
    started = airnub("server", "start", env=stopped_server)
    assert started.returncode == 0, started.stdout + started.stderr
    state = json.loads((tmp_path / "server" / "airnub-server.json").read_text())
    return psutil.Process(state["runner_pid"]), state["socket"], stopped_server


def _open_fds(process: psutil.Process) -> list[int]:
    return sorted(int(fd) for fd in os.listdir(f"/proc/{process.pid}/fd"))


def _refused(socket_path: str, *parts: tuple[bytes, list[int]]) -> None:
    """Send each part (bytes with fds passed on them) as a client may; wait (bounded) until the runner hangs up."""
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(15)
        client.connect(socket_path)
        answer = b""
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused before all was sent
            for data, fds in parts:
                socket.send_fds(client, [data], fds)
                time.sleep(0.01)
            while chunk := client.recv(4096):
                answer += chunk
        assert b"started" not in answer, "the runner refuses the request and hangs up"


REQUEST = json.dumps({"command": {"kind": "server", "action": "status"}, "cwd": "/", "env": {}}).encode() + b"\n"


def test_hostile_requests_neither_crash_nor_drain_nor_stall_the_runner(runner, tmp_path):
    process, socket_path, _ = runner
    before = _open_fds(process)
    limit = before[-1] + 64  # a leak of 3 fds a request reaches it within 22 requests
    process.rlimit(psutil.RLIMIT_NOFILE, (limit, limit))
    with open(os.devnull) as null:
        io = null.fileno()
        nested = 100_000
        _refused(socket_path, (b"[" * nested + b"]" * (nested + 1) + b"\n", [io] * 3))  # (a)
        for _ in range(40):  # (b) more fds than the limit leaves room for, in every shape a client may send them
            _refused(socket_path, (b"{", [io] * 5), (b"not json\n", []))
            _refused(socket_path, (b'{"argv": [1], "cwd": 2, "env": []}\n', [io] * 3))
            _refused(socket_path, (REQUEST, [io] * 3), (b"\n", [io]), (b"\n", [io] * 3))
            _refused(socket_path, (REQUEST, []), (b"1" * 100 + b"\n", []))  # its stdio message carries no fds
        assert process.is_running() and process.status() != psutil.STATUS_ZOMBIE, "the runner survived"
        with socket.socket(socket.AF_UNIX) as slow:  # (c) a client that sends one byte, its stdio, then nothing
            slow.connect(socket_path)
            slow.sendall(REQUEST[:1])
            code, stdout, stderr, seconds = forwarded(socket_path, *STATUS)
            assert (code, "the project's Prefect server is" in stdout) == (0, True), stderr
            assert seconds < 8, f"a command waited {seconds:.1f} s behind a slow client"
    assert wait_for(lambda: _open_fds(process) == before, 20), f"fds {_open_fds(process)} open, {before} before"


UNCHECKED = """
import sys
from pathlib import Path
from airnub.commands.requests import NotebookRequest
from airnub.services.warm_runner_protocol import forward

sys.exit(forward(Path(sys.argv[1]), NotebookRequest(notebook=3)))  # a request the command line never makes
"""


def _answer(socket_path: str, envelope: dict) -> list[dict]:
    """The runner's replies to `envelope` sent as one line (no stdio follows), until it hangs up."""
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(15)
        client.connect(socket_path)
        client.sendall(json.dumps(envelope).encode() + b"\n")
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
    return [json.loads(line) for line in answer.splitlines()]


def test_the_runner_takes_a_checked_request_only_and_says_why_in_one_line(runner):
    process, socket_path, _ = runner
    base = {"cwd": "/", "env": {}}
    refused = {
        "a command line (argv) is not taken: the command line sends its checked request":
            {"argv": ["notebook", "nbs/reports/model_evaluation.ipynb", "-p", "alpha", "0.1"], **base},
        "notebook request: field 'notebook' must be str, got int": {"command": {"kind": "notebook", "notebook": 3,
                                                                                "parameters": {}}, **base},
        "run request: field 'department' is missing": {"command": {"kind": "run"}, **base},
        "not a command request: expected an object whose kind is one of run, notebook, sweep, params, "
        "variables-sync, blocks-setup, server, new": {"command": {"kind": "shell", "line": "rm -rf /"}, **base},
    }
    for reason, envelope in refused.items():
        assert _answer(socket_path, envelope) == [{"refused": reason}], reason
    done = subprocess.run([sys.executable, "-c", UNCHECKED, socket_path], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.splitlines() == ["airnub: the runner refused the command: notebook request: field 'notebook' "
                                        "must be str, got int"], done.stderr
    assert not _run_of(process.pid), "nothing ran"


def test_a_command_says_in_one_line_when_the_runner_does_not_take_it(runner):
    process, socket_path, _ = runner
    process.suspend()  # a runner that accepts nothing (stopped, hung)
    try:
        code, _, stderr, seconds = forwarded(socket_path, *STATUS, take_seconds=2, timeout=30)
    finally:
        process.resume()
    assert code == 1 and seconds < 20, (code, seconds)
    assert stderr.splitlines() == [f"airnub: the runner at {socket_path} did not take the command within 2.0 s; "
                                   "`airnub server stop` and `airnub server start` restart it"], stderr


def test_ctrl_c_before_the_runner_takes_a_command_runs_nothing_and_says_so(runner):
    process, socket_path, _ = runner
    process.suspend()  # the runner is busy: the command waits for it
    try:
        command = subprocess.Popen([sys.executable, "-c", FORWARD, socket_path, "30", *STATUS], cwd=PROJECT_ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert wait_for(lambda: psutil.Process(command.pid).net_connections("unix"), 20), "the command connected"
        time.sleep(0.5)  # and sent its request
        command.send_signal(signal.SIGINT)
        stdout, stderr = command.communicate(timeout=10)
    finally:
        process.resume()
    assert command.returncode == 130 and stderr.strip() == \
        "airnub: interrupted before the runner took the command; nothing ran", stderr
    time.sleep(1)
    assert not _run_of(process.pid) and stdout == "", "nothing ran"
    code, stdout, stderr, _ = forwarded(socket_path, *STATUS)
    assert (code, "the project's Prefect server is" in stdout) == (0, True), stderr


LISTENER = """
import socket, sys, time
listener = socket.socket(socket.AF_UNIX)
listener.bind(sys.argv[1])
listener.listen()
print("ready", flush=True)
listener.settimeout(20)
connection, _ = listener.accept()
connection.settimeout(10)
received = b""
while chunk := connection.recv(65536):
    received += chunk
print("received", len(received), flush=True)
"""


def test_a_command_sends_nothing_to_a_runner_socket_another_user_serves(second_user):
    folder = Path(tempfile.mkdtemp(prefix="airnub-theirs-"))  # pytest's folders are private to the owner
    os.chown(folder, int(subprocess.check_output(["id", "-u", second_user])), -1)
    path = folder / "runner.sock"
    listener = subprocess.Popen(["runuser", "-u", second_user, "--", "/usr/bin/python3", "-c", LISTENER, str(path)],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout.readline() == "ready\n"
        code, _, stderr, _ = forwarded(str(path), *STATUS, timeout=30)
        said, _ = listener.communicate(timeout=30)
    finally:
        listener.kill()
        shutil.rmtree(folder, ignore_errors=True)
    assert code == 2 and stderr.startswith(f"airnub: the runner's socket {path} is served by another user"), stderr
    assert len(stderr.splitlines()) == 1 and said == "received 0\n", (stderr, said)


def _run_of(runner_pid: int) -> list[psutil.Process]:
    return [child for child in psutil.Process(runner_pid).children() if child.status() != psutil.STATUS_ZOMBIE]


def test_kill_9_of_the_runner_stops_the_run_and_its_kernel(runner, tmp_path):
    process, _, env = runner
    notebook = write_notebook(tmp_path / "nbs" / "slow.ipynb", "seconds: int = 120", "import time\ntime.sleep(seconds)")
    command = subprocess.Popen([AIRNUB, "notebook", str(notebook)], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: kernels_of(process.pid), 60), "the notebook's kernel started"
        run = [*_run_of(process.pid), *kernels_of(process.pid)]
        time.sleep(2)  # the kernel runs the notebook's cell
        process.kill()
        assert wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in run), 15), \
            [p.cmdline() for p in run if p.is_running()]
        command.communicate(timeout=30)
    finally:
        command.kill()
    assert command.returncode != 0, "the command says its run did not end well"


DAEMON = "import subprocess\nsubprocess.Popen(['setsid', 'sleep', '{seconds}'])"


def _sleeping(seconds: str) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", seconds]]


@pytest.mark.parametrize("through", ["runner", "command"])
def test_a_daemon_a_notebook_starts_ends_with_the_command(stopped_server, tmp_path, through):
    seconds = f"300.{os.getpid()}{len(through)}"  # a sleep no other test starts
    notebook = write_notebook(tmp_path / "nbs" / "daemon.ipynb", "n: int = 1", DAEMON.format(seconds=seconds))
    env = stopped_server if through == "runner" else {**stopped_server, "AIRNUB_SERVER_AUTOSTART": "false"}
    try:  # the command's stdout is a pipe, as in `airnub notebook ... | cat`: it ends when the command ends
        done = subprocess.run([AIRNUB, "notebook", str(notebook)], cwd=PROJECT_ROOT, env=env, capture_output=True,
                              text=True, timeout=150)
        assert done.returncode == 0, done.stderr
        assert not _sleeping(seconds), "the daemon the notebook started is gone"
    finally:
        for daemon in _sleeping(seconds):
            daemon.kill()
