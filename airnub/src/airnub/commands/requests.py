"""The typed requests of the `airnub` command: one frozen dataclass per command kind, and their JSON form.

The command line checks a command once and makes one of these; it runs as it is here, or travels to the warm
runner as JSON (`to_wire`), where `from_wire` refuses, in one line, anything that is not a request of a known
kind with every field of the expected type: raw argv is never parsed there again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar


class RequestError(ValueError):
    """A request that is not one the command line makes; the message says which field and what was expected."""


@dataclass(frozen=True)
class RunRequest:
    """`airnub run DEPARTMENT [--stage S] [--plan] [--json]`: a department's pipeline, or one stage."""

    kind: ClassVar[str] = "run"
    prefect: ClassVar[bool] = True  # runs flows: through the warm runner when one serves
    department: str
    stage: str | None = None
    plan: bool = False  # list the steps, run nothing
    json: bool = False  # print the whole result as JSON


@dataclass(frozen=True)
class NotebookRequest:
    """`airnub notebook NB ...`, checked: the notebook's resolved path and its checked parameters."""

    kind: ClassVar[str] = "notebook"
    prefect: ClassVar[bool] = True
    notebook: str  # resolved, inside the notebooks folder
    parameters: dict = field(default_factory=dict)  # checked against the notebook's contract
    use_cache: bool = True
    timeout: int | None = None  # per-cell seconds; None: settings.ini's
    cwd: str | None = None  # the kernel's working folder (resolved); None: the notebook's
    inputs: list[str] = field(default_factory=list)  # files it reads that no parameter names (resolved)
    report_mode: bool = False
    json: bool = False
    output: str | None = None  # papermill's OUT (resolved): a copy of the executed notebook


@dataclass(frozen=True)
class SweepRequest:
    """`airnub sweep NB --grid G`, checked: every combination of the grid fits the notebook's contract."""

    kind: ClassVar[str] = "sweep"
    prefect: ClassVar[bool] = True
    notebook: str
    grid: dict = field(default_factory=dict)  # parameter -> the values to try
    use_cache: bool = True
    timeout: int | None = None


@dataclass(frozen=True)
class ParamsRequest:
    """`airnub params NB`: list a notebook's parameters."""

    kind: ClassVar[str] = "params"
    prefect: ClassVar[bool] = False
    notebook: str


@dataclass(frozen=True)
class VariablesSyncRequest:
    """`airnub variables sync [--dry-run]`."""

    kind: ClassVar[str] = "variables-sync"
    prefect: ClassVar[bool] = True
    dry_run: bool = False


@dataclass(frozen=True)
class BlocksSetupRequest:
    """`airnub blocks setup`."""

    kind: ClassVar[str] = "blocks-setup"
    prefect: ClassVar[bool] = True


@dataclass(frozen=True)
class ServerRequest:
    """`airnub server start|stop|status|env`."""

    kind: ClassVar[str] = "server"
    prefect: ClassVar[bool] = False
    action: str


@dataclass(frozen=True)
class NewRequest:
    """`airnub new department|category|task ...`: the generator's options, as the scaffolding's parser read them."""

    kind: ClassVar[str] = "new"
    prefect: ClassVar[bool] = False
    what: str  # department, category or task
    options: dict = field(default_factory=dict)


Request = (RunRequest | NotebookRequest | SweepRequest | ParamsRequest | VariablesSyncRequest | BlocksSetupRequest
           | ServerRequest | NewRequest)
KINDS = {kind.kind: kind for kind in (RunRequest, NotebookRequest, SweepRequest, ParamsRequest, VariablesSyncRequest,
                                      BlocksSetupRequest, ServerRequest, NewRequest)}
_FITS = {  # a field's declared type -> what a JSON value of it may be
    "str": lambda v: isinstance(v, str),
    "str | None": lambda v: v is None or isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "int | None": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
    "dict": lambda v: isinstance(v, dict),
    "list[str]": lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v),
}


def to_wire(request: Request) -> dict[str, Any]:
    """`request` as plain JSON data: its kind and its fields."""
    return {"kind": request.kind, **asdict(request)}


def from_wire(data: object) -> Request:
    """The request `data` (from `to_wire`) describes; RequestError naming the first field that does not fit."""
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise RequestError(f"not a command request: expected an object whose kind is one of {', '.join(KINDS)}")
    kind = KINDS[data["kind"]]
    declared = {item.name: item for item in fields(kind)}
    if unknown := sorted(set(data) - set(declared) - {"kind"}):
        raise RequestError(f"{kind.kind} request: unknown field {unknown[0]!r}")
    for name, item in declared.items():
        if name not in data:
            raise RequestError(f"{kind.kind} request: field {name!r} is missing")
        if not _FITS[item.type](data[name]):
            raise RequestError(f"{kind.kind} request: field {name!r} must be {item.type}, "
                               f"got {type(data[name]).__name__}")
    return kind(**{name: data[name] for name in declared})
