"""The task runner is a setting: threads by default, processes, or Dask (an existing cluster or a local one)."""

from __future__ import annotations

import pytest
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from airnub.engine.settings import load_settings
from airnub.orchestration.task_runner import task_runner_from_settings
from airnub.testing.helpers import PROJECT_ROOT


def runner(**environ: str):
    return task_runner_from_settings(load_settings(PROJECT_ROOT, environ=environ))


def test_threads_by_default_with_max_workers():
    assert isinstance(runner(), ThreadPoolTaskRunner)
    assert runner(AIRNUB_MAX_WORKERS="3")._max_workers == 3


def test_processes_and_dask_from_the_environment():
    assert isinstance(runner(AIRNUB_TASK_RUNNER="processes"), ProcessPoolTaskRunner)
    existing = runner(AIRNUB_TASK_RUNNER="dask", AIRNUB_DASK_SCHEDULER_ADDRESS="tcp://10.0.0.5:8786")
    assert isinstance(existing, DaskTaskRunner) and existing.address == "tcp://10.0.0.5:8786"
    local = runner(AIRNUB_TASK_RUNNER="dask", AIRNUB_MAX_WORKERS="2")
    assert local.address is None and local.cluster_kwargs["n_workers"] == 2


def test_an_unknown_task_runner_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match=r"'task_runner' must be one of threads, processes, dask, got 'spark'"):
        runner(AIRNUB_TASK_RUNNER="spark")
