"""The project's own Prefect server: started in the background, reused by every command, stopped on request.

`airnub server start` runs `prefect server start` (through `flows/common/prefect_server.py`, which keeps
its SQLite database from answering "busy"; database and logs in `server_home`, `.prefect/`
by default), a static file server for the reports folder (`flows/common/reports_server.py`, on
`reports_port`) and a warm runner beside it (`flows/common/runner.py`: a process that has Prefect and
the project's libraries imported and forks a child for each command), each in a session of its
own, so that `airnub server stop` ends them and everything they started. The state file in
`server_home` says what runs where. Nothing here imports Prefect: `airnub server status` answers
at once.

Which server a command uses (`resolve`): `PREFECT_API_URL` when it is set (a team server);
else the project's server, started on first use when `server_autostart` is on (the default);
else, with `server_autostart = false`, Prefect's temporary server inside the command.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from airnub_prefect_starter.engine.settings import SETTINGS_FILE, find_project_root, load_settings, read_settings
from airnub_prefect_starter.engine.storage import write_json
from flows.common.reports_server import link_host, reports_port, start_reports_server

STATE_FILE = "airnub-server.json"
START_TIMEOUT_SECONDS = 180  # a busy 2-core machine has taken 40 s to start a Prefect server
STOP_TIMEOUT_SECONDS = 15


class ServerError(RuntimeError):
    """The project's server cannot be started, reached or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class ServerConfig:
    """Where the project's server listens and keeps its database, logs and state."""

    root: Path  # the project folder
    home: Path  # PREFECT_HOME of the server: prefect.db, logs, state file
    host: str
    port: int
    autostart: bool  # start the server when a command needs one and none is running
    reports_port: int = 4201  # where the reports folder is served over HTTP; 0: not served

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def state_file(self) -> Path:
        return self.home / STATE_FILE

    @property
    def socket_path(self) -> Path:
        """The runner's Unix socket; under /tmp when the home's path is too long for one (108 bytes)."""
        path = self.home / "runner.sock"
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        return path if len(str(path)) < 100 else Path(tempfile.gettempdir()) / f"airnub-runner-{digest}.sock"


def server_config(root: Path | None = None) -> ServerConfig:
    """The `[server]` settings of settings.ini, with their AIRNUB_* overrides."""
    root = root or find_project_root()
    values = read_settings(root / SETTINGS_FILE)
    port = values.get("server_port", "4200")
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ServerError(f"{root / SETTINGS_FILE}: 'server_port' must be a port number, got {port!r} "
                          "(or set AIRNUB_SERVER_PORT)")
    autostart = values.get("server_autostart", "true").lower()
    if autostart not in ("true", "false"):
        raise ServerError(f"{root / SETTINGS_FILE}: 'server_autostart' must be true or false, got {autostart!r}")
    try:
        served = reports_port(values, root / SETTINGS_FILE)
    except ValueError as error:
        raise ServerError(str(error)) from None
    return ServerConfig(root=root, home=root / Path(values.get("server_home", ".prefect")).expanduser(),
                        host=values.get("server_host", "127.0.0.1"), port=int(port), autostart=autostart == "true",
                        reports_port=served)


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """True when a Prefect API answers at `api_url`."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def read_state(config: ServerConfig) -> dict | None:
    """The state file's record, or None when there is none (or it cannot be read)."""
    try:
        state = json.loads(config.state_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return state if isinstance(state, dict) else None


def running(config: ServerConfig) -> dict | None:
    """The record of the project's server when its API answers and its runner lives; else None."""
    state = read_state(config)
    if state and _alive(state.get("runner_pid")) and healthy(state["api_url"]):
        return state
    return None


def _spawn(command: list[str], env: dict, log: Path, cwd: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as output:
        return subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _tail(log: Path, lines: int = 5) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def _wait(ready: Callable[[], bool], processes: dict[str, subprocess.Popen], logs: dict[str, Path]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready():
        for name, process in processes.items():
            if process.poll() is not None:
                raise ServerError(f"the {name} exited with code {process.returncode} while starting: "
                                  f"{_tail(logs[name])} (log: {logs[name]})")
        if time.monotonic() > deadline:
            raise ServerError(f"not ready after {START_TIMEOUT_SECONDS} s; see {', '.join(map(str, logs.values()))}")
        time.sleep(0.2)


def _runner_ready(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        return probe.connect_ex(str(path)) == 0


def client_environment(env: dict | None = None) -> dict:
    """`env` (os.environ) with the settings every airnub process gives Prefect unless the user set them."""
    env = dict(os.environ if env is None else env)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry on a closed network
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    env.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "papermill")
    # one retry per API call, not Prefect's 5 (2 + 4 + ... + 32 s): a server that stopped answering ends the
    # command in seconds (flows/common/faults.py), not minutes; the project's server does not answer "busy"
    env.setdefault("PREFECT_CLIENT_MAX_RETRIES", "1")
    return env


def _serve_reports(config: ServerConfig, state: dict, env: dict, say: Callable[[str], None]) -> None:
    """Start the reports' file server beside a running server; record it in `state` and the state file."""
    for key in ("reports_pid", "reports_url", "reports_dir"):
        state.pop(key, None)
    state.update(start_reports_server(config.host, config.reports_port, load_settings(config.root).paths.reports,
                                      config.home / "reports-server.log", env, say))
    write_json(state, config.state_file)


def start(config: ServerConfig, say: Callable[[str], None] = print) -> dict:
    """Start the server (unless one answers already) and the runner; write the state file; return it."""
    if state := running(config):
        say(f"airnub: the project's Prefect server is already running at {state['api_url']}")
        if config.reports_port and not _alive(state.get("reports_pid")):  # started before, or its file server died
            _serve_reports(config, state, client_environment(), say)
        return state
    stop(config, say=lambda _: None)  # what is left of a server that died: its runner, socket, state
    config.home.mkdir(parents=True, exist_ok=True)
    env = client_environment({**os.environ, "PREFECT_HOME": str(config.home)})
    env.pop("PREFECT_API_URL", None)
    # the UI's pages call the API at this address (Prefect's default names port 4200, whatever --port says)
    env.setdefault("PREFECT_UI_API_URL", f"http://{link_host(config.host)}:{config.port}/api")
    processes, logs = {}, {"server": config.home / "server.log", "runner": config.home / "runner.log"}
    external = healthy(config.api_url)
    if not external:
        if _port_taken(config.host, config.port):
            raise ServerError(f"{config.host}:{config.port} is in use by something that is not a Prefect server; "
                              f"set server_port in {SETTINGS_FILE} (or AIRNUB_SERVER_PORT)")
        processes["server"] = _spawn([sys.executable, "-m", "flows.common.prefect_server", "--host", config.host,
                                      "--port", str(config.port)], env, logs["server"], config.root)
    config.socket_path.unlink(missing_ok=True)
    processes["runner"] = _spawn([sys.executable, "-m", "flows.common.runner", str(config.socket_path)],
                                 {**env, "PREFECT_API_URL": config.api_url}, logs["runner"], config.root)
    state = {"api_url": config.api_url, "ui_url": config.api_url.removesuffix("/api"),
             "server_pid": processes["server"].pid if "server" in processes else None,
             "runner_pid": processes["runner"].pid, "socket": str(config.socket_path), "home": str(config.home),
             "started_at": time.time()}
    write_json(state, config.state_file)  # before waiting: a `stop` during the start finds both processes
    try:
        _wait(lambda: healthy(config.api_url) and _runner_ready(config.socket_path), processes, logs)
    except BaseException:
        stop(config, say=lambda _: None)
        raise
    if config.reports_port:
        _serve_reports(config, state, env, say)
    where = "an existing Prefect server" if external else "the project's Prefect server"
    say(f"airnub: started {where} at {state['ui_url']} (data in {config.home}); "
        "it keeps running for the next commands; `airnub server stop` stops it")
    return state


def _terminate(pid: int | None) -> None:
    """SIGTERM the process group led by `pid`, then SIGKILL what is left after a bounded wait."""
    if not pid:
        return
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_SECONDS), (signal.SIGKILL, 5)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            if not _alive(pid):  # the leader is gone; give its group a moment, then move on
                time.sleep(0.1)
            time.sleep(0.1)


def stop(config: ServerConfig, say: Callable[[str], None] = print) -> bool:
    """Stop the runner and the server this project started; True when there was something to stop."""
    state = read_state(config)
    if state is None:
        say("airnub: the project's Prefect server is not running")
        return False
    _terminate(state.get("runner_pid"))
    _terminate(state.get("server_pid"))
    _terminate(state.get("reports_pid"))
    Path(state.get("socket") or config.socket_path).unlink(missing_ok=True)
    config.state_file.unlink(missing_ok=True)
    say(f"airnub: stopped the project's Prefect server at {state['api_url']}"
        if state.get("server_pid") else f"airnub: stopped the runner for {state['api_url']}")
    return True


def status(config: ServerConfig) -> str:
    """One line: is the project's server running, where, and how to stop or start it."""
    if state := running(config):
        return (f"running at {state['ui_url']} (server pid {state['server_pid'] or 'external'}, runner pid "
                f"{state['runner_pid']}, data in {state['home']}"
                f"{', reports at ' + state['reports_url'] if state.get('reports_url') else ''}); "
                "`airnub server stop` stops it")
    if read_state(config):
        return f"not answering (a stale state in {config.state_file}); `airnub server stop` cleans it up"
    return f"not running; `airnub server start` starts it at http://{config.host}:{config.port}"


@dataclass(frozen=True)
class Target:
    """The Prefect API a command talks to, and the runner's socket when a warm runner serves it."""

    api_url: str | None  # None: Prefect's temporary server inside the command
    socket: Path | None


def resolve(config: ServerConfig, say: Callable[[str], None] = print) -> Target:
    """The server a command that runs flows uses (see the module docstring)."""
    state = running(config)
    if url := os.environ.get("PREFECT_API_URL"):
        same = state is not None and state["api_url"].rstrip("/") == url.rstrip("/")
        return Target(url, Path(state["socket"]) if same else None)
    if state is None and config.autostart:
        state = start(config, say)
    if state is None:
        return Target(None, None)
    return Target(state["api_url"], Path(state["socket"]))
