"""The reports' file server (issue 19, item 4): only token holders read reports, only regular files inside reports/.

Each test starts the real server process (`start_reports_server`, as `airnub server start` does) on a temporary
reports folder and a free port, without a Prefect server, and asks it as a browser or another local user would.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest

from airnub.services.reports_http import answers, report_url, reports_token, start_reports_server
from airnub.testing.helpers import free_port, second_user_python

REPORT = b"<html><title>Harvest review</title>rows checked: 3</html>"
SECRET = b"root-only secret"


@pytest.fixture
def served(tmp_path):
    """(state, messages) of a reports server on tmp_path/reports (holding dept/run/harvest.html); stopped after."""
    (tmp_path / "reports" / "dept" / "run").mkdir(parents=True)
    (tmp_path / "reports" / "dept" / "run" / "harvest.html").write_bytes(REPORT)
    messages: list[str] = []
    state = start_reports_server("127.0.0.1", free_port(), tmp_path / "reports", tmp_path / "home", dict(os.environ),
                                 say=messages.append)
    assert state, messages
    yield state, messages
    _stop(state)


def _stop(state: dict) -> None:
    try:
        os.killpg(state["reports_pid"], signal.SIGTERM)
        psutil.Process(state["reports_pid"]).wait(timeout=10)
    except (ProcessLookupError, psutil.NoSuchProcess):
        pass


def _get(state: dict, path: str, method: str = "GET") -> tuple[int, bytes]:
    """(status, body) of a raw request `path` (sent as written: no client-side normalising of `..` or %2e)."""
    port = int(state["reports_url"].split(":")[2].split("/")[0])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_report_is_served_to_holders_of_the_token_and_404_to_anyone_else(served, tmp_path):
    state, messages = served
    token = reports_token(tmp_path / "home")
    assert messages == [] and state["reports_url"] == f"{state['reports_url'].rsplit('/', 1)[0]}/{token}"
    assert len(token) >= 40 and oct((tmp_path / "home" / "reports-token").stat().st_mode & 0o777) == "0o600"
    link = report_url(tmp_path / "reports" / "dept" / "run" / "harvest.html", state)
    assert link == f"{state['reports_url']}/dept/run/harvest.html"
    assert _get(state, f"/{token}/dept/run/harvest.html") == (200, REPORT)
    assert _get(state, f"/{token}/dept/run/harvest.html", "HEAD")[0] == 200
    missing = _get(state, f"/{token}/dept/run/nothing.html")
    assert missing[0] == 404
    for path in ("/dept/run/harvest.html", f"/{token[:-1]}x/dept/run/harvest.html", "/x/dept/run/harvest.html",
                 f"/{token.swapcase()}/dept/run/harvest.html", f"/{token}x/dept/run/harvest.html"):
        assert _get(state, path) == missing, f"{path}: the same 404 whether the report exists or not"
    assert _get(state, f"/{token}/dept/run/harvest.html", "POST")[0] == 501, "read-only"
    assert _get(state, f"/{token}/dept/run/")[0] == 404 and _get(state, f"/{token}/dept")[0] == 404, "no listings"
    # what other local users can see of the process (its command line) and what it logs hold no token
    assert token not in " ".join(psutil.Process(state["reports_pid"]).cmdline())
    log = (tmp_path / "home" / "reports-server.log").read_text()
    assert "GET /<token>/dept/run/harvest.html" in log and token not in log


def test_the_token_is_made_once_private_and_a_foreign_one_refused(tmp_path):
    home = tmp_path / "home"
    first = reports_token(home)
    assert reports_token(home) == first and sorted(os.listdir(home)) == ["reports-token"]
    (home / "reports-token").chmod(0o644)
    with pytest.raises(ValueError, match=r"reports-token: not a private file of yours \(mode -rw-r--r--, owner uid "
                                         r"\d+\); remove it and run `airnub server start` again"):
        reports_token(home)
    (home / "reports-token").unlink()
    (home / "reports-token").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="reports-token: .*; remove it"):
        reports_token(home)


@pytest.mark.parametrize("path", [
    "leak.txt",  # a symlink inside reports/ to a file only root can read
    "linked/secret.txt",  # a symlinked folder
    "dept/linked/secret.txt",
    "../outside/secret.txt",  # traversal, raw
    "dept/../../outside/secret.txt",
    "%2e%2e/outside/secret.txt",  # traversal, encoded
    "dept/%2E%2E/%2e%2e/outside/secret.txt",
    "..%2foutside%2fsecret.txt",
    "dept/run/..%2f..%2f..%2foutside/secret.txt",
    "%2foutside/secret.txt",
    "dept/run/harvest.html%00",
])
def test_nothing_outside_reports_is_served(served, tmp_path, path):
    state, _ = served
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (outside / "secret.txt").chmod(0o600)
    (tmp_path / "reports" / "leak.txt").symlink_to(outside / "secret.txt")
    (tmp_path / "reports" / "linked").symlink_to(outside, target_is_directory=True)
    (tmp_path / "reports" / "dept" / "linked").symlink_to(outside, target_is_directory=True)
    status, body = _get(state, f"/{reports_token(tmp_path / 'home')}/{path}")
    assert status == 404 and SECRET not in body, (status, body)


def test_another_local_user_gets_404_without_the_token(served, tmp_path, second_user):
    state, _ = served
    base, token = state["reports_url"].rsplit("/", 1)
    fetch = ("import sys, urllib.request, urllib.error\n"
             "try:\n    print(urllib.request.urlopen(sys.argv[1], timeout=10).status)\n"
             "except urllib.error.HTTPError as error:\n    print(error.code)\n")
    for url, expected in ((f"{base}/dept/run/harvest.html", "404"), (f"{base}/{'A' * len(token)}/dept/run/harvest.html",
                                                                      "404"),
                          (f"{base}/{token}/dept/run/harvest.html", "200")):  # the link works for whoever holds it
        done = second_user_python(fetch, url, timeout=30)
        assert done.stdout.strip() == expected, (url, done.stdout, done.stderr)


def test_a_taken_port_gives_way_to_a_free_one_said_in_one_line(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "a.html").write_bytes(REPORT)
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        port = squatter.getsockname()[1]
        messages: list[str] = []
        state = start_reports_server("127.0.0.1", port, tmp_path / "reports", tmp_path / "home", dict(os.environ),
                                     say=messages.append)
        try:
            bound = int(state["reports_url"].split(":")[2].split("/")[0])
            assert bound != port and messages == [
                f"airnub: 127.0.0.1:{port} is in use by another program; reports are served on port {bound} instead "
                "(set reports_port in settings.ini or AIRNUB_REPORTS_PORT to choose)"]
            assert _get(state, f"/{reports_token(tmp_path / 'home')}/a.html") == (200, REPORT)
        finally:
            _stop(state)


def test_a_foreign_server_on_the_port_is_not_taken_for_ours_and_never_sees_the_token(tmp_path):
    seen: list[str] = []

    class Anything(BaseHTTPRequestHandler):  # another user's server: answers every request with 200
        def do_HEAD(self):
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    foreign = ThreadingHTTPServer(("127.0.0.1", 0), Anything)
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    try:
        token = reports_token(tmp_path / "home")
        state = {"reports_url": f"http://127.0.0.1:{foreign.server_address[1]}/{token}",
                 "reports_dir": str(tmp_path / "reports"), "reports_pid": None}
        assert not answers(state["reports_url"])
        assert report_url(tmp_path / "reports" / "a.html", state) is None, "no link to a server that is not ours"
        assert seen and not any(token in path for path in seen), seen
    finally:
        foreign.shutdown()
        foreign.server_close()
