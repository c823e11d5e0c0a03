"""`make worker`'s signal handling (services/worker.py), with real signals to a real process: a stop that arrives
twice at once (`kill` of the group, and make forwarding it) stops once; a stop asked for again later kills at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from airnub.testing.helpers import PROJECT_ROOT

# A process with `stop_once` installed: `stop` prints a line per call; it runs until it is killed.
PROCESS = """
import sys, time
from airnub.services import worker
worker.DUPLICATE_SECONDS = float(sys.argv[1])
worker.stop_once(lambda signum, frame: print("stop", signum, flush=True), print_fn=lambda text: None)
print("ready", flush=True)
while True:
    time.sleep(0.01)
"""


def start(duplicate_seconds: float) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", PROCESS, str(duplicate_seconds)], cwd=PROJECT_ROOT, text=True,
                               stdout=subprocess.PIPE)
    assert process.stdout.readline() == "ready\n"
    return process


def stops(process: subprocess.Popen) -> list[str]:
    """The `stop` calls the process printed, once it has ended."""
    process.wait(timeout=10)
    return process.stdout.read().splitlines()


def test_a_stop_delivered_several_times_at_once_stops_once():
    process = start(duplicate_seconds=30)
    try:
        for signum in (signal.SIGTERM, signal.SIGTERM, signal.SIGINT, signal.SIGTERM):
            process.send_signal(signum)
        time.sleep(0.5)
        assert process.poll() is None, "a repeated stop killed the process"
    finally:
        process.kill()
    assert len(stops(process)) == 1, "one stop, whichever signal was handled first"


def test_a_stop_asked_for_again_later_kills_at_once():
    process = start(duplicate_seconds=0.2)
    process.send_signal(signal.SIGINT)
    time.sleep(0.6)
    process.send_signal(signal.SIGTERM)
    assert stops(process) == [f"stop {signal.SIGINT.value}"]
    assert process.returncode == -signal.SIGKILL
