"""The `airnub` command: run a department's flows or a parameterised notebook from the shell."""

from __future__ import annotations

import argparse
import json
import sys

import yaml

from flows.departments import DEPARTMENTS, STAGES, UnknownNameError, stage_flow
from flows.scaffolding.cli import add_new_command


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
    add_new_command(commands)  # the same code as scripts/generators/add_*.py
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UnknownNameError as error:
        print(f"airnub: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
