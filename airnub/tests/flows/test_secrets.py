"""Secrets come from Secret blocks made from environment variables, and never reach the logs."""

from __future__ import annotations

from prefect import flow

from airnub.orchestration.notify_task import notify_task
from airnub.orchestration.secrets import setup_secret_blocks
from airnub.testing.flows import TOKEN, shipped_log_messages


@flow(name="notify-the-team")
def notify_the_team(text: str) -> bool:
    """A flow of a department's own: it posts `text` to the team's webhook."""
    return notify_task(text)


def test_a_flow_posts_to_the_webhook_from_the_secret_block_without_logging_it(project, webhook):
    url, received = webhook
    assert setup_secret_blocks({"AIRNUB_WEBHOOK_URL": url}) == {"airnub-webhook-url": "saved from AIRNUB_WEBHOOK_URL"}
    state = notify_the_team("tides checked: 3 sites", return_state=True)
    assert state.result() is True
    assert received == [{"text": "tides checked: 3 sites"}]
    messages = shipped_log_messages(state.state_details.flow_run_id, "Posted to the webhook")
    assert any("Posted to the webhook of Secret block 'airnub-webhook-url'" in m for m in messages)
    assert not [m for m in messages if TOKEN in m]


def test_without_a_block_a_flow_posts_nothing_and_says_why(project):
    assert notify_the_team("nobody hears this") is False


def test_unset_variables_make_no_block():
    assert setup_secret_blocks({}) == {"airnub-webhook-url": "skipped: AIRNUB_WEBHOOK_URL is not set"}
