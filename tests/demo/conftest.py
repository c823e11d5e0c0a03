"""The demo's tests: the project's paths with the demo's file names; a real server and the docs site."""

from __future__ import annotations

import pytest

from airnub.testing.browser import site_url  # noqa: F401
from airnub.testing.servers import server  # noqa: F401  (fixtures of the demo's integration tests)
from airnub_prefect_starter.data_science.config_ds import data_paths


@pytest.fixture
def project(project):
    """The project's paths (outputs in a temporary folder) with the demo's file names."""
    return data_paths(project)
