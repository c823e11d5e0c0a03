"""The demo's tests: the project's paths with the demo's file names."""

from __future__ import annotations

import pytest
from integration.servers import server  # noqa: F401  (a fixture: the demo's integration tests run a real server)

from airnub_prefect_starter.data_science.config_ds import data_paths


@pytest.fixture
def project(project):
    """The project's paths (outputs in a temporary folder) with the demo's file names."""
    return data_paths(project)
