"""`make worker`: Prefect's process worker, stopped once however many times its stop signal arrives.

Prefect's worker takes a first SIGTERM as Ctrl-C (it stops its flow runs, then exits) and any later
one as "kill me now" (SIGKILL of itself), and its handlers run inside one another when signals come
close together. A stop often arrives twice within milliseconds: `kill` of the process group reaches
the worker and `make`, and make forwards its SIGTERM to the worker. Which of Prefect's paths ran then
depended on the scheduler: the worker stopped its run, or killed itself and left the run going alone,
or raised KeyboardInterrupt in the middle of its event loop and hung with the run going on to
Completed. Here a stop signal (SIGTERM, SIGINT) repeated within `DUPLICATE_SECONDS` is the same stop;
one that comes later still kills the worker at once, as in Prefect.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

DUPLICATE_SECONDS = 2.0  # a stop signal this soon after the first is the same stop, delivered again
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_once(stop: Callable[[int, FrameType | None], Any], print_fn: Callable[[str], Any] = print) -> None:
    """Handle SIGTERM and SIGINT: the first calls `stop`, a repeat within DUPLICATE_SECONDS is ignored, a later one
    kills this process (SIGKILL)."""
    arrivals, first = itertools.count(), []  # next() is one C call: exactly one handler, nested or not, gets 0

    def handler(signum: int, frame: FrameType | None) -> None:
        if next(arrivals) == 0:
            first.append(time.monotonic())
            print_fn(f"Received {signal.Signals(signum).name}: stopping the worker and its flow runs...")
            stop(signum, frame)
        elif first and time.monotonic() - first[0] > DUPLICATE_SECONDS:
            print_fn(f"Received {signal.Signals(signum).name} again: killing the worker (SIGKILL)...")
            os.kill(os.getpid(), signal.SIGKILL)

    for signum in STOP_SIGNALS:
        signal.signal(signum, handler)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _setup_stop_once(pid: int, process_name: str, print_fn: Callable[[str], Any]) -> None:
    """In place of Prefect's `setup_signal_handlers_worker`: stop as Ctrl-C stops the worker, once."""
    ctrl_c = signal.getsignal(signal.SIGINT)  # asyncio.run's: cancels the worker's main task, so it stops its runs
    stop_once(ctrl_c if callable(ctrl_c) else _interrupt, print_fn)


def main(argv: list[str] | None = None) -> None:
    """`prefect worker start ARGV` with `stop_once` as its signal handling."""
    import prefect.cli
    import prefect.utilities.processutils as processutils

    processutils.setup_signal_handlers_worker = _setup_stop_once  # prefect.cli.worker imports it when it starts
    sys.argv = ["prefect", "worker", "start", *(sys.argv[1:] if argv is None else argv)]
    prefect.cli.app()


if __name__ == "__main__":
    main()
