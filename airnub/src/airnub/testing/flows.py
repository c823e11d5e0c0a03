"""Flow tests' fixtures and helpers: flows on the session's project server, a webhook, the logs a run shipped.

A conftest.py takes the fixtures with
`from airnub.testing.flows import on_the_session_server, clean_variables, webhook`.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogHandler

TOKEN = "T0KEN-d0-not-log-7f3a"  # in the webhook's URL (the `webhook` fixture): never in a log


def shipped_log_messages(flow_run_id, expected: str, timeout_seconds: float = 30) -> list[str]:
    """The messages of a flow run's logs, once one containing `expected` arrived (logs are shipped in batches)."""
    APILogHandler().flush()
    deadline = time.monotonic() + timeout_seconds
    of_the_run = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    while True:
        with get_client(sync_client=True) as client:
            messages = [log.message for log in client.read_logs(of_the_run)]
        if any(expected in m for m in messages) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


@pytest.fixture(autouse=True)
def on_the_session_server(prefect_api):
    """Every flow test runs its flows on the session's project server."""


@pytest.fixture
def clean_variables():
    """Delete every Variable a test created, so the session's other flows read their YAML files again."""
    yield
    with get_client(sync_client=True) as client:
        for variable in client.read_variables():
            client.delete_variable_by_name(variable.name)


@pytest.fixture
def webhook():
    """A loopback webhook whose URL holds a token; yields `(url, received bodies)`."""
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/{TOKEN}", received
    finally:
        server.shutdown()
        with get_client(sync_client=True) as client:
            client.delete_block_document(client.read_block_document_by_name("airnub-webhook-url", "secret").id)
