"""Flows run by `airnub` and child flows run in their parent's process have no heartbeat thread:
Prefect 3.9 makes each flow run with heartbeats wait up to a second at its end."""

from __future__ import annotations

from prefect import flow
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

from airnub.orchestration.subflows import without_heartbeats


@flow
def _heartbeat_frequency() -> int | None:
    return get_current_settings().flows.heartbeat_frequency


@flow
@without_heartbeats()
def _parent() -> int | None:
    return _heartbeat_frequency()


def test_flows_in_the_block_run_without_heartbeats_and_the_setting_comes_back():
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 30}):
        with without_heartbeats():
            assert _heartbeat_frequency() is None
        assert get_current_settings().flows.heartbeat_frequency == 30
        assert _parent() is None  # the child runs without; the parent keeps its own
        assert get_current_settings().flows.heartbeat_frequency == 30


def test_the_settings_without_heartbeats_are_made_once():
    """Prefect's temporary_settings rebuilds every setting (~0.2 s); nested flows enter this block many times."""
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 30}):
        with without_heartbeats():
            first = get_current_settings()
        with without_heartbeats():
            assert get_current_settings() is first
