"""Flow tests run in the test process against the session's project server (`prefect_api` in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _on_the_session_server(prefect_api):
    """Every flow test runs its flows on the session's project server."""


@pytest.fixture
def clean_variables():
    """Delete every Variable a test created, so the session's other flows read their YAML files again."""
    from prefect.client.orchestration import get_client

    yield
    with get_client(sync_client=True) as client:
        for variable in client.read_variables():
            client.delete_variable_by_name(variable.name)
