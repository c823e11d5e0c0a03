"""The reports folder over HTTP beside the project's Prefect server, so that a report opens in one click from the UI.

Browsers refuse `file://` links on an `http://` page (the Prefect UI). `airnub server start` therefore
also serves `reports_dir`, read-only, on `server_host:reports_port` (settings.ini, or `DEFAULTS` of engine/settings.py
when it is left out; 0 turns it off; a port in use by another program gives way to a free one, said in one line), with
this module run as a process in a session of its own; the state file records it and `airnub server stop`
stops it. `report_url` gives a report's address while that server answers, else None (the artifact then
shows the file's path as text). Workers on other machines link below `reports_url` instead (`under_address`): the
address the team serves the storage root's reports at, e.g. this server started on the storage's machine.
Nothing here imports Prefect.

Who can read a report (issue 19): only a client whose link holds the project's token,
`http://host:port/<token>/<path under reports_dir>`. The token is kept in `<server_home>/reports-token`
(0600, made once per project); any other path answers 404, whether the file exists or not. Only regular
files inside `reports_dir` are served: every component of the path is opened without following a
symlink (`O_NOFOLLOW`, walking from the folder's descriptor), so a link inside `reports/` to a file
outside it is never read; no folder is listed. `answers` checks that a server is this project's without
sending it the token: it sends a random challenge, the server proves it holds the token (an HMAC of it).
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import hmac
import mimetypes
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

from airnub.engine.settings import SETTINGS_FILE

START_TIMEOUT_SECONDS = 30
TOKEN_FILE = "reports-token"
CHALLENGE, PROOF = "X-Airnub-Challenge", "X-Airnub-Proof"  # headers of `answers`' identity check
WILDCARDS = ("", "0.0.0.0", "::")


def link_host(host: str) -> str:
    """The host name a link should carry: this machine's name when the server listens on every interface."""
    host = socket.getfqdn() if host in WILDCARDS else host
    return f"[{host}]" if ":" in host else host


def reports_token(home: Path) -> str:
    """The project's reports token, from `home/reports-token` (made once, 0600); ValueError when it is not ours."""
    path = home / TOKEN_FILE
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, draft = _private_draft(home)
        try:  # a link appears whole or not at all; another process that made it first wins
            os.link(draft, path)
        except FileExistsError:
            os.close(descriptor)
            return reports_token(home)
        finally:
            os.unlink(draft)
    except OSError as error:
        raise ValueError(f"{path}: {error.strerror}; remove it and run `airnub server start` again") from None
    with os.fdopen(descriptor, encoding="ascii", errors="replace") as file:
        status, token = os.fstat(file.fileno()), file.read().strip()
    if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid() or status.st_mode & 0o077:
        raise ValueError(f"{path}: not a private file of yours (mode {stat.filemode(status.st_mode)}, owner uid "
                         f"{status.st_uid}); remove it and run `airnub server start` again")
    if len(token) < 32 or not token.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"{path}: not a reports token; remove it and run `airnub server start` again")
    return token


def _private_draft(home: Path) -> tuple[int, str]:
    """A new token in a new 0600 file beside its final place: (a descriptor reading it from the start, its path)."""
    descriptor, draft = tempfile.mkstemp(dir=home, prefix=f".{TOKEN_FILE}-")
    os.write(descriptor, secrets.token_urlsafe(32).encode() + b"\n")
    os.lseek(descriptor, 0, os.SEEK_SET)
    return descriptor, draft


def _proof(token: str, challenge: str) -> str:
    return hmac.new(token.encode(), challenge.encode(), hashlib.sha256).hexdigest()


def answers(url: str, timeout: float = 1.0) -> bool:
    """True when the reports server of the token URL `url` answers and proves it holds the token (not sent to it)."""
    base, _, token = url.rstrip("/").rpartition("/")
    challenge = secrets.token_urlsafe(16)
    request = urllib.request.Request(f"{base}/", method="HEAD", headers={CHALLENGE: challenge})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            headers = response.headers
    except urllib.error.HTTPError as error:
        headers = error.headers
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return hmac.compare_digest(headers.get(PROOF, ""), _proof(token, challenge))


class ReportsHandler(BaseHTTPRequestHandler):
    """GET and HEAD of regular files under the server's folder, for paths that start with its token; else 404."""

    server_version, sys_version = "airnub-reports", ""
    timeout = 30  # seconds a client may take to send its request: a slow one holds only its own thread

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        token, folder = self.server.token, self.server.reports_dir
        segments = self.path.split("?", 1)[0].split("#", 1)[0].split("/")
        if segments[0] != "" or len(segments) < 2 or not hmac.compare_digest(segments[1].encode(), token.encode()):
            return self._answer(404, b"not found\n", body, proof=self.headers.get(CHALLENGE, "")[:64])
        if segments[2:] in ([], [""]):  # the token's root: alive, and nothing to list
            return self._answer(200, b"airnub reports: open a report from its link\n", body)
        try:
            names = [unquote(segment, errors="strict") for segment in segments[2:]]
        except UnicodeDecodeError:
            names = [""]
        descriptor = open_inside(folder, names)
        if descriptor is None:
            return self._answer(404, b"not found\n", body)
        with os.fdopen(descriptor, "rb") as file:
            self.send_response(200)
            self.send_header("Content-Type", mimetypes.guess_type(names[-1])[0] or "application/octet-stream")
            self.send_header("Content-Length", str(os.fstat(file.fileno()).st_size))
            self._private_headers()
            if body:
                shutil.copyfileobj(file, self.wfile)

    def _answer(self, code: int, text: bytes, body: bool, proof: str = "") -> None:
        self.send_response(code)
        if proof:
            self.send_header(PROOF, _proof(self.server.token, proof))
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self._private_headers()
        if body:
            self.wfile.write(text)

    def _private_headers(self) -> None:
        """The token is in the address: no page may pass it on (Referer) or keep it in a shared cache."""
        for name, value in (("Referrer-Policy", "no-referrer"), ("Cache-Control", "private, no-store"),
                            ("X-Content-Type-Options", "nosniff")):
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
        line = f"{self.address_string()} [{self.log_date_time_string()}] {format % args}"
        sys.stderr.write(line.replace(self.server.token, "<token>") + "\n")


def open_inside(folder: Path, names: list[str]) -> int | None:
    """A read descriptor of the regular file `folder/names...`, reached without following a symlink; else None."""
    if any(name in ("", ".", "..") or "/" in name or "\0" in name for name in names):
        return None
    try:
        current = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        for name in names[:-1]:
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=current)
            os.close(current)
            current = inner
        # O_NONBLOCK: a FIFO must not hang the request; it is refused below as not a regular file
        found = os.open(names[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=current)
    except OSError:
        return None
    finally:
        os.close(current)
    if not stat.S_ISREG(os.fstat(found).st_mode):
        os.close(found)
        return None
    os.set_blocking(found, True)
    return found


def _listen(host: str, port: int, say: Callable[[str], None]) -> socket.socket | None:
    """A socket listening on `host:port`, or on a free port of `host` when another program holds that one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            say(f"airnub: reports are not served over HTTP: {host}:{port}: {error.strerror}")
            return None
    listener = socket.create_server((host, 0), family=family)
    say(f"airnub: {host}:{port} is in use by another program; reports are served on port "
        f"{listener.getsockname()[1]} instead (set reports_port in {SETTINGS_FILE} or AIRNUB_REPORTS_PORT to choose)")
    return listener


def start_reports_server(host: str, port: int, reports_dir: Path, home: Path, env: dict,
                         say: Callable[[str], None] = print) -> dict:
    """Serve `reports_dir` on `host:port` to holders of the token kept in `home`; the state file's entries for it
    (none when it cannot start). Its log is `home/reports-server.log`."""
    try:
        token = reports_token(home)
        reports_dir.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as error:
        say(f"airnub: reports are not served over HTTP: {getattr(error, 'strerror', None) or error}")
        return {}
    listener = _listen(host, port, say)
    if listener is None:
        return {}
    log = home / "reports-server.log"
    output = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with listener, os.fdopen(output, "ab") as output:
        process = subprocess.Popen([sys.executable, "-P", "-m", "airnub.services.reports_http", "--listener",
                                    str(listener.fileno()), "--home", str(home), str(reports_dir.resolve())],
                                   env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                   pass_fds=(listener.fileno(),), start_new_session=True)
        bound = listener.getsockname()[1]
    url = f"http://{link_host(host)}:{bound}/{token}"
    local = f"http://{'127.0.0.1' if host in WILDCARDS else link_host(host)}:{bound}/{token}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not answers(local):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            say(f"airnub: reports are not served over HTTP: the file server did not start (log: {log})")
            return {}
        time.sleep(0.1)
    return {"reports_pid": process.pid, "reports_url": url, "reports_dir": str(reports_dir.resolve())}


def under_address(path: Path, folder: Path, address: str) -> str | None:
    """The address of `path` when `folder` is served at `address`; None when `path` lies outside `folder`."""
    try:
        relative = Path(path).resolve().relative_to(Path(folder).resolve())
    except ValueError:
        return None
    return f"{address.rstrip('/')}/{quote(relative.as_posix())}"


def report_url(path: Path, state: dict | None) -> str | None:
    """The address of `path` (inside the served reports folder) while the reports server answers; else None."""
    if not state or not state.get("reports_url"):
        return None
    address = under_address(path, Path(state["reports_dir"]), state["reports_url"])
    return address if address and answers(state["reports_url"]) else None  # asks the server only for its own files


def main(argv: list[str] | None = None) -> None:
    """Serve a reports folder on a listening socket handed over by `start_reports_server` (`--listener FD`)."""
    parser = argparse.ArgumentParser(prog="python -m airnub.services.reports_http", description=main.__doc__)
    parser.add_argument("--listener", type=int, required=True, help="descriptor of a listening TCP socket")
    parser.add_argument("--home", type=Path, required=True, help="the server's state folder (holds reports-token)")
    parser.add_argument("reports_dir", type=Path)
    arguments = parser.parse_args(argv)
    server = ThreadingHTTPServer(("", 0), ReportsHandler, bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=arguments.listener)
    server.daemon_threads, server.reports_dir = True, arguments.reports_dir
    server.token = reports_token(arguments.home)
    server.serve_forever()


if __name__ == "__main__":
    main()
