"""The `airnub` command: run a department's flows or a parameterised notebook from the shell."""

from __future__ import annotations

import argparse
import json
import sys

import yaml

from flows.common.config import ConfigError
from flows.departments import DEPARTMENTS, STAGES, UnknownNameError, stage_flow


def _parameter_value(text: str) -> object:
    """A `-p NAME VALUE` value as YAML reads it: 3 -> int, 0.5 -> float, true -> bool, [1, 2] -> list."""
    return yaml.safe_load(text) if text.strip() else text


def _run(args: argparse.Namespace) -> int:
    flow = stage_flow(args.department, args.stage)
    result = flow()
    print(json.dumps(result, indent=2, default=str))
    return 0


def _notebook(args: argparse.Namespace) -> int:
    from flows.common.notebook_flow import notebook_flow

    parameters = {name: _parameter_value(value) for name, value in args.parameter}
    run = notebook_flow(args.path, parameters)
    print(f"executed notebook: {run.output_notebook}\nreport: {run.html}")
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
    notebook.add_argument("path", help="the notebook, relative to the project root (e.g. nbs/reports/...)")
    notebook.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                          help="a parameter to inject; repeat for several")
    notebook.set_defaults(handler=_notebook)
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (UnknownNameError, ConfigError) as error:
        print(f"airnub: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
