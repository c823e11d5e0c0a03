"""The `airnub` command: run a department's flows, a parameterised notebook, or a sweep from the shell."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

from airnub.cli import faults
from airnub.cli import papermill_flags as papermill_command
from airnub.cli.settings_command import add_settings_command
from airnub.engine.notebook_parameters import (
    NotebookParameterError,
    check_grid,
    command_line_parameters,
    read_contract,
)
from airnub.engine.parameter_types import excerpt
from airnub.engine.run_cache import RunCache
from airnub.engine.run_records import (
    NotebookExecutionError,
    NotebookPathError,
    NotebookRun,
    cached_run,
    confine,
    run_key,
)
from airnub.engine.settings import Settings, load_settings
from airnub.orchestration.departments import STAGES, UnknownNameError, check_names, departments, stage_flow
from airnub.orchestration.exports import ExportError, export_stale
from airnub.scaffolding.command import add_new_command
from airnub.services import prefect_server as server

# Nothing above imports Prefect, papermill or pandas: help, refusals, `params`, dry runs and cache
# hits answer before any of them loads. Commands that run flows import them in their handlers.


class UsageError(ValueError):
    """A command line that cannot run: a bad file or value, named in the message."""


class RunFailedError(RuntimeError):
    """A run that started and stopped on bad data, a missing earlier output or a file it cannot write."""


def _describe(error: Exception) -> str:
    """The message of `error`; for an operating-system error, the path and the reason."""
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    return str(error)


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


def _flow_run_line(state) -> str:
    """Where the UI shows this flow run, when the server has a UI this machine can reach."""
    from prefect.settings import get_current_settings

    ui_url = get_current_settings().ui_url
    run_id = state.state_details.flow_run_id
    return f" (flow run: {ui_url.rstrip('/')}/runs/flow-run/{run_id})" if ui_url and run_id else ""


# --- airnub run -----------------------------------------------------------------------------------


def _written_since(folders: list[Path], since: float) -> list[Path]:
    """Files under `folders` written at or after `since` (wall-clock seconds), hidden files and folders aside."""
    found = []
    for folder in folders:
        for path in folder.rglob("*") if folder.is_dir() else []:
            hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
            if not hidden and path.is_file() and path.stat().st_mtime >= since:
                found.append(path)
    return sorted(set(found))


def _reports_in(result) -> list[Path]:
    """The HTML reports a flow's result names (nested mappings and lists included)."""
    if isinstance(result, dict):
        return [path for value in result.values() for path in _reports_in(value)]
    if isinstance(result, list):
        return [path for value in result for path in _reports_in(value)]
    return [Path(result)] if isinstance(result, str) and result.endswith(".html") else []


def _run(args: argparse.Namespace) -> int:
    from airnub.engine.errors import InputError
    from airnub.orchestration.cache import all_variables, read_variable, variables_read_at_once
    from airnub.orchestration.config import ConfigError
    from airnub.orchestration.config_check import check_configs
    from airnub.orchestration.plan import describe, plan_flow
    from airnub.orchestration.plan_flow import answer_without_running, attach_plan

    flow, started, wall = stage_flow(args.department, args.stage), time.monotonic(), time.time()
    try:  # every config and the Variables a run reads instead, before any flow run starts; then the plan, which
        with variables_read_at_once(all_variables()):  # evaluates the flows' bodies: their errors are the run's
            check_configs(load_settings().paths.root, read_variable)
            steps, planned = plan_flow(flow)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    except (InputError, OSError) as error:
        raise RunFailedError(_describe(error)) from error
    if args.plan:
        print(describe(flow.name, steps, load_settings().paths.root))
        return 0
    if any(step.verdict.runs for step in steps):
        state = flow(return_state=True)
        attach_plan(state, flow.name, steps)  # the plan it ran from and the picture, on the run the CLI prints
    else:  # nothing to do: one flow run, with the plan as its artifact, and no nested flow runs
        state = answer_without_running(flow.name, steps, planned)
    try:
        result = state.result()
    except ConfigError as error:
        raise UsageError(str(error)) from None
    except (InputError, OSError) as error:  # bad input, by design: a pipeline's own errors subclass InputError
        raise RunFailedError(_describe(error)) from error  # the flow's log above holds the traceback
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    paths = load_settings().paths
    files = _written_since([paths.data_root, paths.models, paths.reports], wall)
    shown = [str(p.relative_to(paths.root)) if p.is_relative_to(paths.root) else str(p) for p in files]
    print(f"{flow.name}: {state.name.lower()} in {time.monotonic() - started:.1f} s{_flow_run_line(state)}")
    print(f"written: {', '.join(shown[:8])}{f' and {len(shown) - 8} more' if len(shown) > 8 else ''}" if shown
          else "written: nothing (every step was served from the cache: its inputs and code are unchanged)")
    for report in sorted({*(p for p in files if p.suffix == ".html"), *_reports_in(result)},
                         key=lambda p: (p.parent, p.name.endswith(".full.html"), p.name)):
        print(f"{'report with code' if report.name.endswith('.full.html') else 'report'}: {report}")
    print("the whole result: add --json")
    return 0


# --- airnub notebook / params / sweep --------------------------------------------------------------


def _check_timeout(seconds: int | None) -> None:
    """Papermill reads -1 as no timeout at all, and 0 once meant the default: both are refused by name."""
    if seconds is not None and seconds <= 0:
        raise UsageError(f"--timeout must be a positive whole number of seconds, got '{seconds}'")


def _notebook_path(path: str, settings: Settings) -> Path:
    notebook = Path(path).resolve()
    if not notebook.is_file():
        raise UsageError(f"{path}: notebook not found")
    return confine(notebook, settings.paths.notebooks)


def _print_run(run: NotebookRun, as_json: bool, seconds: float, flow_run: str = "",
               output: Path | None = None) -> None:
    if output is not None:  # papermill's OUT: a copy of the executed notebook
        papermill_command.deliver(Path(run.output_notebook), output)
    if as_json:
        print(json.dumps({**run.__dict__, "seconds": round(seconds, 3)}, indent=2, default=str))
        return
    if run.from_cache:
        print(f"{run.notebook.name}: {run.reason} (checked in {seconds:.1f} s); --no-cache runs it again")
    else:
        print(f"{run.notebook.name}: completed in {seconds:.1f} s{flow_run}\n{run.reason}")
    print(f"values: {json.dumps(run.values)}\nexecuted notebook: {run.output_notebook}\nreport: {run.html}")
    if output is not None:
        print(f"output notebook: {output}")
    if run.full_html:
        print(f"report with code: {run.full_html}")


def _prepare_notebook(args: argparse.Namespace) -> int | None:
    """Check everything a notebook run needs; answer a cache hit or a dry run here, before anything starts."""
    settings, started = load_settings(), time.monotonic()
    notebook = _notebook_path(args.path, settings)
    _check_timeout(args.timeout)
    args.notebook, args.output_notebook = notebook, papermill_command.output_path(args.output)
    injected = papermill_command.injected_paths(args.path, args.output, vars(args))  # whatever the contract says
    args.parameters = {**injected, **command_line_parameters(
        notebook, encoded=args.base64, files=args.file, yaml_texts=args.yaml, text=args.parameter, raw=args.raw)}
    if args.prepare_only:
        written = papermill_command.prepare_only(notebook, args.output_notebook, args.parameters,
                                                 settings.kernel_name, args.report_mode)
        _say_kernel(args, settings)
        print(f"{notebook.name}: parameters injected, not run: {written}")
        return 0
    if args.cwd and not Path(args.cwd).is_dir():
        raise UsageError(f"--cwd {args.cwd}: not a folder")
    args.cwd = str(Path(args.cwd).resolve()) if args.cwd else None
    args.inputs = [str(Path(p).resolve()) for p in args.input]
    if missing := [p for p in args.input if not Path(p).exists()]:
        raise UsageError(f"--input {missing[0]}: no such file")
    hit, reason = (None, "ran: asked to run again") if args.no_cache else cached_run(
        RunCache(settings.paths.cache), *run_key(notebook, args.parameters, settings.kernel_name, args.report_mode,
                                                 Path(args.cwd or notebook.parent)))
    if hit and not args.plan:
        _say_kernel(args, settings)
        _print_run(hit, args.json, time.monotonic() - started, output=args.output_notebook)
        return 0
    if args.plan:  # the notebook's one step, as `airnub run DEPT --plan` lists a pipeline's
        print(f"{notebook.name}: {'served from the cache' if hit else reason.replace('ran: ', 'would run: ', 1)}")
        return 0
    if args.dry_run:
        _say_kernel(args, settings)
        print(f"would run {notebook} in kernel {settings.kernel_name} with parameters "
              f"{json.dumps(args.parameters, default=str)} ({reason.removeprefix('ran: ')})")
        return 0
    return None


def _say_kernel(args: argparse.Namespace, settings: Settings) -> None:
    """Once per command (where it ends: here, or in the runner's handler): what runs instead of `-k`'s kernel."""
    if note := papermill_command.kernel_note(args.kernel, settings.kernel_name):
        print(note, file=sys.stderr)


def _notebook(args: argparse.Namespace) -> int:
    from airnub.orchestration.notebook_flow import notebook_flow

    started = time.monotonic()
    _say_kernel(args, load_settings())
    state = notebook_flow(str(args.notebook), args.parameters, use_cache=not args.no_cache, cell_timeout=args.timeout,
                          cwd=args.cwd, inputs=args.inputs, report_mode=args.report_mode, return_state=True)
    _print_run(state.result(), args.json, time.monotonic() - started, _flow_run_line(state),
               output=args.output_notebook)
    return 0


def _params(args: argparse.Namespace) -> int:
    notebook = Path(args.path)
    if not notebook.is_file():
        raise UsageError(f"{args.path}: notebook not found")
    contract = read_contract(notebook)
    if contract is None:
        print(f"{notebook.name}: no cell tagged 'parameters'; it takes no parameters")
        return 0
    print(f"Parameters of {notebook.name} (set with -p NAME VALUE, -r NAME TEXT, -y YAML or -f FILE.yaml):")
    names, types = (max((len(text) for text in texts), default=0) for texts in (contract, (p.type for p in
                                                                                        contract.values())))
    for name, declared in contract.items():
        line = f"  {name:<{names}}  {declared.type:<{types}}  default {excerpt(declared.default)}"
        notes = [declared.help] if declared.help else []
        if declared.secret:
            notes.append("(its name looks secret: values are refused; `# not-secret` on its line allows them)")
        print("  ".join([line, *notes]))
    return 0


def _prepare_sweep(args: argparse.Namespace) -> int | None:
    settings = load_settings()
    args.notebook = _notebook_path(args.path, settings)
    _check_timeout(args.timeout)
    args.grid_values = _read_yaml_mapping(Path(args.grid), "grid")
    check_grid(args.notebook, args.grid_values, args.grid)  # before a flow run records the grid as its parameter
    return None


def _sweep(args: argparse.Namespace) -> int:
    from airnub.orchestration.sweep_flow import run_sweep

    runs = run_sweep(str(args.notebook), args.grid_values, use_cache=not args.no_cache, cell_timeout=args.timeout)
    for run in runs:
        print(f"{json.dumps(run.parameters)} -> {json.dumps(run.values)}{' (cache)' if run.from_cache else ''}")
    return 0


# --- airnub variables / blocks / server ------------------------------------------------------------


def _variables_sync(args: argparse.Namespace) -> int:
    from airnub.orchestration.config import CONFIG_ROOT, ConfigError
    from airnub.orchestration.config_check import check_configs
    from airnub.orchestration.variables_sync import describe, stored_variable, sync_variables

    root = load_settings().paths.root
    try:  # the check `airnub run` makes; a real sync replaces the Variables that differ, so it checks the files
        check_configs(root, stored_variable if args.dry_run else None)
        print(describe(sync_variables(root / CONFIG_ROOT, dry_run=args.dry_run), root, args.dry_run))
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return 0


def _blocks_setup(args: argparse.Namespace) -> int:
    import httpx

    from airnub.orchestration.secrets import setup_secret_blocks
    from airnub.orchestration.variables_sync import unreachable

    try:
        outcomes = setup_secret_blocks()
    except httpx.TransportError as error:
        raise UsageError(str(unreachable(error, "no block was saved"))) from None
    for block, outcome in outcomes.items():
        print(f"{block}: {outcome}")
    return 0


def _server(args: argparse.Namespace) -> int:
    config = server.server_config()
    if args.action == "start":
        server.start(config)
    elif args.action == "stop":
        server.stop(config)
    elif args.action == "env":  # for `eval` in the Makefile's team-path targets: nothing but exports on stdout
        target = server.resolve(config, say=lambda line: print(line, file=sys.stderr))
        if target.api_url is None:
            raise server.ServerError("the project's Prefect server is not running and server_autostart is false; "
                                     "`airnub server start` starts it (or set PREFECT_API_URL)")
        print(f"export PREFECT_API_URL={shlex.quote(target.api_url)}")
        if target.auth:
            print(f"export PREFECT_API_AUTH_STRING={shlex.quote(target.auth)}")
    else:
        print(f"airnub: the project's Prefect server is {server.status(config)}")
    return 0


# --- the parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airnub", description=__doc__, epilog=(
        "Commands that run flows use the Prefect server at PREFECT_API_URL, else the project's own server "
        "(started on first use; `airnub server stop` stops it)."))
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a department's pipeline, or one of its stages")
    run.add_argument("department", help=f"department id ({', '.join(departments()) or 'none yet'})")
    run.add_argument("--stage", help=f"run only this stage ({', '.join(STAGES)})")
    run.add_argument("--plan", action="store_true",
                     help="list every step: would run (and why) or served from the cache; run nothing")
    run.set_defaults(handler=_run, prepare=_check_names, prefect=True)
    notebook = commands.add_parser("notebook", help="run a parameterised notebook in the project kernel", epilog=(
        "papermill's command line works too (IN OUT, -k, --execution-timeout, --prepare-only, --inject-paths, ...): "
        "docs/notebook-runs.md, 'Coming from papermill'"))
    notebook.add_argument("path", help="the notebook (inside the notebooks folder, nbs/)")
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
    notebook.add_argument("--cwd", help="the kernel's working folder (default: the notebook's folder, as in Jupyter)")
    notebook.add_argument("--input", action="append", default=[], metavar="PATH",
                          help="a file the notebook reads that no parameter names (a change to it means a new run); "
                               "repeat for several, or declare them in the notebook: # airnub-inputs: a.csv, b.csv")
    notebook.add_argument("--report-mode", action="store_true",
                          help="the HTML report without code (NAME.html); NAME.full.html beside it shows everything")
    notebook.add_argument("--dry-run", action="store_true", help="check the notebook and parameters; run nothing")
    notebook.add_argument("--plan", action="store_true", help="say whether it would run (and why); run nothing")
    notebook.set_defaults(handler=_notebook, prepare=_prepare_notebook, prefect=True)
    params = commands.add_parser("params", help="list a notebook's parameters: type, default and help")
    params.add_argument("path", help="the notebook")
    params.set_defaults(handler=_params)
    sweep = commands.add_parser("sweep", help="run a notebook over a grid of parameters, in parallel")
    sweep.add_argument("path", help="the notebook (inside the notebooks folder, nbs/)")
    sweep.add_argument("--grid", required=True, help="a YAML mapping of parameter -> list of values")
    sweep.set_defaults(handler=_sweep, prepare=_prepare_sweep, prefect=True)
    for command in (notebook, sweep):
        command.add_argument("--timeout", *(("--execution-timeout",) if command is notebook else ()), type=int,
                             help="per-cell timeout in seconds (default from settings.ini)")
        command.add_argument("--no-cache", action="store_true", help="run even if an identical run is cached")
    for command in (run, notebook):
        command.add_argument("--json", action="store_true", help="print the whole result as JSON")
    add_new_command(commands)  # the same code as scripts/generators/add_*.py
    add_settings_command(commands)
    variables = commands.add_parser("variables", help="Prefect Variables from configs/variables/")
    variables_sync = variables.add_subparsers(dest="action", required=True).add_parser(
        "sync", help="validate every YAML file, then create or update its Variable")
    variables_sync.add_argument("--dry-run", action="store_true", help="list what would change; write nothing")
    variables_sync.set_defaults(handler=_variables_sync, prefect=True)
    blocks = commands.add_parser("blocks", help="Prefect Secret blocks from environment variables")
    blocks.add_subparsers(dest="action", required=True).add_parser(
        "setup", help="save a Secret block for each variable of airnub/src/airnub/orchestration/secrets.py that is set"
    ).set_defaults(handler=_blocks_setup, prefect=True)
    serve = commands.add_parser("server", help="the project's Prefect server: start, stop or status (env: the "
                                "shell exports of PREFECT_API_URL and its credential, for `eval`)")
    serve.add_argument("action", choices=("start", "stop", "status", "env"))
    serve.set_defaults(handler=_server)
    return parser


def _check_names(args: argparse.Namespace) -> None:
    """Refuse an unknown department or stage before anything is imported (the handler imports the flow)."""
    check_names(args.department, args.stage)


def _check_settings() -> None:
    """Refuse a settings.ini (or AIRNUB_* override) that cannot be read, before anything runs."""
    try:
        load_settings()
    except (ValueError, KeyError, FileNotFoundError) as error:  # load_settings' own messages name key and file
        raise UsageError(error.args[0]) from None


def _without_heartbeats(args: argparse.Namespace) -> int:
    """Run the handler's flows without heartbeats: the command watches its own run (Ctrl-C, kill -9 are handled).

    A heartbeat lets a server notice a flow run whose process died; a worker's runs keep theirs.
    """
    from airnub.orchestration.subflows import without_heartbeats

    faults.one_line_faults()
    if getattr(args, "plan", False):  # a plan starts no flow run: no settings copy to make (0.3 s)
        return args.handler(args)
    with without_heartbeats():
        return args.handler(args)


def _parse(argv: list[str]) -> argparse.Namespace:
    """The command line; for `notebook`, -p/-r pairs are taken first, so that a VALUE may begin with `-`."""
    if argv[:1] != ["notebook"]:
        return build_parser().parse_args(argv)
    rest, text, raw = papermill_command.split_pairs(argv)
    args = build_parser().parse_args(rest)
    args.parameter, args.raw = [*args.parameter, *text], [*args.raw, *raw]
    return args


def execute(argv: list[str], forward: bool = False) -> int:
    """Run `airnub argv` here; with `forward`, a command that runs flows goes to the warm runner when one serves."""
    try:
        args = _parse(argv)
        if args.command not in ("new", "server", "params", "settings"):  # new: --root; the rest check what they read
            _check_settings()
        if args.command in ("run", "notebook", "sweep"):  # the code a run uses is the notebooks' code
            export_stale(load_settings().paths.root)
        if getattr(args, "prepare", None) and (answered := args.prepare(args)) is not None:
            return answered
        if forward and getattr(args, "prefect", False):
            target = server.resolve(server.server_config())
            if target.auth:  # the project's own server: its credential travels with the command (and to the runner)
                os.environ["PREFECT_API_AUTH_STRING"] = target.auth
            if target.socket is not None:
                from airnub.services.warm_runner_protocol import forward as run_in_runner

                return run_in_runner(target.socket, argv)
            if target.api_url:
                os.environ["PREFECT_API_URL"] = target.api_url
        if getattr(args, "prefect", False):
            return _without_heartbeats(args)
        return args.handler(args)
    except (UnknownNameError, UsageError, NotebookParameterError, NotebookPathError, server.ServerError,
            papermill_command.CommandLineError) as error:
        print("\n".join(f"airnub: {line}" for line in str(error).splitlines()), file=sys.stderr)  # one per problem
        return 2
    except (NotebookExecutionError, RunFailedError, ExportError) as error:
        print(f"airnub: {error}", file=sys.stderr)
        return getattr(error, "exit_code", 1)  # a dead kernel: 138, as papermill's command
    except KeyboardInterrupt:
        print("airnub: interrupted; outputs of earlier runs are as they were", file=sys.stderr)
        return 130
    except Exception as error:
        if (cause := faults.unreachable(error)) is None:
            raise
        print(f"airnub: {faults.server_gone(cause, os.environ.get('PREFECT_API_URL'))}", file=sys.stderr)
        faults.drop_unsent()  # the command ends now, not after Prefect's retries for each log and event it holds
        return 1


def main(argv: list[str] | None = None) -> int:
    """The console script: Prefect's settings for this project, then the command (through the runner).

    Whatever the command starts ends with it (a kernel, a daemon a notebook forked): `sweep_at_exit`.
    """
    from airnub.services.processes import sweep_at_exit

    sweep_at_exit()
    os.environ.update(server.client_environment())
    return execute(sys.argv[1:] if argv is None else argv, forward=True)


if __name__ == "__main__":
    sys.exit(main())
