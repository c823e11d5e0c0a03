"""The reports folder over HTTP beside the project's Prefect server, so that a report opens in one click from the UI.

Browsers refuse `file://` links on an `http://` page (the Prefect UI). `airnub server start` therefore
also serves `reports_dir`, read-only, on `server_host:reports_port` (settings.ini; 4201 by default, 0
turns it off) with Python's `http.server`, in a session of its own; the state file records it and
`airnub server stop` stops it. `report_url` gives a report's address while that server answers, else
None (the artifact then shows the file's path as text). Nothing here imports Prefect.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from airnub_prefect_starter.engine.settings import SETTINGS_FILE

DEFAULT_PORT = 4201
START_TIMEOUT_SECONDS = 30


def reports_port(values: dict[str, str], settings_file: Path) -> int:
    """`reports_port` of settings.ini (or AIRNUB_REPORTS_PORT): a port number, or 0 for no reports server."""
    port = values.get("reports_port", str(DEFAULT_PORT))
    if not (port.isascii() and port.isdigit() and int(port) < 65536):
        raise ValueError(f"{settings_file}: 'reports_port' must be a port number (0: do not serve reports), "
                         f"got {port[:20]!r} (or set AIRNUB_REPORTS_PORT)")
    return int(port)


def link_host(host: str) -> str:
    """The host name a link should carry: this machine's name when the server listens on every interface."""
    host = socket.getfqdn() if host in ("", "0.0.0.0", "::") else host
    return f"[{host}]" if ":" in host else host


def answers(url: str, timeout: float = 1.0) -> bool:
    """True when an HTTP server answers at `url`."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start_reports_server(host: str, port: int, reports_dir: Path, log: Path, env: dict,
                         say: Callable[[str], None] = print) -> dict:
    """Serve `reports_dir` on `host:port`; the state file's entries for it (none when it cannot start)."""
    with socket.socket() as probe:
        probe.settimeout(1)
        taken = probe.connect_ex((host if host not in ("", "0.0.0.0", "::") else "127.0.0.1", port)) == 0
    if taken:
        say(f"airnub: reports are not served over HTTP: {host}:{port} is in use; set reports_port in {SETTINGS_FILE} "
            "(or AIRNUB_REPORTS_PORT) and run `airnub server stop` and `airnub server start`")
        return {}
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        say(f"airnub: reports are not served over HTTP: {reports_dir}: {error.strerror}")
        return {}
    with open(log, "ab") as output:
        process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", host, "--directory",
                                    str(reports_dir)], env=env, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    local = f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else link_host(host)}:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not answers(local):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            say(f"airnub: reports are not served over HTTP: the file server did not start (log: {log})")
            return {}
        time.sleep(0.1)
    return {"reports_pid": process.pid, "reports_url": f"http://{link_host(host)}:{port}",
            "reports_dir": str(reports_dir.resolve())}


def report_url(path: Path, state: dict | None) -> str | None:
    """The address of `path` (inside the served reports folder) while the reports server answers; else None."""
    if not state or not state.get("reports_url"):
        return None
    try:
        relative = Path(path).resolve().relative_to(state["reports_dir"])
    except ValueError:
        return None
    if not answers(state["reports_url"] + "/"):
        return None
    return f"{state['reports_url']}/{quote(relative.as_posix())}"
