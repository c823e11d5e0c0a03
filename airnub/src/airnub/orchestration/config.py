"""Flow configuration: a Prefect Variable per YAML file in configs/variables/, the file as fallback.

The layout mirrors flows/: `configs/variables/dept_<id>/<stage>/<category>.yaml` configures a
category flow and becomes the Variable `dept_<id>__<stage>__<category>`;
`configs/variables/dept_<id>/<stage>/<category>/<task>.yaml` configures one task and becomes
`dept_<id>__<stage>__<category>__<task>`. Precedence at run time: flow parameters, then the
Variable, then the YAML file (so `make run` works on the embedded API without a sync).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import stat
from pathlib import Path

import yaml
from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger

from airnub.engine.settings import CONFIG_ROOT, load_settings
from airnub.orchestration.cache import note_variable, read_variable
from airnub.orchestration.safe_yaml import MAX_FILE_BYTES, load_yaml

SEPARATOR = "__"
VALID_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,254}")
MAX_VALUE_CHARACTERS = 5000  # Prefect refuses larger Variable values


class ConfigError(ValueError):
    """A config file or Variable that is not a valid mapping; the message names it."""


def variable_name(*parts: str) -> str:
    """The Prefect Variable name of the config at `parts` (department, stage, category[, task])."""
    return SEPARATOR.join(parts)


def config_file(*parts: str, root: Path | None = None) -> Path:
    """The YAML file of the config at `parts`."""
    root = load_settings().paths.root if root is None else root
    return root / CONFIG_ROOT / Path(*parts[:-1]) / f"{parts[-1]}.yaml"


def name_of_file(path: Path, config_root: Path) -> str:
    """The Variable name of the YAML file `path` under `config_root`; an error when it cannot be one."""
    relative = path.relative_to(config_root).with_suffix("")
    name = variable_name(*relative.parts)
    if not VALID_NAME.fullmatch(name) or any(SEPARATOR in part or not part for part in relative.parts):
        raise ConfigError(f"{path}: cannot become a Prefect Variable named {name!r}; folder and file names must use "
                          f"lower-case letters, digits, '-' or single '_' (at most 255 characters in all)")
    return name


PLAIN = (str, int, float, bool, type(None))


def check_plain(value: object, path: Path, where: str = "", _parents: tuple[int, ...] = ()) -> None:
    """ConfigError unless `value` is JSON as stored: text keys, and text, numbers, booleans, null, lists, mappings."""
    if isinstance(value, (dict, list)) and id(value) in _parents:
        raise ConfigError(f"{path}: {where or 'the value'} contains itself (a YAML alias to its own anchor)")
    _parents = (*_parents, id(value))
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                inside = f" in {where}" if where else ""
                if isinstance(key, bool):
                    raise ConfigError(f"{path}: a key{inside} is read as the boolean {key} (YAML reads unquoted on, "
                                      f"off, yes, no, true, false so); keys must be text: quote it, e.g. 'on':")
                raise ConfigError(f"{path}: key {key!r}{inside} is not text (YAML reads it as {type(key).__name__}); "
                                  f"keys must be text: quote it, e.g. '{key}':")
            check_plain(item, path, f"{where}.{key}" if where else key, _parents)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_plain(item, path, f"{where}[{index}]", _parents)
    elif not isinstance(value, PLAIN):
        raise ConfigError(f"{path}: {where or 'the value'} is a {type(value).__name__} ({str(value)[:40]!r}); "
                          f"values must be plain YAML (text, numbers, booleans, lists, mappings): quote it")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}: {where or 'the value'} is {value}, which JSON cannot hold; use a number or text")


def _read_text(path: Path) -> str:
    """The text of the regular file `path`, read only up to the size limit (a link to /dev/zero never ends)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise ConfigError(f"{path}: not a regular file; a config is a YAML file")
        with path.open("rb") as stream:
            content = stream.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES >> 10} KB; a config file holds one small mapping")
        return content.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read ({error})") from error


def read_config_file(path: Path) -> dict:
    """The mapping in the YAML file `path`, checked to be storable as a Variable; errors name the file and line."""
    text = _read_text(path)
    try:
        value = load_yaml(text)  # refuses aliases that expand beyond a config's size before anything walks them
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from error
    if not isinstance(value, dict) or not value:
        got = "nothing" if value is None else f"a {type(value).__name__}" if value != {} else "an empty mapping"
        raise ConfigError(f"{path}:1: the top level must be a non-empty mapping of `key: value` lines, got {got}")
    check_plain(value, path)
    stored = json.dumps(value)
    if len(stored) > MAX_VALUE_CHARACTERS:
        raise ConfigError(f"{path}: {len(stored)} characters as JSON; a Prefect Variable holds at most "
                          f"{MAX_VALUE_CHARACTERS}")
    return value


def _log(message: str, *args: object, warning: bool = False) -> None:
    """Log to the current flow or task run (nothing outside one)."""
    with contextlib.suppress(MissingContextError):
        logger = get_run_logger()
        (logger.warning if warning else logger.info)(message, *args)


def load_config(*parts: str, overrides: dict | None = None) -> dict:
    """The config at `parts`: its Variable, else its YAML file, with non-None `overrides` on top; says which."""
    name, path = variable_name(*parts), config_file(*parts)
    stored = read_variable(name)
    note_variable(name, stored)  # a cached task that reads its config runs again when the Variable changes
    if stored is None:
        if not path.exists():
            raise ConfigError(f"no Prefect Variable {name!r} and no file {path}: add the file (then `make variables`)")
        stored, source = read_config_file(path), f"the file {path} (no Variable {name!r} on this server)"
    elif not isinstance(stored, dict):
        raise ConfigError(f"Prefect Variable {name!r} holds a {type(stored).__name__}, expected a mapping: "
                          f"run `make variables` to store the YAML file's mapping")
    else:
        source = f"the Prefect Variable {name!r}"
        if path.exists() and read_config_file(path) != stored:  # edited since the last sync: say so, loudly
            _log("config %s: the Variable differs from %s, which was edited since the last sync; using the Variable "
                 "(`airnub variables sync` stores the file)", name, path, warning=True)
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    _log("config %s from %s%s", name, source, f"; from the flow's parameters: {', '.join(given)}" if given else "")
    return {**stored, **given}
