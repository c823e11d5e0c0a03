"""Task: post a short message to the team's webhook (Secret block `airnub-webhook-url`), when one is set."""

from __future__ import annotations

import json
import urllib.request

from prefect import task
from prefect.logging import get_run_logger

from flows.common.secrets import read_secret

WEBHOOK_BLOCK = "airnub-webhook-url"


@task(name="notify-webhook", retries=2, retry_delay_seconds=5)
def notify_task(text: str, timeout_seconds: float = 10) -> bool:
    """POST `{"text": text}` as JSON to the webhook; False when no webhook is configured."""
    url = read_secret(WEBHOOK_BLOCK)
    if url is None:
        get_run_logger().info("No Secret block %r: nothing posted (see `airnub blocks setup`)", WEBHOOK_BLOCK)
        return False
    request = urllib.request.Request(url, data=json.dumps({"text": text}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # an HTTP error raises
        get_run_logger().info("Posted to the webhook of Secret block %r (HTTP %d)", WEBHOOK_BLOCK, response.status)
    return True
