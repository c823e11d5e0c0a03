"""The demo's flow tests: the project's paths with the demo's files, and one demo pipeline run per module."""

from __future__ import annotations

import pytest

from airnub.testing.flows import clean_variables, on_the_session_server, webhook  # noqa: F401
from airnub.testing.helpers import output_overrides
from airnub_prefect_starter.data_science.config_ds import data_paths


@pytest.fixture
def project(project):
    """The project's paths (outputs in a temporary folder) with the demo's file names."""
    return data_paths(project)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """The demo pipeline, run once into a temporary output tree: `(paths, result)`."""
    from flows.dept_demo.pipeline_flow_dept_demo import pipeline_flow_dept_demo

    with pytest.MonkeyPatch.context() as patch:
        for name, value in output_overrides(tmp_path_factory.mktemp("pipeline")).items():
            patch.setenv(name, value)
        yield data_paths(), pipeline_flow_dept_demo()
