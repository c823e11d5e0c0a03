"""A parsed command line checked once into a typed request (`airnub.commands.requests`), or answered here.

Every file, value and name is checked before anything starts: a bad one is refused in one line. A notebook run
that nothing has changed since, a dry run, a plan of one notebook and `--prepare-only` are answered here too,
before Prefect, papermill or pandas load. What is left is a request that runs as it is, here or in the runner.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from airnub.cli import papermill_flags
from airnub.commands.notebooks import print_run
from airnub.commands.outcomes import UsageError
from airnub.commands.requests import (
    BlocksSetupRequest,
    NewRequest,
    NotebookRequest,
    ParamsRequest,
    Request,
    RunRequest,
    ServerRequest,
    SweepRequest,
    VariablesSyncRequest,
)
from airnub.engine.notebook_parameters import check_grid, command_line_parameters
from airnub.engine.run_cache import RunCache, path_roots
from airnub.engine.run_records import cached_run, confine, run_key
from airnub.engine.settings import Settings, load_settings
from airnub.orchestration.departments import check_names


def _read_yaml_mapping(path: Path, what: str) -> dict:
    import yaml

    from airnub.orchestration.safe_yaml import load_yaml  # aliases that expand without bound are refused

    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: cannot read the {what} ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise UsageError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the {what} must be a mapping of parameter names, got {type(data).__name__}")
    return data


def _check_timeout(seconds: int | None) -> None:
    """Papermill reads -1 as no timeout at all, and 0 once meant the default: both are refused by name."""
    if seconds is not None and seconds <= 0:
        raise UsageError(f"--timeout must be a positive whole number of seconds, got '{seconds}'")


def _notebook_path(path: str, settings: Settings) -> Path:
    notebook = Path(path).resolve()
    if not notebook.is_file():
        raise UsageError(f"{path}: notebook not found")
    return confine(notebook, settings.paths.notebooks)


def _say_kernel(args: argparse.Namespace, settings: Settings) -> None:
    """Once per command: what runs instead of the kernel `-k` names."""
    if note := papermill_flags.kernel_note(args.kernel, settings.kernel_name):
        print(note, file=sys.stderr)


def _notebook_request(args: argparse.Namespace, settings: Settings) -> NotebookRequest:
    """The notebook, its parameters (checked against its contract), folder and inputs, as one request."""
    notebook = _notebook_path(args.path, settings)
    _check_timeout(args.timeout)
    output = papermill_flags.output_path(args.output)
    injected = papermill_flags.injected_paths(args.path, args.output, vars(args))  # whatever the contract says
    parameters = {**injected, **command_line_parameters(
        notebook, encoded=args.base64, files=args.file, yaml_texts=args.yaml, text=args.parameter, raw=args.raw)}
    if args.cwd and not Path(args.cwd).is_dir() and not args.prepare_only:
        raise UsageError(f"--cwd {args.cwd}: not a folder")
    if missing := [p for p in args.input if not Path(p).exists()] if not args.prepare_only else []:
        raise UsageError(f"--input {missing[0]}: no such file")
    return NotebookRequest(str(notebook), parameters, not args.no_cache, args.timeout,
                           str(Path(args.cwd).resolve()) if args.cwd else None,
                           [str(Path(p).resolve()) for p in args.input], args.report_mode, args.json,
                           str(output) if output else None)


def _answered(args: argparse.Namespace, request: NotebookRequest, settings: Settings, started: float) -> bool:
    """Answer --prepare-only, a cache hit, --plan or --dry-run here (True); False when the notebook is to run."""
    notebook, output = Path(request.notebook), Path(request.output) if request.output else None
    if args.prepare_only:
        written = papermill_flags.prepare_only(notebook, output, request.parameters, settings.kernel_name,
                                               request.report_mode)
        print(f"{notebook.name}: parameters injected, not run: {written}")
        return True
    hit, reason = (None, "ran: asked to run again") if not request.use_cache else cached_run(
        RunCache.for_paths(settings.paths), *run_key(notebook, request.parameters, settings.kernel_name,
                                                     request.report_mode, Path(request.cwd or notebook.parent),
                                                     roots=path_roots(settings.paths)))
    if hit and not args.plan:
        print_run(hit, request.json, time.monotonic() - started, output=output)
    elif args.plan:  # the notebook's one step, as `airnub run DEPT --plan` lists a pipeline's
        print(f"{notebook.name}: {'served from the cache' if hit else reason.replace('ran: ', 'would run: ', 1)}")
    elif args.dry_run:
        print(f"would run {notebook} in kernel {settings.kernel_name} with parameters "
              f"{json.dumps(request.parameters, default=str)} ({reason.removeprefix('ran: ')})")
    return bool(hit or args.plan or args.dry_run)


def check_notebook(args: argparse.Namespace) -> NotebookRequest | None:
    """The checked request of `airnub notebook`, or None when it was answered here."""
    settings, started = load_settings(), time.monotonic()
    request = _notebook_request(args, settings)
    if not args.plan:
        _say_kernel(args, settings)
    return None if _answered(args, request, settings, started) else request


def check_sweep(args: argparse.Namespace) -> SweepRequest:
    """The checked request of `airnub sweep`: every combination of the grid fits the notebook's contract."""
    notebook = _notebook_path(args.path, load_settings())
    _check_timeout(args.timeout)
    grid = _read_yaml_mapping(Path(args.grid), "grid")
    check_grid(notebook, grid, args.grid)  # before a flow run records the grid as its parameter
    return SweepRequest(str(notebook), grid, not args.no_cache, args.timeout)


def check_params(args: argparse.Namespace) -> ParamsRequest:
    if not Path(args.path).is_file():
        raise UsageError(f"{args.path}: notebook not found")
    return ParamsRequest(args.path)


def check_run(args: argparse.Namespace) -> RunRequest:
    """Refuse an unknown department or stage before anything is imported (the handler imports the flow)."""
    check_names(args.department, args.stage)
    return RunRequest(args.department, args.stage, args.plan, args.json)


CHECKS = {
    "run": check_run, "notebook": check_notebook, "sweep": check_sweep, "params": check_params,
    "variables": lambda args: VariablesSyncRequest(args.dry_run), "blocks": lambda args: BlocksSetupRequest(),
    "server": lambda args: ServerRequest(args.action),
    "new": lambda args: NewRequest(args.kind, {k: v for k, v in vars(args).items() if k not in ("command", "handler")}),
}


def checked(args: argparse.Namespace) -> Request | None:
    """The typed request of a parsed command line, checked; None when the command was answered here."""
    return CHECKS[args.command](args)
