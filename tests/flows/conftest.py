"""Flow tests run in the test process against the session's project server (`prefect_api` in tests/conftest.py)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from flows_helpers import TOKEN
from prefect.client.orchestration import get_client


@pytest.fixture(autouse=True)
def _on_the_session_server(prefect_api):
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
