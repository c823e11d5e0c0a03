"""The warm runner: one process with Prefect and the project's libraries imported, forking a child per command.

Importing Prefect costs 2-4 s, pandas and scikit-learn another second: more than a notebook run. `airnub server
start` starts this runner beside the project's Prefect server. It imports every flow once and notes the project's
module files; a child keeps those modules while none of their files changed, else imports the project's code fresh
from disk: an edited notebook, exported, is what the next command runs.

A command (`forward`) passes its typed request (checked once, by the command line), working directory, environment
and stdio (SCM_RIGHTS); a forked child takes them over and runs `airnub.commands.execution.execute(request)`
against the runner's Prefect server; the exit code goes back to the command. Ctrl-C reaches the child as SIGINT; a
command that dies (kill -9) closes its socket, and the runner stops the child's process group, so no run outlives
its command. Requests are read without blocking (`warm_runner_protocol`): no client can crash, drain or stall the
runner. A child dies with the runner and, as a subreaper, stops what its run left behind (`processes`); the
runner, a subreaper too, kills what a child it reaped left orphaned.
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

from airnub.services.processes import (
    become_subreaper,
    descendants,
    descendants_except,
    die_with_parent,
    signal_all,
    sweep,
)
from airnub.services.warm_runner_protocol import Arriving, Envelope, RequestError, close_quietly, peer_uid

KEEP = {"flows"}  # the namespace of the project's flows: its departments are what is imported again
PRELOADED: dict[str, tuple | None] = {}  # project module -> its file's signature when preloaded
GRACE_SECONDS = 10  # a run whose command was killed has this long to stop cleanly before SIGKILL
MAX_ARRIVING = 32  # requests read at once; a further connection drops the oldest


def preload() -> None:
    """Import every flow and what the commands and a flow's first call use; note the project's module files."""
    import airnub.commands.execution  # noqa: F401  what runs a request, and what it imports lazily:
    import airnub.orchestration.notebook_flow  # noqa: F401
    import airnub.orchestration.secrets  # noqa: F401
    import airnub.orchestration.sweep_flow  # noqa: F401
    import airnub.orchestration.variables_sync  # noqa: F401
    from airnub.orchestration.departments import STAGES, departments, stage_flow

    for department in departments():
        for stage in (*STAGES, None):
            stage_flow(department, stage)
    # What Prefect imports on a flow's first call (about 0.5 s in every child otherwise): the engines, the
    # parameter encoder of subflows (FastAPI's), the flow graph helpers and concurrency limits.
    import fastapi.encoders  # noqa: F401
    import prefect.concurrency.sync  # noqa: F401
    import prefect.flow_engine  # noqa: F401
    import prefect.task_engine  # noqa: F401
    import prefect.utilities.visualization  # noqa: F401

    from airnub.engine.report_html import warm_up

    warm_up()  # the reports' exporter and its compiled templates (about a second): once, here
    from airnub.engine.dependencies import import_closure

    for name in _project_modules():  # the import closures a plan and a cached task key on: each file parsed once,
        import_closure(name)  # here (0.5 s); a child parses again only the files that changed since
    PRELOADED.update({name: _signature(module) for name, module in _project_modules().items()})


def _project_modules() -> dict[str, object]:
    """The modules of the project (its package and its flows), not the tool's or a library's."""
    from airnub.engine.settings import find_project_root
    from airnub.project import package_name

    project = (package_name(find_project_root()), "flows.")
    return {name: module for name, module in sys.modules.items()
            if name.startswith(project) and name not in KEEP}


def _signature(module: object) -> tuple[str, tuple | None] | None:
    """The file behind `module` and its `file_state` (None when the file is gone); None for a module with no file."""
    from airnub.engine.storage import file_state  # here: `airnub` imports this module to forward

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


def _child(request: Envelope, api_url: str) -> int:
    """In the forked child: take over the command's stdio, folder and environment, and run it."""
    os.setpgid(0, 0)
    become_subreaper()  # what the run leaves orphaned (a daemon a notebook forked) is ours to stop at the end
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stop from the runner unwinds like Ctrl-C
    for target, fd in zip((0, 1, 2), request.fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    try:
        os.chdir(request.cwd)
    except OSError as error:
        print(f"airnub: cannot run in {request.cwd}: {error.strerror}", file=sys.stderr)
        return 2
    os.environ.clear()
    os.environ.update(request.env, PREFECT_API_URL=api_url)
    sys.argv = ["airnub", request.command.kind]
    import prefect.context
    from prefect.logging.configuration import setup_logging

    _fresh_project_code()
    prefect.context.refresh_global_settings_context()  # the command's PREFECT_* settings, this runner's API
    setup_logging(incremental=False)  # log handlers on the command's stderr
    from airnub.commands.execution import execute

    return execute(request.command)


def _run_child(request: Envelope, api_url: str) -> None:
    code = 1
    try:
        code = _child(request, api_url)
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
        with contextlib.suppress(BaseException):
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)  # a second stop does not cut the sweep short
            sweep()  # whatever the run left behind, a kernel or a daemon, ends with it
        os._exit(code)


def _stop_group(pid: int, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def serve(socket_path: Path) -> None:
    """Accept commands on `socket_path` until SIGTERM; each runs in a forked child."""
    api_url = os.environ["PREFECT_API_URL"]
    preload()
    become_subreaper()  # a run's orphans come to us when its child ends, and are killed when it is reaped
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(socket_path))
    os.chmod(socket_path, 0o600)
    listener.listen(16)
    listener.setblocking(False)
    children: dict[int, socket.socket | None] = {}  # child pid -> its command's connection (None: command gone)
    arriving: dict[socket.socket, Arriving] = {}  # connections whose request is still arriving
    orphaned: dict[int, float] = {}  # child pid -> when its command went away
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    print(f"runner ready on {socket_path} for {api_url}", flush=True)
    while not stopping:
        connections = {connection: pid for pid, connection in children.items() if connection is not None}
        with contextlib.suppress(InterruptedError):
            for ready in select.select([listener, *connections, *arriving], [], [], 0.2)[0]:
                if ready is listener:
                    _accept(listener, arriving)
                elif ready in arriving:
                    _receive(arriving[ready], listener, arriving, children, api_url)
                elif ready in connections:  # (not one dropped earlier in this round)
                    _command_said(ready, connections[ready], children, orphaned)
        for late in [request for request in arriving.values() if time.monotonic() > request.deadline]:
            arriving.pop(late.connection).close()
        for pid, since in orphaned.items():
            if time.monotonic() - since > GRACE_SECONDS:
                _stop_group(pid, signal.SIGKILL)
        for pid in _reap(children):
            orphaned.pop(pid, None)
    for pid in children:
        _stop_group(pid, signal.SIGKILL)
    signal_all(descendants(), signal.SIGKILL)
    socket_path.unlink(missing_ok=True)


def _command_said(connection: socket.socket, pid: int, children: dict, orphaned: dict[int, float]) -> None:
    """A running command's connection spoke: a signal it received (Ctrl-C), or it closed (the command died)."""
    try:
        message = connection.recv(64)
    except OSError:  # reset by a command that died
        message = b""
    if not message:  # the command is gone (killed): stop its run, and everything in its group
        connection.close()
        children[pid], orphaned[pid] = None, time.monotonic()
        _stop_group(pid)
    for line in message.decode(errors="replace").split():
        if line.isdigit() and int(line) in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL):
            _stop_group(pid, int(line))


def _accept(listener: socket.socket, arriving: dict[socket.socket, Arriving]) -> None:
    """Take a connection from a process of this user; its request is read as it arrives (`_receive`)."""
    try:
        connection, _ = listener.accept()
    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
        return
    if peer_uid(connection) != os.getuid():  # the socket is 0600; this is a second lock on the same door
        connection.close()
        return
    if len(arriving) >= MAX_ARRIVING:
        oldest = min(arriving.values(), key=lambda request: request.deadline)
        arriving.pop(oldest.connection).close()
    arriving[connection] = Arriving(connection)


def _receive(pending: Arriving, listener: socket.socket, arriving: dict[socket.socket, Arriving],
             children: dict[int, socket.socket | None], api_url: str) -> None:
    """Read what a connection sent; once its request is whole, start it. A refused request is closed, fds and all."""
    request = None
    try:
        if (request := pending.receive()) is None:
            return
        del arriving[pending.connection]
        _start(request, pending.connection, listener, arriving, children, api_url)
    except Exception:  # noqa: BLE001  a probe (`airnub server start` waiting), a broken or hostile client
        arriving.pop(pending.connection, None)
        pending.close()
        for fd in request.fds if request else ():
            close_quietly(fd)


def _start(request: Envelope, connection: socket.socket, listener: socket.socket,
           arriving: dict[socket.socket, Arriving], children: dict[int, socket.socket | None], api_url: str) -> None:
    """Fork the child that runs `request`; tell the command it was taken (or, interrupted already, its exit)."""
    connection.settimeout(2)  # replies are a line each: a command that does not read them cannot stall us
    if request.signals:  # Ctrl-C before the runner took the command: nothing ran
        connection.sendall(json.dumps({"exit": 130}).encode() + b"\n")
        raise RequestError("interrupted before it started")
    if select.select([connection], [], [], 0)[0] and not connection.recv(1, socket.MSG_PEEK):
        raise RequestError("the command went away (it gave up waiting) before it started")
    runner = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            die_with_parent(runner)  # kill -9 of the runner stops this run too
            listener.close()
            for other in [*children.values(), *arriving.values()]:
                if other is not None:
                    other.close()
            connection.close()
            _run_child(request, api_url)
        finally:
            os._exit(1)  # never back into the runner's loop
    for fd in request.fds:
        os.close(fd)
    request.fds.clear()
    children[pid] = connection
    with contextlib.suppress(OSError):
        connection.sendall(json.dumps({"started": pid}).encode() + b"\n")


def _reap(children: dict[int, socket.socket | None]) -> list[int]:
    """Collect the children that ended, send each command its exit code, kill what they left; return their pids."""
    ended = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        ended.append(pid)
        if pid not in children:  # an orphan a run left, reparented to us and killed: collected
            continue
        if (connection := children.pop(pid)) is not None:
            with contextlib.suppress(OSError):
                connection.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
            connection.close()
        _stop_group(pid, signal.SIGKILL)  # whatever the run left in its process group
        signal_all(descendants_except(set(children)), signal.SIGKILL)
    return ended


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
