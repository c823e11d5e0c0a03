"""Every config checked against the flow or task it configures, before any flow run.

A config's schema is the parameters of what reads it (Prefect builds a flow's parameter schema
from the same type hints), found by the layout of configs/variables/ (airnub/src/airnub/orchestration/config.py):
- `dept_<id>/<stage>.yaml`: the stage flow `<stage>_flow_dept_<id>`;
- `dept_<id>/<stage>/<category>.yaml`: the category flow `<category>_flow_dept_<id>`, else (a task
  without a category) the task named `<category>` that the stage flow's module imports;
- `dept_<id>/<stage>/<category>/<task>.yaml`: the task named `<task>` (Prefect's name, `-` for
  `_`, or the function `<task>_task`) that the category flow's module imports.
A config with none of these (a department whose flows are gone) is checked as plain YAML only.

`airnub run` and `airnub variables sync` (with `--dry-run` too) report every problem at once, one
line each: a key the flow does not take (with "did you mean"), a value of the wrong type (file,
line, expected type), a key named twice; and the same for each Variable on the server that
differs from its file (a Variable a flow reads overrides the file).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import types
import typing
from collections.abc import Callable
from pathlib import Path

from prefect import Flow, Task
from pydantic import TypeAdapter, ValidationError

from airnub.orchestration.config import CONFIG_ROOT, ConfigError, name_of_file, read_config_file
from airnub.orchestration.safe_yaml import key_lines

WORDS = {float: "a number", int: "a whole number", bool: "true or false", str: "text", dict: "a mapping",
         list: "a list", Path: "a path"}


def _module(name: str) -> types.ModuleType | None:
    """The module `name`, or None when it does not exist (an import error inside it propagates)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(f"{error.name}.")):
            return None
        raise


def _task_in(module: types.ModuleType | None, task: str) -> Task | None:
    found = [value for key, value in vars(module or object).items() if isinstance(value, Task) and
             (value.name == task.replace("_", "-") or key == f"{task}_task")]
    return found[0] if found else None


def configured(parts: tuple[str, ...]) -> Flow | Task | None:
    """The flow or task the config at `parts` (department package, stage, ...) configures; None if none is found."""
    department, stage, *rest = parts if len(parts) > 1 else (*parts, "")
    flow_of = lambda module, name: getattr(module, f"{name}_flow_{department}", None)  # noqa: E731
    if not rest:
        return flow_of(_module(f"flows.{department}.{stage}_flow_{department}"), stage)
    if len(rest) == 1:
        category = _module(f"flows.{department}.{stage}.{rest[0]}.{rest[0]}_flow_{department}")
        if category is not None:
            return flow_of(category, rest[0])
        return _task_in(_module(f"flows.{department}.{stage}_flow_{department}"), rest[0])
    if len(rest) == 2:
        return _task_in(_module(f"flows.{department}.{stage}.{rest[0]}.{rest[0]}_flow_{department}"), rest[1])
    return None


def _expected(hint: object) -> str:
    """`hint` in words for a config's author: `float | None` -> "a number (float)"."""
    kinds = [kind for kind in typing.get_args(hint) if kind is not type(None)] \
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union else [hint]
    words = " or ".join(WORDS.get(typing.get_origin(kind) or kind, "a value") for kind in kinds)
    return f"{words} ({' | '.join(getattr(k, '__name__', None) if not typing.get_args(k) else str(k) for k in kinds)})"


def _schema(target: Flow | Task) -> dict[str, object]:
    """Parameter name -> type hint (`typing.Any` where there is none) of `target`'s function."""
    hints = typing.get_type_hints(target.fn)
    return {name: hints.get(name, typing.Any) for name in inspect.signature(target.fn).parameters}


def check_against(target: Flow | Task, value: dict, where: str, lines: dict[str, int]) -> list[str]:
    """One line per key of `value` that `target` does not take, or whose value is not of its type."""
    schema, what = _schema(target), f"{'flow' if isinstance(target, Flow) else 'task'} {target.name}"
    problems = []
    for key, item in value.items():
        at = f"{where}:{lines[key]}" if key in lines else where
        if key not in schema:
            close = difflib.get_close_matches(key, schema, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(f"{at}: unknown key '{key}': {hint}{what} takes {', '.join(schema) or 'no parameters'}")
        elif schema[key] is not typing.Any:
            try:  # JSON, strictly: what the Variable stores, with no text read as a number
                TypeAdapter(schema[key]).validate_json(json.dumps(item), strict=True)
            except ValidationError:
                problems.append(f"{at}: {key}: expected {_expected(schema[key])}, got {str(repr(item))[:60]}")
    return problems


def _shown(path: Path) -> Path:
    """`path` as a user at the shell reads it: relative to the working folder when inside it, else whole."""
    here, path = Path.cwd().resolve(), path.resolve()
    return path.relative_to(here) if path.is_relative_to(here) else path


def config_problems(root: Path, read_variable: Callable[[str], object] | None = None) -> list[str]:
    """Every problem of every config under `root`, and of each Variable (`read_variable`) that differs from its file."""
    config_root, problems = root / CONFIG_ROOT, []
    for path in sorted([*config_root.rglob("*.yaml"), *config_root.rglob("*.yml")]):
        shown = _shown(path)
        try:
            name = name_of_file(path, config_root)
            value = read_config_file(path)
        except ConfigError as error:
            problems.append(str(error).replace(str(path), str(shown), 1))
            continue
        target = configured(path.relative_to(config_root).with_suffix("").parts)
        if target is not None:
            problems += check_against(target, value, str(shown), key_lines(path.read_text(encoding="utf-8")))
        stored = read_variable(name) if read_variable else None
        if stored is None or stored == value:
            continue
        where = f"Prefect Variable '{name}' (it differs from {shown}, and a run reads it)"
        if not isinstance(stored, dict):
            problems.append(f"{where}: holds a {type(stored).__name__}, expected a mapping; `airnub variables sync` "
                            f"stores the file's")
        elif target is not None:
            problems += check_against(target, stored, where, {})
    return problems


def check_configs(root: Path, read_variable: Callable[[str], object] | None = None) -> None:
    """ConfigError listing every problem, one per line, when there is one (nothing has run yet)."""
    if problems := config_problems(root, read_variable):
        raise ConfigError("\n".join(problems))
