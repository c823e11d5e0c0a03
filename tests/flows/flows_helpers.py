"""Helpers of the flow tests: a webhook token, and the logs a flow run shipped to the API."""

from __future__ import annotations

import time

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
