"""A plan before a run: every step of a flow's tree, and whether it would run (and why) or is served from the cache.

The plan evaluates the flows' own bodies (the undecorated `flow.fn`), with their subflows and tasks swapped for
planners in the body's globals: a subflow's body is planned in turn, a cached task (`cache.cached`) and
the notebook task answer from their `RunCache` verdicts, as a run would decide, and nothing runs, no kernel starts
and no flow run is created. A step that would run makes its outputs unknown: its return value is `Unknown`, its files
are marked as produced, and a later step reading either says "would run: input X is produced by step Y, which runs".
Other tasks say what a run would do with `planned(check)`; a task with no check would run (it is not cached).
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect.flows import Flow
from prefect.logging import get_run_logger
from prefect.tasks import Task

SERVED = "served from the cache"
_planner: contextvars.ContextVar[Planner | None] = contextvars.ContextVar("airnub_planner", default=None)


@dataclass
class Verdict:
    """What a run would do with one call of a task: run it (and why), or answer `result` without running it."""
    runs: bool
    reason: str  # one line: `would run: module a.b changed`, `served from the cache`, `nothing new in the inbox`
    result: Any = None  # the answer when it does not run
    reads: list[Path] = field(default_factory=list)  # files it reads (its last run's record, and its arguments)
    writes: list[Path] = field(default_factory=list)  # files it writes


@dataclass
class Step:
    """One step of a plan: where it is (the flows above it), its name, and its verdict."""
    flows: tuple[str, ...]  # flow names from the planned flow down to the step's own flow
    name: str
    verdict: Verdict

    def line(self, root: Path) -> str:
        """`stage / category / step: reason`, the planned flow itself left out."""
        return f"{' / '.join([*self.flows[1:], self.name])}: {self.verdict.reason}"


class Unknown:
    """A value that a step which would run produces: known only after it ran."""

    def __init__(self, step: str):
        self.step = step

    def __getitem__(self, _: object) -> Unknown:
        return self

    def __getattr__(self, name: str) -> Unknown:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __iter__(self):
        return iter(())

    def __repr__(self) -> str:
        return f"<what {self.step} produces>"


def plans_with(verdict: Callable[..., Verdict]) -> Callable:
    """Decorate a task function (under `@task`): `verdict(*its arguments)` says what a run would do with a call."""

    def mark(function: Callable) -> Callable:
        function.airnub_plan = verdict
        return function

    return mark


def planned(check: Callable[..., str | None]) -> Callable:
    """Decorate a task function (under `@task`): `check(*its arguments)` is a plan's reason to run it (None: none)."""
    return plans_with(lambda *args, **kwargs: Verdict(True, f"would run: {reason}")
                      if (reason := check(*args, **kwargs)) else Verdict(False, "nothing to do: nothing new"))


def follows_its_inputs(*_: Any, **__: Any) -> str | None:
    """A `planned` check for a task that passes on what steps before it made: nothing to do when those are known."""
    return None


def planning() -> bool:
    """True while a plan evaluates the flow bodies (a flow body may skip what only a run needs)."""
    return _planner.get() is not None


def _values(value: Any) -> Iterable[Any]:
    """`value`, and what a list, tuple or mapping holds, element by element."""
    yield value
    if isinstance(value, list | tuple | set):
        for item in value:
            yield from _values(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _values(item)


class Planner:
    """The steps planned so far and the files that steps which would run produce."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.produced: dict[Path, str] = {}  # file -> the step that would run and write it
        self.flows: list[str] = []

    def _made_by(self, path: Path) -> str | None:
        path = Path(path).resolve()
        return next((step for made, step in self.produced.items()
                     if made == path or made.is_relative_to(path) or path.is_relative_to(made)), None)

    def _waits_for(self, arguments: dict, reads: list[Path], unknown_only: bool = False) -> str | None:
        """Why a step would run because a step before it runs: an unknown argument, or a file that step writes."""
        for name, value in arguments.items():
            for item in _values(value):
                if isinstance(item, Unknown):
                    return f"input {name} is produced by step {item.step}, which runs"
                if not unknown_only and isinstance(item, Path) and (step := self._made_by(item)):
                    return f"input {name} ({item.name}) is produced by step {step}, which runs"
        for path in [] if unknown_only else reads:
            if step := self._made_by(path):
                return f"it reads {Path(path).name}, which step {step} writes, which runs"
        return None

    def _verdict(self, task: Task, arguments: dict, args: tuple, kwargs: dict) -> Verdict:
        """Its own reason to run first (`never ran before`, `module a.b changed`), else a step before it that runs."""
        if waits := self._waits_for(arguments, [], unknown_only=True):  # no key can be taken: an input is unknown
            return Verdict(True, f"would run: {waits}")
        check = getattr(task.fn, "airnub_plan", None)
        verdict = check(*args, **kwargs) if check else Verdict(True, "would run: it is not cached")
        if not verdict.runs and (waits := self._waits_for(arguments, verdict.reads)):
            return Verdict(True, f"would run: {waits}", reads=verdict.reads, writes=verdict.writes)
        return verdict

    def task(self, task: Task, args: tuple, kwargs: dict) -> Any:
        """Plan one call of `task`: its verdict as a step, and the value a flow body sees (`Unknown` when it runs)."""
        arguments = inspect.signature(task.fn).bind(*args, **kwargs)
        arguments.apply_defaults()
        name = task.name
        if task.task_run_name and isinstance(task.task_run_name, str):
            try:
                name = task.task_run_name.format(**arguments.arguments)
            except (KeyError, AttributeError, IndexError):
                pass
        verdict = self._verdict(task, arguments.arguments, args, kwargs)
        self.steps.append(Step(tuple(self.flows), name, verdict))
        if not verdict.runs:
            return verdict.result
        self.produced.update({Path(path).resolve(): name for path in verdict.writes})
        return Unknown(name)

    def flow(self, flow: Flow, args: tuple, kwargs: dict) -> Any:
        """Plan a flow: its undecorated body, with the subflows and tasks it calls swapped for planners."""
        function = inspect.unwrap(flow.fn)  # below @without_heartbeats and @one_run_at_a_time: no lock, no runs
        body = types.FunctionType(function.__code__, _planning_globals(function.__globals__), function.__name__,
                                  function.__defaults__, function.__closure__)
        body.__kwdefaults__ = function.__kwdefaults__
        self.flows.append(flow.name)
        try:
            return body(*args, **kwargs)
        finally:
            self.flows.pop()


class _Future:
    def __init__(self, value: Any):
        self.value = value

    def result(self, *_: Any, **__: Any) -> Any:
        return self.value

    def wait(self, *_: Any, **__: Any) -> None:
        return None


class _Futures(list):
    def result(self, *_: Any, **__: Any) -> list:
        return [future.result() for future in self]

    def wait(self, *_: Any, **__: Any) -> None:
        return None


class _Planned:
    """A flow or task as a flow body being planned sees it: calling it plans it."""

    def __init__(self, target: Flow | Task):
        self.target = target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("return_state", None)
        planner = _planner.get()
        if isinstance(self.target, Flow):
            return planner.flow(self.target, args, kwargs)
        return planner.task(self.target, args, kwargs)

    def with_options(self, **_: Any) -> _Planned:
        return self

    def submit(self, *args: Any, **kwargs: Any) -> _Future:
        return _Future(self(*args, **kwargs))

    def map(self, *iterables: Any, **kwargs: Any) -> _Futures:
        return _Futures(_Future(self(*values, **kwargs)) for values in zip(*iterables, strict=False))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


def _quiet_logger(*_: Any, **__: Any) -> logging.Logger:
    return logging.getLogger("airnub.plan")


def _planning_globals(namespace: dict) -> dict:
    """A flow body's globals with its flows and tasks as planners, and a logger that works outside a run."""
    swapped = {name: _Planned(value) for name, value in namespace.items() if isinstance(value, Flow | Task)}
    if namespace.get("get_run_logger") is get_run_logger:
        swapped["get_run_logger"] = _quiet_logger
    return {**namespace, **swapped}


def plan_flow(flow: Flow, **parameters: Any) -> tuple[list[Step], Any]:
    """Every step of `flow`'s tree with its verdict, and what the flow would return (`Unknown` where a step runs)."""
    planner = Planner()
    token = _planner.set(planner)
    try:
        result = planner.flow(flow, (), parameters)
    finally:
        _planner.reset(token)
    return planner.steps, result


def describe(flow_name: str, steps: list[Step], root: Path) -> str:
    """The plan in lines: a summary, then one line per step."""
    running = sum(step.verdict.runs for step in steps)
    head = (f"plan of {flow_name}: {running} of {len(steps)} steps would run" if running
            else f"plan of {flow_name}: nothing to do ({len(steps)} steps, none would run)")
    return "\n".join([head, *(f"  {step.line(root)}" for step in steps)])


def known(value: Any) -> Any:
    """`value` with what no step produced (`Unknown`) as None: a result to print or return."""
    if isinstance(value, Unknown):
        return None
    if isinstance(value, dict):
        return {key: known(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [known(item) for item in value]
    return value
