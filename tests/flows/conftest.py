"""Flow tests run against one temporary Prefect API for the whole session."""

from __future__ import annotations

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session", autouse=True)
def prefect_api():
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def clean_variables():
    """Delete every Variable a test created, so the session's other flows read their YAML files again."""
    from prefect.client.orchestration import get_client

    yield
    with get_client(sync_client=True) as client:
        for variable in client.read_variables():
            client.delete_variable_by_name(variable.name)
