"""Caching for function tasks: skip a task when nothing it depends on changed, and say why it ran.

The static key is the task's identity, the import closure of its module (the project modules it
imports, transitively: editing the training module re-runs training, not cleaning), the library
versions, and the arguments (a `Path` by its content). The record under that key keeps what the
task turned out to read while it ran, like a compiler's dependency file: the files below the
project its thread opened (an audit hook, `dependencies.OpenedFiles`), and the Prefect Variables
it read through `load_config` (`note_variable`). A record is served only while all of them, and
the task's output files, are unchanged; each task that runs logs its reason in one line
(`ran: module a.b changed`, `ran: Variable v changed`). Records live in the project's cache folder
(`cache_dir` in settings.ini) through `airnub.engine.run_cache`, the store the
notebook runner uses. Prefect's own caching is not used: its default policy includes the run id,
its result storage defaults to ~/.prefect, and it hashes paths, not contents.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect.logging import get_run_logger

from airnub.engine.dependencies import OpenedFiles, import_closure, observed
from airnub.engine.run_cache import (
    RunCache,
    fingerprint,
    hash_value,
    library_versions,
    path_roots,
    portable,
    portable_value,
)
from airnub.engine.settings import ProjectPaths, load_settings
from airnub.orchestration.plan import SERVED, Verdict

VARIABLES_PAGE = 200  # the most Variables one API call returns (the server's default page)
_variables_now: contextvars.ContextVar[dict | None] = contextvars.ContextVar("airnub_variables_now", default=None)
_variables_read: contextvars.ContextVar[dict | None] = contextvars.ContextVar("airnub_variables_read", default=None)


def note_variable(name: str, value: Any) -> None:
    """Remember that the running cached task read the Prefect Variable `name` (None: it does not exist)."""
    if (read := _variables_read.get()) is not None:
        read.setdefault(name, hash_value(value))


def watched(paths: ProjectPaths) -> list[Path]:
    """The folders whose files a step depends on when it opens them: the project's, its data's and its models'."""
    return [paths.root, paths.data_root, paths.models]


def read_variable(name: str) -> Any:
    """The value of the Prefect Variable `name` now (None when it does not exist), for `RunCache.verdict`."""
    if (known := _variables_now.get()) is not None:  # read at once, in `variables_read_at_once`
        return known.get(name)
    from prefect.variables import Variable

    return Variable.get(name, default=None)


def all_variables() -> dict[str, Any] | None:
    """Every Prefect Variable by name, in one API call; None when the server may hold more than one page of them."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        found = client.read_variables(limit=VARIABLES_PAGE)
    return None if len(found) >= VARIABLES_PAGE else {variable.name: variable.value for variable in found}


@contextlib.contextmanager
def variables_read_at_once(values: dict[str, Any] | None):
    """In this block `read_variable` answers from `values` (every Variable, read at once; {}: the config files
    alone), not one API call per name: a plan reads each config. None: read them one by one, as a run does."""
    token = _variables_now.set(values)
    try:
        yield
    finally:
        _variables_now.reset(token)


def _describe(value: Any, roots: dict[str, Path]) -> Any:
    """An argument as it enters the key: paths by their content (and where they are below `roots`), lists element by
    element, an absolute path as text relative to the root it is below."""
    if isinstance(value, Path):
        return {"path": portable(value, roots), "content": fingerprint(value)}
    if isinstance(value, list | tuple):
        return [_describe(item, roots) for item in value]
    return portable_value(value, roots)


def task_key(function: Callable, outputs: tuple[str, ...], *args: Any, **kwargs: Any
             ) -> tuple[str, dict, list[Path]]:
    """The static key of a call of the task function `function` (undecorated), its parts, and the files it writes.

    A plan asks `RunCache.verdict("tasks", key, parts, ...)` with these, as `cached` does, without running it.
    """
    arguments, roots = inspect.signature(function).bind(*args, **kwargs), path_roots(load_settings().paths)
    arguments.apply_defaults()
    written = [Path(arguments.arguments[name]) for name in outputs]
    parts = {"step": f"{function.__module__}.{function.__qualname__}", "modules": import_closure(function.__module__),
             "versions": library_versions(), "outputs": [portable(p, roots) for p in written],
             "arguments": {name: _describe(value, roots) for name, value in arguments.arguments.items()
                           if name not in outputs}}
    return hash_value(parts), parts, written


def plan_call(function: Callable, outputs: tuple[str, ...], *args: Any, **kwargs: Any) -> Verdict:
    """What a run would do with this call of the cached task `function`: its verdict, as `cached` decides it."""
    key, parts, written = task_key(function, outputs, *args, **kwargs)
    cache = RunCache.for_paths(load_settings().paths)
    hit, reason = cache.verdict("tasks", key, parts, read_variable)
    reads = [Path(path) for path in (hit or {}).get("depends", {}).get("files", {})]  # local paths: see `verdict`
    reads += [cache.local(value["path"]) for value in parts["arguments"].values()
              if isinstance(value, dict) and "path" in value]
    if hit:
        return Verdict(False, SERVED, hit["result"], reads, written)
    return Verdict(True, f"would run: {reason.removeprefix('ran: ')}", None, reads, written)


def cached(outputs: tuple[str, ...]) -> Callable:
    """Cache the decorated task function; `outputs` names its arguments that are files it writes."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def run_or_reuse(*args: Any, **kwargs: Any) -> Any:
            key, parts, written = task_key(function, outputs, *args, **kwargs)
            settings, logger = load_settings(), get_run_logger()
            cache = RunCache.for_paths(settings.paths)
            hit, reason = cache.verdict("tasks", key, parts, read_variable)
            logger.info("%s: %s", function.__name__, reason)  # one line: served, or why it runs
            if hit:
                return hit["result"]
            variables = _variables_read.set({})
            try:
                with OpenedFiles(watched(settings.paths), skip=[settings.paths.cache]) as opened:
                    result = function(*args, **kwargs)
                read = _variables_read.get()
            finally:
                _variables_read.reset(variables)
            depends, _, stale = observed(opened.opened, {}, [settings.paths.root])  # modules by their dotted names
            cache.store("tasks", key, result, outputs=written, depends={**depends, "variables": read}, parts=parts,
                        stale=stale)
            return result

        run_or_reuse.airnub_plan = functools.partial(plan_call, function, outputs)  # see orchestration/plan.py
        return run_or_reuse

    return decorate
