"""The `airnub` command: run a department's flows, a parameterised notebook, or a sweep from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from airnub_prefect_starter.core.data_validation import DataValidationError
from airnub_prefect_starter.core.notebook_parameters import NotebookParameterError, check_parameters
from airnub_prefect_starter.core.notebook_runner import NotebookExecutionError, NotebookPathError, check_cell_timeout
from airnub_prefect_starter.data_science.config_ds import load_settings
from airnub_prefect_starter.data_science.feature_engineering import TooFewRowsError
from airnub_prefect_starter.data_science.modeling.predict import ModelLoadError
from flows.common.config import ConfigError
from flows.departments import DEPARTMENTS, STAGES, UnknownNameError, stage_flow
from flows.scaffolding.cli import add_new_command


class UsageError(ValueError):
    """A command line that cannot run: a bad file or value, named in the message."""


class RunFailedError(RuntimeError):
    """A run that started and stopped on bad data, a missing earlier output or a file it cannot write."""


# what a stage raises on bad data or files, by design
RUN_FAILURES = (DataValidationError, TooFewRowsError, ModelLoadError, OSError)


def _describe(error: Exception) -> str:
    """The message of `error`; for an operating-system error, the path and the reason."""
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    return str(error)


def _read_yaml_mapping(path: Path, what: str) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: cannot read the {what} ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise UsageError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the {what} must be a mapping of parameter names, got {type(data).__name__}")
    return data


def _run(args: argparse.Namespace) -> int:
    flow = stage_flow(args.department, args.stage)
    try:
        result = flow()
    except RUN_FAILURES as error:  # the flow's log above holds the traceback
        raise RunFailedError(_describe(error)) from error
    print(json.dumps(result, indent=2, default=str))
    return 0


def _notebook(args: argparse.Namespace) -> int:
    from flows.common.notebook_flow import notebook_flow

    notebook = Path(args.path).resolve()
    if not notebook.is_file():
        raise UsageError(f"{args.path}: notebook not found")
    parameters = _read_yaml_mapping(Path(args.file), "parameters file") if args.file else {}
    parameters |= check_parameters(notebook, dict(args.parameter), from_text=True)
    run = notebook_flow(str(notebook), check_parameters(notebook, parameters), use_cache=not args.no_cache,
                        cell_timeout=args.timeout)
    if run.from_cache:
        print("served from the cache: code, parameters and inputs unchanged since that run (--no-cache to rerun)")
    print(f"values: {json.dumps(run.values)}\nexecuted notebook: {run.output_notebook}\nreport: {run.html}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from flows.common.sweep_flow import run_sweep

    grid = _read_yaml_mapping(Path(args.grid), "grid")
    runs = run_sweep(str(Path(args.path).resolve()), grid, use_cache=not args.no_cache, cell_timeout=args.timeout)
    for run in runs:
        print(f"{json.dumps(run.parameters)} -> {json.dumps(run.values)}{' (cache)' if run.from_cache else ''}")
    return 0


def _variables_sync(args: argparse.Namespace) -> int:
    from airnub_prefect_starter.data_science.config_ds import load_settings
    from flows.common.config import CONFIG_ROOT
    from flows.common.variables_sync import describe, sync_variables

    root = load_settings().paths.root
    print(describe(sync_variables(root / CONFIG_ROOT, dry_run=args.dry_run), root, args.dry_run))
    return 0


def _blocks_setup(args: argparse.Namespace) -> int:
    from flows.common.secrets import setup_secret_blocks

    for block, outcome in setup_secret_blocks().items():
        print(f"{block}: {outcome}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airnub", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a department's pipeline, or one of its stages")
    run.add_argument("department", help=f"department id ({', '.join(DEPARTMENTS)})")
    run.add_argument("--stage", help=f"run only this stage ({', '.join(STAGES)})")
    run.set_defaults(handler=_run)
    notebook = commands.add_parser("notebook", help="run a parameterised notebook in the project kernel")
    notebook.add_argument("path", help="the notebook (inside the notebooks folder, nbs/)")
    notebook.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                          help="a parameter, converted by its declared type; repeat for several")
    notebook.add_argument("-f", "--file", help="a YAML file of parameters (-p values override it)")
    sweep = commands.add_parser("sweep", help="run a notebook over a grid of parameters, in parallel")
    sweep.add_argument("path", help="the notebook (inside the notebooks folder, nbs/)")
    sweep.add_argument("--grid", required=True, help="a YAML mapping of parameter -> list of values")
    for command in (notebook, sweep):
        command.add_argument("--timeout", type=int, help="per-cell timeout in seconds (default from settings.ini)")
        command.add_argument("--no-cache", action="store_true", help="run even if an identical run is cached")
    notebook.set_defaults(handler=_notebook)
    sweep.set_defaults(handler=_sweep)
    add_new_command(commands)  # the same code as scripts/generators/add_*.py
    variables = commands.add_parser("variables", help="Prefect Variables from configs/variables/")
    variables_sync = variables.add_subparsers(dest="action", required=True).add_parser(
        "sync", help="validate every YAML file, then create or update its Variable")
    variables_sync.add_argument("--dry-run", action="store_true", help="list what would change; write nothing")
    variables_sync.set_defaults(handler=_variables_sync)
    blocks = commands.add_parser("blocks", help="Prefect Secret blocks from environment variables")
    blocks.add_subparsers(dest="action", required=True).add_parser(
        "setup", help="save a Secret block for each variable of flows/common/secrets.py that is set"
    ).set_defaults(handler=_blocks_setup)
    return parser


def _check_settings() -> None:
    """Refuse a settings.ini (or AIRNUB_* override) that cannot be read, before anything runs."""
    try:
        load_settings()
    except (ValueError, KeyError, FileNotFoundError) as error:  # load_settings' own messages name key and file
        raise UsageError(error.args[0]) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command != "new":  # scaffolding takes --root and reads no settings
            _check_settings()
        if getattr(args, "timeout", None) is not None:  # papermill reads -1 as no timeout; 0 would mean the default
            check_cell_timeout(args.timeout, "--timeout")
        return args.handler(args)
    except (UnknownNameError, UsageError, ConfigError, NotebookParameterError, NotebookPathError) as error:
        print(f"airnub: {error}", file=sys.stderr)
        return 2
    except (NotebookExecutionError, RunFailedError) as error:
        print(f"airnub: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
