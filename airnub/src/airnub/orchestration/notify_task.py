"""Task: post a short message to the team's webhook (Secret block `airnub-webhook-url`), when one is set."""

from __future__ import annotations

import json
import urllib.request

from prefect import task
from prefect.logging import get_run_logger

from airnub.orchestration.plan import follows_its_inputs, planned
from airnub.orchestration.secrets import read_secret

WEBHOOK_BLOCK = "airnub-webhook-url"


@task(name="notify-webhook", retries=2, retry_delay_seconds=5)
@planned(follows_its_inputs)  # it tells what a step that ran made: nothing new when that step is served
def notify_task(message: str, values: dict | None = None, timeout_seconds: float = 10) -> bool:
    """POST `{"text": message}` (its `{names}` filled from `values`) to the webhook; False when none is configured.

    Its config (e.g. configs/variables/.../<category>/notify_webhook.yaml) holds these parameters by name.
    """
    text = message.format(**values) if values is not None else message
    url = read_secret(WEBHOOK_BLOCK)
    if url is None:
        get_run_logger().info("No Secret block %r: nothing posted (see `airnub blocks setup`)", WEBHOOK_BLOCK)
        return False
    request = urllib.request.Request(url, data=json.dumps({"text": text}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # an HTTP error raises
        get_run_logger().info("Posted to the webhook of Secret block %r (HTTP %d)", WEBHOOK_BLOCK, response.status)
    return True
