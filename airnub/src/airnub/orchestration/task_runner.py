"""The task runner flows fan out on, chosen by settings.ini (`task_runner`, `max_workers`, `dask_scheduler_address`).

On Dask, each task carries the settings of the flow that submitted it (`dask_runner`).
"""

from __future__ import annotations

import os

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from airnub.engine.settings import Settings, load_settings


def task_runner_from_settings(settings: Settings | None = None) -> TaskRunner:
    """Threads, processes, or Dask (an existing scheduler when an address is set, else a local cluster)."""
    settings = settings or load_settings()
    if settings.task_runner == "processes":
        return ProcessPoolTaskRunner(max_workers=settings.max_workers)
    if settings.task_runner == "dask":
        from airnub.orchestration.dask_runner import SettingsDaskTaskRunner  # Dask loads only when asked for

        if settings.dask_scheduler_address:
            return SettingsDaskTaskRunner(address=settings.dask_scheduler_address)
        _workers_import_the_project(settings.paths.root)
        return SettingsDaskTaskRunner(cluster_kwargs={"n_workers": settings.max_workers, "threads_per_worker": 1,
                                                      "processes": True, "dashboard_address": None})
    return ThreadPoolTaskRunner(max_workers=settings.max_workers)


def _workers_import_the_project(root) -> None:
    """Processes started from here (a local Dask cluster's workers) import the project's flows from its folder."""
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(root) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(root), *filter(None, paths)])
