"""Shared fixtures: an isolated project output tree, and the environment for subprocesses."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers import output_overrides, own_notebooks_dir

from airnub_prefect_starter.data_science.config_ds import load_settings

BIN = Path(sys.executable).parent


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The project's paths, with every output moved into a temporary folder."""
    for name, value in output_overrides(tmp_path).items():
        monkeypatch.setenv(name, value)
    return load_settings().paths


@pytest.fixture
def subprocess_env(tmp_path):
    """Environment for a command run in a subprocess: its own Prefect home and output tree."""
    return {**os.environ, **output_overrides(tmp_path), "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture
def notebooks_dir(tmp_path, monkeypatch, project):
    """A notebooks folder of the test's own (`notebooks_dir`), with outputs moved as in `project`."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    for name, value in own_notebooks_dir(folder).items():  # a tmp folder lies outside the project: allowed here
        monkeypatch.setenv(name, value)
    return folder
