"""Secrets come from Secret blocks made from environment variables, and never reach the logs."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogHandler

from flows.common.secrets import setup_secret_blocks
from flows.dept_demo.analysis.training.training_flow_dept_demo import training_flow_dept_demo
from flows.dept_demo.ingestion_flow_dept_demo import ingestion_flow_dept_demo
from flows.dept_demo.processing_flow_dept_demo import processing_flow_dept_demo

TOKEN = "T0KEN-d0-not-log-7f3a"


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


def test_training_posts_to_the_webhook_from_the_secret_block_without_logging_it(project, webhook):
    url, received = webhook
    assert setup_secret_blocks({"AIRNUB_WEBHOOK_URL": url}) == {"airnub-webhook-url": "saved from AIRNUB_WEBHOOK_URL"}
    ingestion_flow_dept_demo()
    processing_flow_dept_demo()
    state = training_flow_dept_demo(return_state=True)
    card = state.result()
    assert received == [{"text": f"Wine classifier trained: accuracy {card['metrics']['accuracy']:.3f}, "
                                 f"macro F1 {card['metrics']['f1_macro']:.3f}"}]
    messages = shipped_log_messages(state.state_details.flow_run_id, "Posted to the webhook")
    assert any("Posted to the webhook of Secret block 'airnub-webhook-url'" in m for m in messages)
    assert not [m for m in messages if TOKEN in m]


def test_unset_variables_make_no_block():
    assert setup_secret_blocks({}) == {"airnub-webhook-url": "skipped: AIRNUB_WEBHOOK_URL is not set"}
