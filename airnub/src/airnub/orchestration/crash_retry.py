"""A flow run that crashed under its worker (the worker or its machine died) runs again once, on any worker of the pool.

Running a crashed pipeline again is safe and cheap: every output is published by a rename (nothing half-written is
ever visible) and the run cache serves the steps that finished, so only what did not finish is redone. That is what
"where the outputs allow it" means here. `make deploy` makes (or remakes) one Prefect automation per work pool: when a
flow run of the pool enters Crashed on its first run (the event's `prefect.run-count` is 1), the same flow run is
scheduled again (AwaitingRetry) and the next free worker takes it. A crash of that second run has run count 2 and is
left Crashed: a run that brings its machine down every time is not retried forever.
"""

from __future__ import annotations

import argparse

RETRIED_RUN_COUNT = "1"  # a crash during a flow run's first run is retried; later ones are left Crashed


def automation_name(pool: str) -> str:
    """The name of the pool's crash automation (its one identity: `make deploy` replaces it by this name)."""
    return f"airnub: run crashed flow runs of {pool} again once"


def crash_retry(pool: str):
    """The automation that schedules a crashed first run of a flow run of `pool` again."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture

    trigger = EventTrigger(expect={"prefect.flow-run.Crashed"}, posture=Posture.Reactive, threshold=1,
                           match={"prefect.resource.id": "prefect.flow-run.*", "prefect.run-count": RETRIED_RUN_COUNT},
                           match_related={"prefect.resource.role": "work-pool", "prefect.resource.name": pool})
    action = ChangeFlowRunState(state=StateType.SCHEDULED, name="AwaitingRetry",
                                message="Crashed on its first run: run again once (airnub crash automation)")
    return Automation(name=automation_name(pool), description=__doc__.split("\n")[0], trigger=trigger,
                      actions=[action])


def ensure_crash_retry(pool: str) -> str:
    """Make the pool's crash automation, replacing one of the same name; a line saying so."""
    from prefect.automations import Automation

    try:
        Automation.read(name=automation_name(pool)).delete()
    except ValueError:  # none yet
        pass
    crash_retry(pool).create()
    return f"deploy: a flow run of {pool} that crashes on its first run is run again once ('{automation_name(pool)}')"


def main(argv: list[str] | None = None) -> None:
    """Make the crash automation of a work pool (`make deploy` runs this)."""
    parser = argparse.ArgumentParser(prog="python -m airnub.orchestration.crash_retry", description=main.__doc__)
    parser.add_argument("--pool", required=True, help="the work pool whose crashed flow runs are run again once")
    print(ensure_crash_retry(parser.parse_args(argv).pool))


if __name__ == "__main__":
    main()
