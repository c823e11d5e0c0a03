"""prefect-dask's task runner, with each task carrying the settings of the flow that submitted it.

What a task carries: the `AIRNUB_*` overrides in force where the flow runs, and the project folder. The Dask worker
that runs the task applies them around it, so `load_settings()` there (and in a notebook kernel the task starts)
reads the flow's settings, not those the worker was started with (docs/team-path.md, "A Dask cluster").
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from copy import copy
from pathlib import Path

from prefect_dask import DaskTaskRunner

from airnub.engine.settings import ENV_PREFIX, find_project_root

PROJECT_ROOT_VARIABLE = f"{ENV_PREFIX}PROJECT_ROOT"


class SettingsDaskTaskRunner(DaskTaskRunner):
    """prefect-dask's task runner whose tasks carry the submitting flow's settings to the Dask worker running them."""

    def submit(self, task, parameters, wait_for=None, dependencies=None):
        return super().submit(carrying(task, flow_settings()), parameters, wait_for, dependencies)


def flow_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The `AIRNUB_*` overrides in `environ` (the process's own when None), with the project folder they apply to."""
    environ = os.environ if environ is None else environ
    return {**{name: value for name, value in environ.items() if name.startswith(ENV_PREFIX)},
            PROJECT_ROOT_VARIABLE: str(find_project_root(environ=environ))}


def carrying(task, settings: dict[str, str]):
    """A copy of the Prefect `task` whose function runs under `settings` (`applied_settings`), wherever it runs."""
    function = task.fn
    if inspect.iscoroutinefunction(function):
        async def under_settings(*args, **kwargs):
            with applied_settings(settings):
                return await function(*args, **kwargs)
    elif inspect.isgeneratorfunction(function):
        def under_settings(*args, **kwargs):
            with applied_settings(settings):
                yield from function(*args, **kwargs)
    else:
        def under_settings(*args, **kwargs):
            with applied_settings(settings):
                return function(*args, **kwargs)
    carried = copy(task)  # the same task (name, key, cache policy, retries); only its function is wrapped
    carried.fn = functools.wraps(function)(under_settings)
    return carried


_APPLIED = threading.Condition()
_IN_FORCE: dict = {"settings": None, "tasks": 0, "saved": {}}  # what this process runs under, by how many tasks


@contextmanager
def applied_settings(settings: dict[str, str]) -> Iterator[None]:
    """Run the block with the process's `AIRNUB_*` variables replaced by `settings`, then put them back.

    The project folder applies only where it exists (another machine's checkout may lie elsewhere: it keeps its own).
    Tasks under other settings in other threads of this process wait for the block to end (the environment is one).
    """
    if not ((root := settings.get(PROJECT_ROOT_VARIABLE)) and Path(root).is_dir()):
        settings = {name: value for name, value in settings.items() if name != PROJECT_ROOT_VARIABLE}
        settings.update({PROJECT_ROOT_VARIABLE: own} if (own := os.environ.get(PROJECT_ROOT_VARIABLE)) else {})
    with _APPLIED:
        _APPLIED.wait_for(lambda: _IN_FORCE["settings"] in (None, settings))
        if _IN_FORCE["settings"] is None:
            _IN_FORCE.update(settings=settings, saved=_replace_settings(settings))
        _IN_FORCE["tasks"] += 1
    try:
        yield
    finally:
        with _APPLIED:
            _IN_FORCE["tasks"] -= 1
            if _IN_FORCE["tasks"] == 0:
                _replace_settings(_IN_FORCE["saved"])
                _IN_FORCE.update(settings=None, saved={})
                _APPLIED.notify_all()


def _replace_settings(settings: Mapping[str, str]) -> dict[str, str]:
    """Make `settings` the process's only `AIRNUB_*` variables; the ones it had before."""
    before = {name: value for name, value in os.environ.items() if name.startswith(ENV_PREFIX)}
    for name in before:
        del os.environ[name]
    os.environ.update(settings)
    return before

