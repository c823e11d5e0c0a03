"""Caching for function tasks: skip a task whose code, arguments and input files are unchanged.

The key is made of the task's source, the package's code, the library versions, the arguments,
and the content fingerprints of every file or folder passed as a `Path` (never a pickle of a
DataFrame: tasks receive paths). Records live in the project's cache folder (`cache_dir` in
settings.ini) through `airnub_prefect_starter.engine.run_cache`, the same store the notebook runner
uses, so a second `make run` with nothing changed skips the work. A record counts only while the
task's output files are as it left them. Prefect's own caching is not used: its default policy
includes the run id, its result storage defaults to ~/.prefect, and it hashes paths, not contents.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect.logging import get_run_logger

from airnub_prefect_starter.engine.run_cache import (
    RunCache,
    fingerprint,
    hash_value,
    library_versions,
    package_code_fingerprint,
)
from airnub_prefect_starter.engine.settings import load_settings


def _describe(value: Any) -> Any:
    """An argument as it enters the key: paths by their content, lists element by element."""
    if isinstance(value, Path):
        return {"path": str(value), "content": fingerprint(value)}
    if isinstance(value, list | tuple):
        return [_describe(item) for item in value]
    return value


def cached(outputs: tuple[str, ...]) -> Callable:
    """Cache the decorated task function; `outputs` names its arguments that are files it writes."""

    def decorate(function: Callable) -> Callable:
        signature, source = inspect.signature(function), inspect.getsource(function)

        @functools.wraps(function)
        def run_or_reuse(*args: Any, **kwargs: Any) -> Any:
            arguments = signature.bind(*args, **kwargs)
            arguments.apply_defaults()
            written = [Path(arguments.arguments[name]) for name in outputs]
            read = {name: _describe(value) for name, value in arguments.arguments.items() if name not in outputs}
            key = hash_value({"task": function.__qualname__, "source": source, "package": package_code_fingerprint(),
                              "versions": library_versions(), "outputs": [str(p) for p in written], "arguments": read})
            cache = RunCache(load_settings().paths.cache)
            if hit := cache.lookup("tasks", key):
                get_run_logger().info("%s: served from the cache; nothing it depends on changed", function.__name__)
                return hit["result"]
            result = function(*args, **kwargs)
            cache.store("tasks", key, result, outputs=written)
            return result

        return run_or_reuse

    return decorate
