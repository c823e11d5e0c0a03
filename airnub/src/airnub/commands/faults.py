"""Faults a command ends with in one line: a Prefect server that stopped answering, a full disk.

A flow run whose Prefect server dies keeps running (tasks change state in the process), but every later
call to the API fails: Prefect retries each one (`PREFECT_CLIENT_MAX_RETRIES`, lowered for the project's
commands in `server.client_environment`), logs each failure with its traceback, and at exit waits for the
logs and events it holds for the server, reconnecting for each. The command recognises the connection
error at its top (`unreachable`), says so in one line, and drops what Prefect still holds for the server
(`drop_unsent`). Tracebacks of these faults are left out of the console log (`one_line_faults`); Prefect's
API log (the UI) keeps them when it is there to receive them.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
from contextlib import suppress

# Loggers that report, one line per queued log or event, that the server cannot be reached.
_SENDERS = ("prefect.events.clients", "prefect._internal.concurrency", "EventsWorker", "APILogWorker")


def _to(error: BaseException, api_url: str | None) -> bool:
    """True when the request that failed with `error` went to `api_url` (not to a site a flow of the project reads)."""
    try:
        return not api_url or str(error.request.url).startswith(api_url.rstrip("/"))
    except (AttributeError, RuntimeError):  # an error raised before httpx recorded its request
        return True


def unreachable(error: BaseException | None) -> BaseException | None:
    """The connection error behind `error` (raised from or during it) when the Prefect API stopped answering."""
    if "httpx" not in sys.modules:  # nothing talked to a server
        return None
    import httpx

    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, httpx.TransportError) and _to(error, os.environ.get("PREFECT_API_URL")):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def server_gone(error: BaseException, api_url: str | None) -> str:
    """The line for a command whose Prefect server at `api_url` stopped answering with `error`."""
    where = f"the Prefect server at {api_url}" if api_url else "Prefect's temporary server"
    return (f"{where} stopped answering ({type(error).__name__}: {error}); what the run wrote before is kept; "
            "`airnub server status` says whether the project's server runs (`airnub server start` starts it)")


def drop_unsent() -> None:
    """Drop the logs and events Prefect holds for a server that is gone, and its complaints about them."""
    logging.raiseExceptions = False  # Prefect's log shipper writes "--- Error logging to API ---" otherwise
    for name in _SENDERS:
        logging.getLogger(name).disabled = True
    if (services := sys.modules.get("prefect._internal.concurrency.services")) is None:
        return
    for service in list(services._QueueServiceBase._instances.values()):
        stopping = False
        with suppress(queue.Empty, ValueError):
            while True:
                stopping |= service._queue.get_nowait() is None  # None: the service's signal to end, kept
                service._queue.task_done()
        if stopping:
            service._queue.put_nowait(None)


def _one_line(error: BaseException) -> bool:
    """True for a fault the command names in one line: its traceback tells the user nothing more."""
    runner = sys.modules.get("airnub.engine.notebook_execution")
    return unreachable(error) is not None or (runner is not None and isinstance(error, runner.NoSpaceError))


class _WithoutFaultTracebacks(logging.Filter):
    """A console log record of a one-line fault keeps its message and loses its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and _one_line(record.exc_info[1]):
            record.exc_info, record.exc_text = None, None
        return True


def one_line_faults() -> None:
    """Leave the tracebacks of one-line faults out of the console log handlers (stream handlers) Prefect sets up."""
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()  # `import prefect` alone sets up nothing: the first flow import would, after this
    loggers = [logging.getLogger(), *(logger for logger in logging.Logger.manager.loggerDict.values()
                                      if isinstance(logger, logging.Logger))]
    for handler in {handler for logger in loggers for handler in logger.handlers}:
        if isinstance(handler, logging.StreamHandler) and not any(
                isinstance(existing, _WithoutFaultTracebacks) for existing in handler.filters):
            handler.addFilter(_WithoutFaultTracebacks())
