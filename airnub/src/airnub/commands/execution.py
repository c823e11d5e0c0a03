"""The execution of a typed request: what the command line calls in its own process, and the warm runner in a child.

A request that runs flows runs without heartbeats: the command watches its own run (Ctrl-C, kill -9 are handled);
a heartbeat lets a server notice a flow run whose process died, and a worker's runs keep theirs.
"""

from __future__ import annotations

from airnub.commands import admin, faults, notebooks
from airnub.commands.outcomes import ended
from airnub.commands.pipelines import run_pipeline
from airnub.commands.requests import Request

HANDLERS = {"run": run_pipeline, "notebook": notebooks.run_notebook_command, "sweep": notebooks.run_sweep_command,
            "params": notebooks.list_parameters, "variables-sync": admin.sync_variables,
            "blocks-setup": admin.setup_blocks, "server": admin.serve, "new": admin.scaffold}


def _run(request: Request) -> int:
    """Call the handler of `request`'s kind; flows run without heartbeats (a plan starts no flow run)."""
    handler = HANDLERS[request.kind]
    if not request.prefect:
        return handler(request)
    faults.one_line_faults()
    if getattr(request, "plan", False):  # a plan starts no flow run: no settings copy to make (0.3 s)
        return handler(request)
    from airnub.orchestration.subflows import without_heartbeats

    with without_heartbeats():
        return handler(request)


def execute(request: Request) -> int:
    """Run `request` here; its exit code, every refusal and failure said in one line (`outcomes`)."""
    return ended(lambda: _run(request))
