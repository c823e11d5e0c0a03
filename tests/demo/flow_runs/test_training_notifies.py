"""The demo's training flow posts its metrics to the team's webhook (Secret block), and never logs its token."""

from __future__ import annotations

from airnub.orchestration.secrets import setup_secret_blocks
from airnub.testing.flows import TOKEN, shipped_log_messages
from flows.dept_demo.analysis.training.training_flow_dept_demo import training_flow_dept_demo
from flows.dept_demo.ingestion_flow_dept_demo import ingestion_flow_dept_demo
from flows.dept_demo.processing_flow_dept_demo import processing_flow_dept_demo


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
