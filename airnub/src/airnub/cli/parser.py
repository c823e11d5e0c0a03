"""The `airnub` command line's grammar: one argparse subcommand per command kind (checked after, in `checks`)."""

from __future__ import annotations

import argparse

from airnub.cli import papermill_flags
from airnub.cli.settings_command import add_settings_command
from airnub.orchestration.departments import STAGES, departments
from airnub.scaffolding.command import add_new_command

DESCRIPTION = "The `airnub` command: run a department's flows, a parameterised notebook, or a sweep from the shell."
EPILOG = ("Commands that run flows use the Prefect server at PREFECT_API_URL, else the project's own server "
          "(started on first use; `airnub server stop` stops it).")


def _add_run(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    run = commands.add_parser("run", help="run a department's pipeline, or one of its stages")
    run.add_argument("department", help=f"department id ({', '.join(departments()) or 'none yet'})")
    run.add_argument("--stage", help=f"run only this stage ({', '.join(STAGES)})")
    run.add_argument("--plan", action="store_true",
                     help="list every step: would run (and why) or served from the cache; run nothing")
    return run


def _add_papermill_flags(notebook: argparse.ArgumentParser) -> None:
    """papermill's own flags, as `airnub notebook` takes them (`papermill_flags` says what each becomes)."""
    notebook.add_argument("output", nargs="?", help="papermill's OUT: a copy of the executed notebook goes there too")
    notebook.add_argument("-k", "--kernel", help="papermill's -k: the project's kernel runs whatever it names")
    notebook.add_argument("--prepare-only", action="store_true",
                          help="write OUT with the parameters injected; run nothing (papermill's --prepare-only)")
    for flag in ("--inject-paths", "--inject-input-path", "--inject-output-path"):
        notebook.add_argument(flag, action="store_true", help=f"papermill's {flag}: PAPERMILL_*_PATH parameters")
    notebook.add_argument("-p", "--parameter", "--parameters", nargs=2, action="append", default=[],
                          metavar=("NAME", "VALUE"), help="a parameter, read as papermill's -p reads it (True, False, "
                          "None, a number, else text), refined by its declared type; repeat for several")
    notebook.add_argument("-r", "--raw", "--parameters_raw", nargs=2, action="append", default=[],
                          metavar=("NAME", "VALUE"), help="a parameter given as text, never converted")
    notebook.add_argument("-b", "--base64", "--parameters_base64", action="append", default=[],
                          help="parameters as base64 of a YAML string, merged first (papermill's -b)")
    notebook.add_argument("-f", "--file", "--parameters_file", action="append", default=[],
                          help="a YAML file of parameters; merged as papermill does: -b, -f, -y, -p, then -r win")
    notebook.add_argument("-y", "--yaml", "--parameters_yaml", action="append", default=[],
                          help="a YAML string of parameters, e.g. 'alpha: 0.1'")


def _add_notebook(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    notebook = commands.add_parser("notebook", help="run a parameterised notebook in the project kernel", epilog=(
        "papermill's command line works too (IN OUT, -k, --execution-timeout, --prepare-only, --inject-paths, ...): "
        "docs/notebook-runs.md, 'Coming from papermill'"))
    notebook.add_argument("path", help="the notebook (inside the notebooks folder, nbs/)")
    _add_papermill_flags(notebook)
    notebook.add_argument("--cwd", help="the kernel's working folder (default: the notebook's folder, as in Jupyter)")
    notebook.add_argument("--input", action="append", default=[], metavar="PATH",
                          help="a file the notebook reads that no parameter names (a change to it means a new run); "
                               "repeat for several, or declare them in the notebook: # airnub-inputs: a.csv, b.csv")
    notebook.add_argument("--report-mode", action="store_true",
                          help="the HTML report without code (NAME.html); NAME.full.html beside it shows everything")
    notebook.add_argument("--dry-run", action="store_true", help="check the notebook and parameters; run nothing")
    notebook.add_argument("--plan", action="store_true", help="say whether it would run (and why); run nothing")
    return notebook


def _add_notebooks(commands: argparse._SubParsersAction) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """`notebook`, `params` and `sweep`, with the options `notebook` and `sweep` share."""
    notebook = _add_notebook(commands)
    commands.add_parser("params", help="list a notebook's parameters: type, default and help").add_argument(
        "path", help="the notebook")
    sweep = commands.add_parser("sweep", help="run a notebook over a grid of parameters, in parallel")
    sweep.add_argument("path", help="the notebook (inside the notebooks folder, nbs/)")
    sweep.add_argument("--grid", required=True, help="a YAML mapping of parameter -> list of values")
    for command in (notebook, sweep):
        command.add_argument("--timeout", *(("--execution-timeout",) if command is notebook else ()), type=int,
                             help="per-cell timeout in seconds (default from settings.ini)")
        command.add_argument("--no-cache", action="store_true", help="run even if an identical run is cached")
    return notebook, sweep


def _add_admin(commands: argparse._SubParsersAction) -> None:
    """`variables sync`, `blocks setup` and `server`: the project's Prefect setup."""
    variables = commands.add_parser("variables", help="Prefect Variables from configs/variables/")
    variables.add_subparsers(dest="action", required=True).add_parser(
        "sync", help="validate every YAML file, then create or update its Variable"
    ).add_argument("--dry-run", action="store_true", help="list what would change; write nothing")
    blocks = commands.add_parser("blocks", help="Prefect Secret blocks from environment variables")
    blocks.add_subparsers(dest="action", required=True).add_parser(
        "setup", help="save a Secret block for each variable of airnub/src/airnub/orchestration/secrets.py that is set")
    serve = commands.add_parser("server", help="the project's Prefect server: start, stop or status (env: the "
                                "shell exports of PREFECT_API_URL and its credential, for `eval`)")
    serve.add_argument("action", choices=("start", "stop", "status", "env"))


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every subcommand and its options."""
    parser = argparse.ArgumentParser(prog="airnub", description=DESCRIPTION, epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True)
    run = _add_run(commands)
    notebook, _ = _add_notebooks(commands)
    for command in (run, notebook):
        command.add_argument("--json", action="store_true", help="print the whole result as JSON")
    add_new_command(commands)  # the same code as scripts/generators/add_*.py
    add_settings_command(commands)  # what the Makefile asks: `airnub settings get KEY`
    _add_admin(commands)
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line; for `notebook`, -p/-r pairs are taken first, so that a VALUE may begin with `-`."""
    if argv[:1] != ["notebook"]:
        return build_parser().parse_args(argv)
    rest, text, raw = papermill_flags.split_pairs(argv)
    args = build_parser().parse_args(rest)
    args.parameter, args.raw = [*args.parameter, *text], [*args.raw, *raw]
    return args
