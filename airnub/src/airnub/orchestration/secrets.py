"""Secrets live in Prefect Secret blocks, never in YAML or notebooks.

`airnub blocks setup` creates one Secret block per entry of SECRET_BLOCKS from the environment
variable named there; flows read the block at run time. Values are never printed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from prefect.blocks.system import Secret

# Secret block name -> the environment variable `airnub blocks setup` reads it from.
SECRET_BLOCKS = {
    # An incoming-webhook URL (Slack, Teams, Mattermost...): the token is in the URL.
    "airnub-webhook-url": "AIRNUB_WEBHOOK_URL",
}


def setup_secret_blocks(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Save a Secret block for every variable of SECRET_BLOCKS that is set; `{block: what happened}`."""
    environ = os.environ if environ is None else environ
    done = {}
    for block, variable in SECRET_BLOCKS.items():
        value = environ.get(variable, "")
        if value:
            Secret(value=value).save(block, overwrite=True)
        done[block] = f"saved from {variable}" if value else f"skipped: {variable} is not set"
    return done


def read_secret(block: str) -> str | None:
    """The value of the Secret block `block`, or None when no such block was saved."""
    if block not in SECRET_BLOCKS:
        raise KeyError(f"unknown secret {block!r}; SECRET_BLOCKS in airnub/src/airnub/orchestration/secrets.py has: "
                       f"{', '.join(SECRET_BLOCKS)}")
    try:
        secret = Secret.load(block)
    except ValueError:  # Prefect's error for a block document that does not exist
        return None
    return secret.get()
