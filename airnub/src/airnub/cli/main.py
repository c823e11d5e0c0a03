"""The `airnub` command: run a department's flows, a parameterised notebook, or a sweep from the shell.

One path for a command: the command line is parsed (`parser`) and checked once into a typed request (`checks`);
the request runs here (`airnub.commands.execution`), or, for a command that runs flows while the project's
warm runner serves, travels there as JSON (`warm_runner_protocol.forward`) and runs the same way.
"""

from __future__ import annotations

import os
import sys

from airnub.cli import papermill_flags
from airnub.cli.checks import checked
from airnub.cli.parser import build_parser, parse  # noqa: F401  build_parser: the grammar, for docs and tests
from airnub.commands.outcomes import UsageError, ended
from airnub.commands.requests import Request
from airnub.engine.settings import load_settings
from airnub.orchestration.exports import export_stale
from airnub.services import prefect_server as server

# Nothing above imports Prefect, papermill or pandas: help, refusals, `params`, dry runs and cache
# hits answer before any of them loads. Commands that run flows import them in their handlers.


def _check_settings() -> None:
    """Refuse a settings.ini (or AIRNUB_* override) that cannot be read, before anything runs."""
    try:
        load_settings()
    except (ValueError, KeyError, FileNotFoundError) as error:  # load_settings' own messages name key and file
        raise UsageError(error.args[0]) from None


def request_of(argv: list[str]) -> Request | None:
    """`argv` parsed and checked once into its request; None when the command was answered while checking."""
    args = parse(argv)
    if args.command not in ("new", "server", "params"):  # scaffolding takes --root; these read no settings
        _check_settings()
    if args.command in ("run", "notebook", "sweep"):  # the code a run uses is the notebooks' code
        export_stale(load_settings().paths.root)
    return checked(args)


def _dispatch(request: Request, forward: bool) -> int:
    """Run `request` here, or (`forward`, a command that runs flows) in the warm runner when one serves."""
    from airnub.commands.execution import execute as execute_request

    if forward and request.prefect:
        target = server.resolve(server.server_config())
        if target.auth:  # the project's own server: its credential travels with the command (and to the runner)
            os.environ["PREFECT_API_AUTH_STRING"] = target.auth
        if target.socket is not None:
            from airnub.services.warm_runner_protocol import forward as run_in_runner

            return run_in_runner(target.socket, request)
        if target.api_url:
            os.environ["PREFECT_API_URL"] = target.api_url
    return execute_request(request)


def execute(argv: list[str], forward: bool = False) -> int:
    """Run `airnub argv` here; with `forward`, a command that runs flows goes to the warm runner when one serves."""
    if argv[:1] == ["settings"]:  # the Makefile asks it before `make setup`: no check of the project, no runner
        from airnub.cli.settings_command import answer

        return answer(parse(argv))
    def run() -> int:
        request = request_of(argv)
        return 0 if request is None else _dispatch(request, forward)

    return ended(run, refusals=(papermill_flags.CommandLineError,))


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
