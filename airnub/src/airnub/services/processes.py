"""What a command starts ends with it: Linux's parent-death signal, child subreapers and a sweep of descendants.

A notebook may start a process that outlives its kernel (`setsid sleep 300 &`, a daemon that forks twice): it
keeps the caller's stdout open (`airnub notebook ... | cat` would hang) and goes on running unseen. A command
process marks itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so whatever its descendants leave
orphaned is reparented to it rather than to init, and when the command ends it stops every descendant left
(`sweep_at_exit`): SIGTERM, a short wait, SIGKILL. A warm runner's child also asks to be sent SIGTERM when the runner
dies (prctl PR_SET_PDEATHSIG), so kill -9 of the runner stops its runs. Linux only (ctypes on libc); elsewhere
these are no-ops.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
SWEEP_GRACE_SECONDS = 3.0  # what is left of a command has this long to stop on SIGTERM before SIGKILL
SPARED: set[int] = set()  # processes this command started to outlive it (`spare`), and theirs


def _prctl(option: int, value: int) -> bool:
    """prctl(option, value) on Linux; False elsewhere or when refused."""
    if not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    return False


def become_subreaper() -> bool:
    """Make this process the one that orphaned descendants are reparented to (instead of init)."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(parent: int, signum: int = signal.SIGTERM) -> None:
    """In a forked child: receive `signum` when `parent` dies; exit now when it died already (before the prctl)."""
    _prctl(PR_SET_PDEATHSIG, signum)
    if sys.platform.startswith("linux") and os.getppid() != parent:
        os._exit(128 + signum)


def _parents() -> dict[int, int]:
    """pid -> parent pid of every live (not zombie) process in /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z":
                    parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(root: int | None = None, parents: dict[int, int] | None = None) -> set[int]:
    """The live processes whose parent chain leads to `root` (this process by default)."""
    root, parents = root or os.getpid(), parents if parents is not None else _parents()
    found: set[int] = set()
    for pid in parents:
        chain, current = [], pid
        while current in parents and current not in found and current != root and len(chain) < 4096:
            chain.append(current)
            current = parents[current]
        if current == root or current in found:
            found.update(chain)
    return found


def descendants_except(kept: set[int]) -> set[int]:
    """This process's descendants but `kept` and theirs (a runner's running children; processes spared)."""
    parents = _parents()
    kept = kept | {pid for root in kept for pid in descendants(root, parents)}
    return descendants(parents=parents) - kept


def spare(pid: int | None) -> None:
    """Leave `pid` and its descendants running when this command ends: started to outlive it (the project's server)."""
    if pid:
        SPARED.add(pid)


def reap() -> None:
    """Collect every child of this process that ended (orphans reparented to a subreaper end here)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def signal_all(pids: set[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def sweep(grace: float = SWEEP_GRACE_SECONDS) -> None:
    """Stop every descendant of this process: SIGTERM, up to `grace` seconds, then SIGKILL; reap them."""
    if not sys.platform.startswith("linux") or not (left := descendants_except(SPARED)):
        return
    signal_all(left, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while (left := descendants_except(SPARED)) and time.monotonic() < deadline:
        reap()
        time.sleep(0.05)
    for _ in range(3):  # a process may fork while it is being killed: look again
        if not left:
            break
        signal_all(left, signal.SIGKILL)
        time.sleep(0.05)
        reap()
        left = descendants_except(SPARED)
    reap()


def sweep_at_exit() -> None:
    """Make this process a child subreaper that stops every descendant left when it exits (returns, raises, Ctrl-C).

    SIGTERM unwinds like Ctrl-C (KeyboardInterrupt), so the sweep runs then too. Registered early, the sweep runs
    after the exit handlers registered later (Prefect's, which stop its temporary server and ship the last logs).
    """
    global _registered
    if _registered:
        return
    _registered = True
    become_subreaper()
    if threading.current_thread() is threading.main_thread():  # only there can a signal be handled
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    atexit.register(sweep)


_registered = False
