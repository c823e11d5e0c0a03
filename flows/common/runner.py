"""The warm runner: one process with Prefect and the project's libraries imported, forking a child per command.

Importing Prefect costs 2-4 s, pandas and scikit-learn another second: more than the notebook a
data scientist runs. `airnub server start` starts this runner beside the project's Prefect
server. It imports every flow once (so that every library they use is loaded) and notes the
project's own module files. A child keeps those modules while none of their files changed; when one
did, it forgets them all and imports the project's code fresh from disk: an edited notebook,
exported, is what the next command runs.

A command (`forward`) connects over a Unix socket and passes its argv, working directory,
environment and its stdin, stdout and stderr (SCM_RIGHTS); the runner forks a child that takes
them over, runs `flows.cli.execute(argv)` against the runner's Prefect server, and the exit code
goes back to the command. Ctrl-C in the command reaches the child as SIGINT; a command that dies
(kill -9) closes its socket, and the runner then stops the child and everything in its process
group, so no run outlives the command that asked for it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import sys
import time
import traceback
from pathlib import Path

PROJECT_MODULES = ("airnub_prefect_starter", "flows.")
KEEP = {"flows", "flows.common", "flows.common.runner"}
PRELOADED: dict[str, tuple | None] = {}  # project module -> its file's signature when preloaded
HEADER_LIMIT = 4 << 20  # bytes: argv, working directory and environment
GRACE_SECONDS = 10  # a run whose command was killed has this long to stop cleanly before SIGKILL


def preload() -> None:
    """Import every flow and what the commands and a flow's first call use; note the project's module files."""
    import flows.cli  # noqa: F401  the command itself, and what it imports lazily:
    import flows.common.notebook_flow  # noqa: F401
    import flows.common.secrets  # noqa: F401
    import flows.common.sweep_flow  # noqa: F401
    import flows.common.variables_sync  # noqa: F401
    from flows.departments import DEPARTMENTS, STAGES, stage_flow

    for department in DEPARTMENTS:
        for stage in (*STAGES, None):
            stage_flow(department, stage)
    # What Prefect imports on a flow's first call (about 0.5 s in every child otherwise): the engines, the
    # parameter encoder of subflows (FastAPI's), the flow graph helpers and concurrency limits.
    import fastapi.encoders  # noqa: F401
    import prefect.concurrency.sync  # noqa: F401
    import prefect.flow_engine  # noqa: F401
    import prefect.task_engine  # noqa: F401
    import prefect.utilities.visualization  # noqa: F401

    from airnub_prefect_starter.engine.report_html import warm_up

    warm_up()  # the reports' exporter and its compiled templates (about a second): once, here
    PRELOADED.update({name: _signature(module) for name, module in _project_modules().items()})


def _project_modules() -> dict[str, object]:
    return {name: module for name, module in sys.modules.items()
            if name.startswith(PROJECT_MODULES) and name not in KEEP}


def _signature(module: object) -> tuple[str, tuple | None] | None:
    """The file behind `module` and its `file_state` (None when the file is gone); None for a module with no file."""
    from airnub_prefect_starter.engine.storage import file_state  # here: `airnub` imports this module to forward

    if not (file := getattr(module, "__file__", None)):
        return None
    return (file, file_state(file))


def _fresh_project_code() -> None:
    """In a child: keep the preloaded project modules while none of their files changed, else forget them all.

    All or nothing: a module keeps references to the others it imported, so one edited file means
    every project module is imported again (as a new process would).
    """
    if any(signature and _signature(sys.modules.get(name)) != signature for name, signature in PRELOADED.items()):
        for name in _project_modules():
            del sys.modules[name]


def _read_request(connection: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(connection, 65536, 3)
    if len(fds) != 3:
        raise ValueError("no standard streams passed")
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk or len(data) > HEADER_LIMIT:
            raise ValueError("incomplete request")
        data += chunk
    return json.loads(data), fds


def _child(request: dict, fds: list[int], api_url: str) -> int:
    """In the forked child: take over the command's stdio, folder and environment, and run it."""
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stop from the runner unwinds like Ctrl-C
    for target, fd in zip((0, 1, 2), fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"], PREFECT_API_URL=api_url)
    sys.argv = ["airnub", *request["argv"]]
    import prefect.context
    from prefect.logging.configuration import setup_logging

    _fresh_project_code()
    prefect.context.refresh_global_settings_context()  # the command's PREFECT_* settings, this runner's API
    setup_logging(incremental=False)  # log handlers on the command's stderr
    from flows.cli import execute

    return execute(request["argv"])


def _run_child(request: dict, fds: list[int], api_url: str) -> None:
    code = 1
    try:
        code = _child(request, fds, api_url)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # a bug, not a refusal: show it to the command's user
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()  # Prefect ships the run's last logs to the API at exit
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _stop_group(pid: int, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def serve(socket_path: Path) -> None:
    """Accept commands on `socket_path` until SIGTERM; each runs in a forked child."""
    api_url = os.environ["PREFECT_API_URL"]
    preload()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(socket_path))
    os.chmod(socket_path, 0o600)
    listener.listen(16)
    children: dict[int, socket.socket | None] = {}  # child pid -> its command's connection (None: command gone)
    orphaned: dict[int, float] = {}  # child pid -> when its command went away
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    print(f"runner ready on {socket_path} for {api_url}", flush=True)
    while not stopping:
        connections = {connection: pid for pid, connection in children.items() if connection is not None}
        with contextlib.suppress(InterruptedError):
            for ready in select.select([listener, *connections], [], [], 0.2)[0]:
                if ready is listener:
                    _accept(listener, children, api_url)
                    continue
                pid = connections[ready]
                try:
                    message = ready.recv(64)
                except OSError:  # reset by a command that died
                    message = b""
                if not message:  # the command is gone (killed): stop its run, and everything in its group
                    ready.close()
                    children[pid], orphaned[pid] = None, time.monotonic()
                    _stop_group(pid)
                for line in message.decode(errors="replace").split():  # a signal the command received (Ctrl-C)
                    if line.isdigit() and int(line) in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL):
                        _stop_group(pid, int(line))
        for pid, since in orphaned.items():
            if time.monotonic() - since > GRACE_SECONDS:
                _stop_group(pid, signal.SIGKILL)
        for pid in _reap(children):
            orphaned.pop(pid, None)
    for pid in children:
        _stop_group(pid, signal.SIGKILL)
    socket_path.unlink(missing_ok=True)


def _accept(listener: socket.socket, children: dict[int, socket.socket | None], api_url: str) -> None:
    connection, _ = listener.accept()
    try:
        connection.settimeout(10)
        request, fds = _read_request(connection)
        connection.settimeout(None)
    except (OSError, ValueError):  # a probe (`airnub server start` waiting for the socket) or a broken client
        connection.close()
        return
    pid = os.fork()
    if pid == 0:
        listener.close()
        for other in children.values():
            if other is not None:
                other.close()
        connection.close()
        _run_child(request, fds, api_url)
    for fd in fds:
        os.close(fd)
    children[pid] = connection


def _reap(children: dict[int, socket.socket | None]) -> list[int]:
    """Collect the children that ended, send each command its exit code; return their pids."""
    ended = []
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        ended.append(pid)
        if (connection := children.pop(pid, None)) is not None:
            with contextlib.suppress(OSError):
                connection.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
            connection.close()
        _stop_group(pid, signal.SIGKILL)  # whatever the run left in its process group
    return ended


def forward(socket_path: Path, argv: list[str]) -> int:
    """Run `airnub argv` in the runner at `socket_path`, as if in this process; return its exit code."""
    connection = socket.socket(socket.AF_UNIX)
    connection.connect(str(socket_path))
    header = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode() + b"\n"
    socket.send_fds(connection, [header[:1]], [0, 1, 2])
    connection.sendall(header[1:])
    interrupts: list[int] = []

    def interrupt(signum: int, _frame: object) -> None:
        interrupts.append(signum)
        if len(interrupts) == 1:
            print("\nairnub: interrupted; stopping the run (Ctrl-C again to stop it at once)", file=sys.stderr)
        with contextlib.suppress(OSError):
            connection.sendall(f"{signum if len(interrupts) == 1 else int(signal.SIGKILL)}\n".encode())

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = connection.recv(4096)
        if not chunk:
            print("airnub: the runner stopped before the command ended; `airnub server status` tells more",
                  file=sys.stderr)
            return 1
        reply += chunk
    return int(json.loads(reply)["exit"])


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
