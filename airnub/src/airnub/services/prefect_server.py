"""The project's own Prefect server: started in the background, reused by every command, stopped on request.

`airnub server start` runs `prefect server start` (through `prefect_server_process.py`, which keeps
its SQLite database from answering "busy"; database and logs in `server_home`, `.prefect/`
by default), a static file server for the reports folder (`airnub/src/airnub/services/reports_http.py`, on
`reports_port`) and a warm runner beside it (`airnub/src/airnub/services/warm_runner.py`: a process that has Prefect and
the project's libraries imported and forks a child for each command), each in a session of its
own, so that `airnub server stop` ends them and everything they started. The state file in
`server_home` says what runs where, and which processes the project started (`server_identity.py`):
a server is used only when it is provably the project's own (its processes alive with the recorded start
time and command line, its API accepting the project's credential and refusing a request without it).
When the configured port is taken by anything else, the project's server starts on a free port of its
own, recorded in the state. Nothing here imports Prefect: `airnub server status` answers at once.

Which server a command uses (`resolve`): `PREFECT_API_URL` when it is set (a team server, with the user's
own PREFECT_API_AUTH_STRING; the project's credential only when it names the project's running server);
else the project's server, started on first use when `server_autostart` is on (the default);
else, with `server_autostart = false`, Prefect's temporary server inside the command.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from airnub.engine.settings import load_settings
from airnub.engine.storage import write_json
from airnub.services.processes import spare
from airnub.services.reports_http import link_host, start_reports_server
from airnub.services.server_identity import (
    ServerError,
    authenticated,
    credential,
    healthy,
    identity,
    ours,
    port_holder,
    private_home,
    remove_socket,
    runner_socket,
    terminate,
)

STATE_FILE = "airnub-server.json"
START_TIMEOUT_SECONDS = 180  # a busy 2-core machine has taken 40 s to start a Prefect server


@dataclass(frozen=True)
class ServerConfig:
    """Where the project's server listens and keeps its database, logs and state."""

    root: Path  # the project folder
    home: Path  # PREFECT_HOME of the server: prefect.db, logs, state file
    host: str
    port: int
    autostart: bool  # start the server when a command needs one and none is running
    reports_port: int  # where the reports folder is served over HTTP; 0: not served

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def state_file(self) -> Path:
        return self.home / STATE_FILE


def api_credential(config: ServerConfig) -> str:
    """The project's credential ("airnub:<random>", `<server_home>/api-auth`, 0600): made on first use."""
    return credential(config.home)


def server_config(root: Path | None = None) -> ServerConfig:
    """The `[server]` section of the project's settings (engine/settings.py: its defaults, rules and overrides)."""
    try:  # the kernel is not the server's business: `airnub server` answers before `make setup` registers it
        settings = load_settings(root, check_kernel=False)
    except (ValueError, KeyError, FileNotFoundError) as error:  # their messages name file, key and what was expected
        raise ServerError(error.args[0]) from None
    server = settings.server
    return ServerConfig(root=settings.paths.root, home=server.home, host=server.host, port=server.port,
                        autostart=server.autostart, reports_port=server.reports_port)


def read_state(config: ServerConfig) -> dict | None:
    """The state file's record, or None when there is none; a corrupt one is said in one line and removed."""
    if not os.path.lexists(config.state_file):
        return None
    private_home(config.home)
    try:
        descriptor = os.open(config.state_file, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor, encoding="utf-8") as file:
            state = json.loads(file.read())
    except (OSError, ValueError) as error:
        state = error
    if not isinstance(state, dict) or not isinstance(state.get("api_url"), str):
        print(f"airnub: {config.state_file} is not a state file this project wrote ({str(state)[:80]}); "
              "removed, a new one is written when the server starts", file=sys.stderr)
        config.state_file.unlink(missing_ok=True)
        return None
    return state


def running(config: ServerConfig) -> dict | None:
    """The record of the project's server when it is provably the project's own and its runner lives; else None."""
    state = read_state(config)
    processes = state.get("processes") if state else None
    if not isinstance(processes, dict) or not (ours(processes.get("server")) and ours(processes.get("runner"))):
        return None
    return state if authenticated(state["api_url"], api_credential(config)) else None


def _spawn(command: list[str], env: dict, log: Path, cwd: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    spare(process.pid)  # it outlives the command that started it (processes.sweep_at_exit)
    return process


def _tail(log: Path, lines: int = 5) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host if host not in ("", "0.0.0.0", "::") else "127.0.0.1", port)) == 0


def _server_port(config: ServerConfig, say: Callable[[str], None]) -> int:
    """The configured port, or when anything answers there a free port of the project's own (said in one line)."""
    if not _port_taken(config.host, config.port):
        return config.port
    with socket.socket() as probe:
        probe.bind((config.host, 0))
        port = probe.getsockname()[1]
    say(f"airnub: {config.host}:{config.port} is taken by {port_holder(config.port)}; "
        f"the project's server uses {config.host}:{port}")
    return port


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
    # command in seconds (airnub.commands.faults), not minutes; the project's server does not answer "busy"
    env.setdefault("PREFECT_CLIENT_MAX_RETRIES", "1")
    return env


def _serve_reports(config: ServerConfig, state: dict, env: dict, say: Callable[[str], None]) -> None:
    """Start the reports' file server beside a running server; record it in `state` and the state file."""
    for key in ("reports_pid", "reports_url", "reports_dir"):
        state.pop(key, None)
    state.update(start_reports_server(config.host, config.reports_port, load_settings(config.root).paths.reports,
                                      config.home, env, say))
    spare(state.get("reports_pid"))  # it outlives the command that started it
    state["processes"]["reports"] = identity(state.get("reports_pid"))
    write_json(state, config.state_file)


def start(config: ServerConfig, say: Callable[[str], None] = print) -> dict:
    """Start the server (unless the project's own runs already) and the runner; write the state file; return it."""
    if state := running(config):
        say(f"airnub: the project's Prefect server is already running at {state['api_url']}")
        if config.reports_port and not ours(state["processes"].get("reports")):  # none yet, or its file server died
            _serve_reports(config, state, _server_environment(config, state["api_url"]), say)
        return state
    stop(config, say=lambda _: None)  # what is left of a server that died: its own processes and socket, the state
    private_home(config.home)
    port = _server_port(config, say)
    api_url = f"http://{config.host}:{port}/api"
    env = _server_environment(config, api_url)
    processes, logs = {}, {"server": config.home / "server.log", "runner": config.home / "runner.log"}
    processes["server"] = _spawn([sys.executable, "-m", "airnub.services.prefect_server_process", "--host", config.host,
                                  "--port", str(port)], env, logs["server"], config.root)
    socket_path = runner_socket(config.home, None)
    processes["runner"] = _spawn([sys.executable, "-m", "airnub.services.warm_runner", str(socket_path)],
                                 {**env, "PREFECT_API_URL": api_url}, logs["runner"], config.root)
    state = {"api_url": api_url, "ui_url": api_url.removesuffix("/api"), "port": port,
             "server_pid": processes["server"].pid, "runner_pid": processes["runner"].pid,
             "processes": {name: identity(process.pid) for name, process in processes.items()},
             "socket": str(socket_path), "home": str(config.home), "started_at": time.time()}
    if socket_path.parent != config.home:
        state["socket_dir"] = str(socket_path.parent)
    write_json(state, config.state_file)  # before waiting: a `stop` during the start finds both processes
    try:
        _wait(lambda: healthy(api_url) and _runner_ready(socket_path), processes, logs)
    except BaseException:
        stop(config, say=lambda _: None)
        raise
    if config.reports_port:
        _serve_reports(config, state, env, say)
    say(f"airnub: started the project's Prefect server at {state['ui_url']} (data in {config.home}); "
        "it keeps running for the next commands; `airnub server stop` stops it")
    return state


def _server_environment(config: ServerConfig, api_url: str) -> dict:
    """The environment of the processes the project starts: its home, its credential on both sides of the API."""
    env = client_environment({**os.environ, "PREFECT_HOME": str(config.home)})
    env.pop("PREFECT_API_URL", None)
    auth = api_credential(config)
    env.update(PREFECT_SERVER_API_AUTH_STRING=auth, PREFECT_API_AUTH_STRING=auth)
    # the UI's pages call the API at this address (Prefect's default names port 4200, whatever --port says)
    env.setdefault("PREFECT_UI_API_URL", api_url.replace(f"//{config.host}:", f"//{link_host(config.host)}:", 1))
    return env


def stop(config: ServerConfig, say: Callable[[str], None] = print) -> bool:
    """Stop the runner and the server this project started; True when there was something to stop."""
    state = read_state(config)
    if state is None:
        say("airnub: the project's Prefect server is not running")
        return False
    processes = state.get("processes") if isinstance(state.get("processes"), dict) else {}
    for name in ("runner", "server", "reports"):
        if not ours(processes.get(name)) and identity(state.get(f"{name}_pid")):
            say(f"airnub: left pid {state[f'{name}_pid']} alone: it is not the {name} this project started")
        terminate(processes.get(name))
    remove_socket(state, config.home)
    config.state_file.unlink(missing_ok=True)
    say(f"airnub: stopped the project's Prefect server at {state['api_url']}")
    return True


def status(config: ServerConfig) -> str:
    """One line: is the project's server running, where, and how to stop or start it."""
    if state := running(config):
        moved = f"; {config.host}:{config.port} was taken" if state.get("port", config.port) != config.port else ""
        return (f"running at {state['ui_url']} (port {state.get('port')}{moved}; server pid {state['server_pid']}, "
                f"runner pid {state['runner_pid']}, data in {state['home']}"
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
    auth: str | None = None  # the project's credential, for the project's own server only


def resolve(config: ServerConfig, say: Callable[[str], None] = print) -> Target:
    """The server a command that runs flows uses (see the module docstring)."""
    state = running(config)
    if url := os.environ.get("PREFECT_API_URL"):
        if state is not None and state["api_url"].rstrip("/") == url.rstrip("/"):
            return Target(url, Path(state["socket"]), api_credential(config))
        return Target(url, None)  # the user's own choice, with the user's own PREFECT_API_AUTH_STRING
    if state is None and config.autostart:
        state = start(config, say)
    if state is None:
        return Target(None, None)
    return Target(state["api_url"], Path(state["socket"]), api_credential(config))
