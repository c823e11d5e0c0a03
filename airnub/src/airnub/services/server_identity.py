"""What makes the project's server provably its own: a private state folder, a credential, the processes it started.

On a machine others share, nothing found on a port or in a pid is trusted. The state folder
(`server_home`, `.prefect/` by default) is the user's own with mode 0700: an existing folder that is a
symlink, another user's or writable by others is refused. In it, `api-auth` (0600) holds the credential
the project's server demands (`PREFECT_SERVER_API_AUTH_STRING`) and every client of it sends
(`PREFECT_API_AUTH_STRING`). The state file records each process the project started by its pid, start
time (`/proc/PID/stat` field 22) and command line: a pid reused by another program (after a reboot) or
named in a tampered file is never signalled. Nothing here imports Prefect.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import stat
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CREDENTIAL_FILE = "api-auth"
STOP_TIMEOUT_SECONDS = 15
CREDENTIAL_USER = "airnub"  # Prefect's basic auth string is "user:password"
# The modules `python -m ...` of the processes the project starts (the reports server: one or the other).
OUR_MODULES = ("airnub.services.prefect_server_process", "airnub.services.warm_runner", "airnub.services.reports_http")


class ServerError(RuntimeError):
    """The project's server cannot be started, reached or stopped; the message says why and what to do."""


def _refusal(path: Path, info: os.stat_result) -> str | None:
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a folder"
    if info.st_uid != os.geteuid():
        return f"belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"is writable by other users (mode {stat.S_IMODE(info.st_mode):o})"
    return None


def private_home(home: Path) -> Path:
    """`home`, made 0700 when missing (and an own folder closed to others); refused when it is not safely ours."""
    try:
        home.parent.mkdir(parents=True, exist_ok=True)
        home.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as error:
        raise ServerError(f"cannot make the server's state folder {home}: {error.strerror}") from None
    if reason := _refusal(home, os.lstat(home)):
        raise ServerError(f"the server's state folder {home} {reason}: refused, as another user could change what "
                          "the project runs; remove it or set server_home in settings.ini (or AIRNUB_SERVER_HOME)")
    os.chmod(home, 0o700)  # the database and logs inside are the user's alone
    return home


def credential(home: Path) -> str:
    """The credential in `home/api-auth` ("airnub:<random>"), made 0600 and whole at once when missing."""
    path = private_home(home) / CREDENTIAL_FILE
    if not os.path.lexists(path):
        descriptor, draft = tempfile.mkstemp(dir=home, prefix=".api-auth-")  # 0600, new
        with os.fdopen(descriptor, "w") as out:
            out.write(f"{CREDENTIAL_USER}:{secrets.token_urlsafe(32)}\n")
        try:
            os.link(draft, path)  # atomic, and never over a file that appeared meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise ServerError(f"{path} is not a file of yours readable by you alone: remove it, and the next "
                          "`airnub server start` makes a new credential")
    text = path.read_text(encoding="utf-8").strip()
    if not text.startswith(f"{CREDENTIAL_USER}:") or len(text) < 20:
        raise ServerError(f"{path} does not hold a credential: remove it, and `airnub server start` makes a new one")
    return text


def identity(pid: int | None) -> dict | None:
    """`{"pid", "start_time", "cmdline"}` of a live process of this user, or None."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    try:
        if os.stat(f"/proc/{pid}").st_uid != os.geteuid():
            return None
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":  # exited, not yet reaped
        return None
    return {"pid": pid, "start_time": int(fields[19]), "cmdline": [part.decode(errors="replace") for part in cmdline
                                                                   if part]}


def ours(record: object) -> bool:
    """True when `record` (a state file's entry) names a live process the project started: same pid, start time,
    command line, and that command line one of the project's own."""
    if not isinstance(record, dict):
        return False
    live = identity(record.get("pid"))
    if live is None or live != {key: record.get(key) for key in ("pid", "start_time", "cmdline")}:
        return False
    command = live["cmdline"]
    return "-m" in command[:-1] and command[command.index("-m") + 1] in OUR_MODULES


def _socket_folder(state: dict | None) -> Path | None:
    """The state's private socket folder when it is still one: `tempfile.mkdtemp()`'s, the user's own, 0700."""
    folder = (state or {}).get("socket_dir")
    if not isinstance(folder, str) or Path(folder).parent != Path(tempfile.gettempdir()) \
            or not Path(folder).name.startswith("airnub-runner-"):
        return None
    try:
        info = os.lstat(folder)
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700
    return Path(folder) if private else None


def runner_socket(home: Path, state: dict | None) -> Path:
    """The runner's Unix socket: in `home`, or when that path is too long for a socket (108 bytes), in a private
    folder of `tempfile.mkdtemp()` (the state's, while it is still private)."""
    path = home / "runner.sock"
    if len(str(path)) < 100:
        return path
    return (_socket_folder(state) or Path(tempfile.mkdtemp(prefix="airnub-runner-"))) / "runner.sock"


def remove_socket(state: dict, home: Path) -> None:
    """Remove the runner's socket (and its private folder) when the state names one of the project's own; nothing
    else: a `socket` naming any other file is left alone."""
    named = state.get("socket")
    folder = _socket_folder(state)
    for allowed in (home / "runner.sock", *([folder / "runner.sock"] if folder else [])):
        if isinstance(named, str) and Path(named) == allowed:
            allowed.unlink(missing_ok=True)
    if folder:
        with contextlib.suppress(OSError):
            folder.rmdir()


def port_holder(port: int) -> str:
    """Who listens on TCP `port` here: "pid N (command)" when this user may see it, else "another program"."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: listening
                    inodes.add(f"socket:[{fields[9]}]")
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in (process / "fd").iterdir()):
                command = (process / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                command = " ".join(command.split())
                return f"pid {process.name} ({command[:60]})"
    return "another program"


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """True when a Prefect API answers at `api_url`."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _status_code(url: str, auth: str | None, timeout: float = 2.0) -> int | None:
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError, ValueError):
        return None


def authenticated(api_url: str, auth: str, timeout: float = 10.0) -> bool:
    """True when the API at `api_url` accepts `auth` and refuses a request without it (401). Patient: the processes
    are already known to be ours, and a server busy with a run may take seconds to answer."""
    probe = f"{api_url.rstrip('/')}/admin/version"
    return _status_code(probe, auth, timeout) == 200 and _status_code(probe, None, timeout) == 401


def terminate(record: object) -> None:
    """SIGTERM the process group of a process the project started, then SIGKILL what is left after a bounded wait;
    anything else (a pid reused by another program, a tampered state) is left alone."""
    if not ours(record):
        return
    pid = record["pid"]
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_SECONDS), (signal.SIGKILL, 5)):
        try:
            os.killpg(pid, sig) if os.getpgid(pid) == pid else os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            if identity(pid) is None:  # the leader is gone; give its group a moment, then move on
                time.sleep(0.1)
            time.sleep(0.1)
