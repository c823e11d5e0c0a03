"""Running child flows from a parent flow in the same process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings


@contextmanager
def in_process_subflows() -> Iterator[None]:
    """Run the child flows called in this block (or decorated flow) without heartbeats of their own.

    Use it as a decorator under `@flow` on a parent flow: `@in_process_subflows()`.

    A heartbeat lets the server mark a crashed flow run; a child flow running in its parent's
    process is covered by the parent's heartbeat (a crash takes both). In Prefect 3.9 each flow
    run with heartbeats waits up to a second at exit for its heartbeat thread to wake, which for
    the demo pipeline's nine nested runs was most of a run with nothing to do.
    """
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
