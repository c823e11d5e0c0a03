"""The demo's tests: the project's paths with the demo's file names."""

from __future__ import annotations

import pytest

from airnub_prefect_starter.data_science.config_ds import data_paths


@pytest.fixture
def project(project):
    """The project's paths (outputs in a temporary folder) with the demo's file names."""
    return data_paths(project)
