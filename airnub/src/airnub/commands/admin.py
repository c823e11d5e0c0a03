"""`airnub variables sync`, `airnub blocks setup`, `airnub server` and `airnub new`: the project's Prefect setup."""

from __future__ import annotations

import argparse
import shlex
import sys

from airnub.commands.outcomes import UsageError
from airnub.commands.requests import BlocksSetupRequest, NewRequest, ServerRequest, VariablesSyncRequest
from airnub.engine.settings import load_settings
from airnub.services import prefect_server as server


def sync_variables(request: VariablesSyncRequest) -> int:
    """Check every config file, then create or update its Variable (with `dry_run`, list what would change)."""
    from airnub.orchestration.config import CONFIG_ROOT, ConfigError
    from airnub.orchestration.config_check import check_configs
    from airnub.orchestration.variables_sync import describe, stored_variable, sync_variables

    root = load_settings().paths.root
    try:  # the check `airnub run` makes; a real sync replaces the Variables that differ, so it checks the files
        check_configs(root, stored_variable if request.dry_run else None)
        print(describe(sync_variables(root / CONFIG_ROOT, dry_run=request.dry_run), root, request.dry_run))
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return 0


def setup_blocks(_: BlocksSetupRequest) -> int:
    """Save a Secret block for each secret variable that is set; one line per block."""
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


def serve(request: ServerRequest) -> int:
    """Start, stop or describe the project's Prefect server; `env`: its shell exports, for `eval`."""
    config = server.server_config()
    if request.action == "start":
        server.start(config)
    elif request.action == "stop":
        server.stop(config)
    elif request.action == "env":  # for `eval` in the Makefile's team-path targets: nothing but exports on stdout
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


def scaffold(request: NewRequest) -> int:
    """`airnub new`: the generator of `request.what`, with the options its parser read."""
    from airnub.scaffolding.command import run

    return run(request.what, argparse.Namespace(**request.options))
