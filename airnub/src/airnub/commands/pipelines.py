"""`airnub run`: a department's pipeline (or one stage), checked and planned before any flow run, then run."""

from __future__ import annotations

import json
import time
from pathlib import Path

from airnub.commands.outcomes import RunFailedError, UsageError, describe
from airnub.commands.requests import RunRequest
from airnub.engine.settings import load_settings
from airnub.orchestration.departments import stage_flow


def flow_run_line(state) -> str:
    """Where the UI shows this flow run, when the server has a UI this machine can reach."""
    from prefect.settings import get_current_settings

    ui_url = get_current_settings().ui_url
    run_id = state.state_details.flow_run_id
    return f" (flow run: {ui_url.rstrip('/')}/runs/flow-run/{run_id})" if ui_url and run_id else ""


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


def _plan(flow) -> tuple[list, dict]:
    """Every config and the Variables a run reads instead, checked before any flow run starts; then the plan."""
    from airnub.engine.errors import InputError
    from airnub.orchestration.cache import all_variables, read_variable, variables_read_at_once
    from airnub.orchestration.config import ConfigError
    from airnub.orchestration.config_check import check_configs
    from airnub.orchestration.plan import plan_flow

    try:  # the plan evaluates the flows' bodies: their errors are the run's
        with variables_read_at_once(all_variables()):
            check_configs(load_settings().paths.root, read_variable)
            return plan_flow(flow)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    except (InputError, OSError) as error:
        raise RunFailedError(describe(error)) from error


def _result(state):
    """The flow run's result; a config error is a refusal, bad input a failed run (the flow's log holds the trace)."""
    from airnub.engine.errors import InputError
    from airnub.orchestration.config import ConfigError

    try:
        return state.result()
    except ConfigError as error:
        raise UsageError(str(error)) from None
    except (InputError, OSError) as error:  # bad input, by design: a pipeline's own errors subclass InputError
        raise RunFailedError(describe(error)) from error


NO_STEPS = "written: nothing (the department has no steps yet: `airnub new task` adds one)"
ALL_SERVED = "written: nothing (every step was served from the cache: its inputs and code are unchanged)"


def _say_written(flow_name: str, state, result, started: float, wall: float, steps: list) -> None:
    """What the run did, in a few lines: its state and time, the files it wrote, its reports."""
    paths = load_settings().paths
    files = _written_since([paths.data_root, paths.models, paths.reports], wall)
    shown = [str(p.relative_to(paths.root)) if p.is_relative_to(paths.root) else str(p) for p in files]
    print(f"{flow_name}: {state.name.lower()} in {time.monotonic() - started:.1f} s{flow_run_line(state)}")
    print(f"written: {', '.join(shown[:8])}{f' and {len(shown) - 8} more' if len(shown) > 8 else ''}" if shown
          else ALL_SERVED if steps else NO_STEPS)
    for report in sorted({*(p for p in files if p.suffix == ".html"), *_reports_in(result)},
                         key=lambda p: (p.parent, p.name.endswith(".full.html"), p.name)):
        print(f"{'report with code' if report.name.endswith('.full.html') else 'report'}: {report}")
    print("the whole result: add --json")


def run_pipeline(request: RunRequest) -> int:
    """Check, plan and run a department's pipeline (or one stage); print what it did."""
    from airnub.orchestration.plan import describe as describe_plan
    from airnub.orchestration.plan_flow import answer_without_running, attach_plan

    flow, started, wall = stage_flow(request.department, request.stage), time.monotonic(), time.time()
    steps, planned = _plan(flow)
    if request.plan:
        print(describe_plan(flow.name, steps, load_settings().paths.root))
        return 0
    if any(step.verdict.runs for step in steps):
        state = flow(return_state=True)
        attach_plan(state, flow.name, steps)  # the plan it ran from and the picture, on the run the CLI prints
    else:  # nothing to do: one flow run, with the plan as its artifact, and no nested flow runs
        state = answer_without_running(flow.name, steps, planned)
    result = _result(state)
    if request.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        _say_written(flow.name, state, result, started, wall, steps)
    return 0
