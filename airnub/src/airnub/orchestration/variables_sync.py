"""`airnub variables sync`: every YAML file in configs/variables/ becomes one Prefect Variable.

All files are read and validated before anything is written (each value also exactly as
Prefect's client validates it), so a broken file changes no Variable and `--dry-run` reports the
same refusal. The value stored is the file's mapping (a JSON object), never a string of JSON.
Syncing twice changes nothing: a Variable already holding the file's value is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from prefect.client.schemas.actions import VariableCreate
from prefect.settings import PREFECT_API_URL
from prefect.variables import Variable
from pydantic import ValidationError

from airnub.engine.secret_rules import secret_in
from airnub.orchestration.config import CONFIG_ROOT, ConfigError, name_of_file, read_config_file

ACTIONS = ("create", "update", "unchanged")
TAGS = ["airnub-config"]


class ServerUnreachableError(ConfigError):
    """The Prefect API the Variables live on does not answer; the message names its URL."""


def unreachable(error: httpx.TransportError, changed: str) -> ServerUnreachableError:
    """The one-line refusal for an API that does not answer, saying how to start one."""
    url = PREFECT_API_URL.value() or "the temporary Prefect server"
    return ServerUnreachableError(f"cannot reach the Prefect API at {url} ({type(error).__name__}: {error}); start a "
                                  f"server with `make serve` (or set PREFECT_API_URL to a running one); {changed}")


def stored_variable(name: str) -> object:
    """The value of the Variable `name` on the server (None when there is none); one line when it does not answer."""
    try:
        return Variable.get(name, default=None)
    except httpx.TransportError as error:
        raise unreachable(error, "nothing was changed") from error


@dataclass(frozen=True)
class PlannedVariable:
    """One config file and what the sync does with its Variable."""

    name: str  # the Prefect Variable
    file: Path  # the YAML file it comes from
    value: dict  # the file's mapping
    action: str  # one of ACTIONS


def read_config_tree(config_root: Path) -> dict[str, tuple[Path, dict]]:
    """`{variable name: (file, mapping)}` for every YAML file under `config_root`; the first bad file raises."""
    if not config_root.is_dir():
        raise ConfigError(f"{config_root}: no such folder; configs live in {CONFIG_ROOT}/ at the project root")
    configs: dict[str, tuple[Path, dict]] = {}
    for path in sorted([*config_root.rglob("*.yaml"), *config_root.rglob("*.yml")]):
        name = name_of_file(path, config_root)
        if name in configs:
            raise ConfigError(f"{path}: becomes Variable {name!r}, like {configs[name][0]}; keep one of them")
        configs[name] = (path, read_config_file(path))
        if reason := secret_in(configs[name][1]):  # the rule notebook parameters follow too
            raise ConfigError(f"{path}: it {reason}, and Variables are plain text; keep secrets in a Secret block "
                              "(SECRET_BLOCKS in airnub/src/airnub/orchestration/secrets.py, then `make blocks`)")
    return configs


def check_storable(name: str, path: Path, value: dict) -> None:
    """ConfigError naming `path` unless Prefect would accept `value` as the Variable `name` (its own validation)."""
    try:
        VariableCreate.model_validate({"name": name, "value": value, "tags": TAGS})
    except ValidationError as error:
        first = error.errors()[0]  # its message, never the value itself
        raise ConfigError(f"{path}: Prefect refuses it as Variable {name!r} ({first['loc'][0]}: {first['msg']})"
                          ) from None


def plan_sync(config_root: Path) -> list[PlannedVariable]:
    """What a sync of `config_root` would do, Variable by Variable (reads the API, writes nothing)."""
    configs = read_config_tree(config_root)
    for name, (path, value) in configs.items():  # every file, before the first read or write
        check_storable(name, path, value)
    plan = []
    for name, (path, value) in configs.items():
        current = Variable.get(name, default=None)
        action = "create" if current is None else "unchanged" if current == value else "update"
        plan.append(PlannedVariable(name, path, value, action))
    return plan


def sync_variables(config_root: Path, dry_run: bool = False) -> list[PlannedVariable]:
    """Validate every file under `config_root`, then create or update the Variables that differ."""
    try:
        plan = plan_sync(config_root)
    except httpx.TransportError as error:
        raise unreachable(error, "nothing was changed") from error
    written = []
    try:
        for item in [] if dry_run else [item for item in plan if item.action != "unchanged"]:
            Variable.set(item.name, item.value, tags=TAGS, overwrite=True)
            written.append(item.name)
    except httpx.TransportError as error:  # the server went away half-way: say what is stored
        raise unreachable(error, f"stored before it stopped answering: {', '.join(written) or 'none'}") from error
    return plan


def describe(plan: list[PlannedVariable], root: Path, dry_run: bool) -> str:
    """One line per Variable (`created`, or `would create` on a dry run), then the counts."""
    done = {"create": "created", "update": "updated", "unchanged": "unchanged"}
    verb = {action: (f"would {action}" if dry_run and action != "unchanged" else done[action]) for action in ACTIONS}
    lines = [f"{verb[item.action]:>14}  {item.name}  ({item.file.relative_to(root)})" for item in plan]
    counts = ", ".join(f"{sum(item.action == action for item in plan)} {verb[action]}" for action in ACTIONS)
    return "\n".join([*lines, f"{len(plan)} Variable(s): {counts}"])
