"""Flows without heartbeats: a parent flow and the child flows it runs in its own process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import prefect.context
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, Settings

# Settings copies with heartbeats off, by the settings they were made from (kept alive, so an id is never reused).
_QUIET: dict[int, tuple[Settings, Settings]] = {}


@contextmanager
def without_heartbeats() -> Iterator[None]:
    """Run the flows started in this block (or decorated flow: `@without_heartbeats()` under `@flow`) without a
    heartbeat thread.

    A child flow running in its parent's process is covered by the parent's heartbeat (a crash takes both); for a
    pipeline's nested runs (stages, then categories), waiting for their heartbeat threads was most of a run with
    nothing to do.

    A heartbeat lets the server mark a crashed flow run. In Prefect 3.9 each flow run with
    heartbeats waits up to a second at its end for its heartbeat thread to wake. Prefect's
    `temporary_settings` rebuilds and validates every setting (about 0.2 s here), so the copy
    with heartbeats off is made once per settings object and reused.
    """
    context = prefect.context.get_settings_context()
    if context.settings.flows.heartbeat_frequency is None:
        yield
        return
    if (made := _QUIET.get(id(context.settings))) is None:
        quiet = context.settings.copy_with_update(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
        made = _QUIET[id(context.settings)] = (context.settings, quiet)
    with prefect.context.SettingsContext(profile=context.profile, settings=made[1]):
        yield
