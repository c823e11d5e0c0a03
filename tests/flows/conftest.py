"""Flow tests run against one temporary Prefect API for the whole session."""

from __future__ import annotations

import pytest
from helpers import output_overrides
from prefect.testing.utilities import prefect_test_harness

from airnub_prefect_starter.data_science.config_ds import load_settings


@pytest.fixture(scope="session", autouse=True)
def prefect_api():
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """The demo pipeline, run once into a temporary output tree: `(paths, result)`."""
    from flows.dept_demo.pipeline_flow_dept_demo import pipeline_flow_dept_demo

    with pytest.MonkeyPatch.context() as patch:
        for name, value in output_overrides(tmp_path_factory.mktemp("pipeline")).items():
            patch.setenv(name, value)
        yield load_settings().paths, pipeline_flow_dept_demo()


@pytest.fixture
def clean_variables():
    """Delete every Variable a test created, so the session's other flows read their YAML files again."""
    from prefect.client.orchestration import get_client

    yield
    with get_client(sync_client=True) as client:
        for variable in client.read_variables():
            client.delete_variable_by_name(variable.name)
