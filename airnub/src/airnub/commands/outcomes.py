"""How a command ends: its exit code, and one line on stderr for each problem (never a traceback for bad input).

Exit codes: 0 done; 2 refused (a bad file, value or name; nothing ran); 1 a run that started and failed (a
notebook's cell, bad data, a missing earlier output); 138 a notebook whose kernel died (papermill's code);
130 interrupted. The command line's checks and a request's execution end the same way, here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from airnub.commands import faults
from airnub.commands.requests import RequestError
from airnub.engine.notebook_parameters import NotebookParameterError
from airnub.engine.run_records import NotebookExecutionError, NotebookPathError
from airnub.orchestration.departments import UnknownNameError
from airnub.orchestration.exports import ExportError
from airnub.services.prefect_server import ServerError


class UsageError(ValueError):
    """A command line that cannot run: a bad file or value, named in the message."""


class RunFailedError(RuntimeError):
    """A run that started and stopped on bad data, a missing earlier output or a file it cannot write."""


REFUSALS = (UnknownNameError, UsageError, NotebookParameterError, NotebookPathError, ServerError, RequestError)
FAILURES = (NotebookExecutionError, RunFailedError, ExportError)


def describe(error: Exception) -> str:
    """The message of `error`; for an operating-system error, the path and the reason."""
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    return str(error)


def ended(call: Callable[[], int], refusals: tuple[type[Exception], ...] = ()) -> int:
    """`call()`'s exit code; a refusal (`REFUSALS`, `refusals`), a failure or an interrupt ends in one line each."""
    try:
        return call()
    except (*REFUSALS, *refusals) as error:
        print("\n".join(f"airnub: {line}" for line in str(error).splitlines()), file=sys.stderr)  # one per problem
        return 2
    except FAILURES as error:
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
