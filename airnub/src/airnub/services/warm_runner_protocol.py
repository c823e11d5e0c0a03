"""The wire between a command and the warm runner: the command's side (`forward`) and the runner's (`Arriving`).

A command (`forward`) sends one line of JSON: its typed request (`airnub.commands.requests`, checked by the
command line already), working folder and environment; once the runner answers that it read it, its stdin,
stdout and stderr (SCM_RIGHTS); lines after them are signals it received (Ctrl-C). The runner never parses a
command line: a line that is not a valid request of a known kind is answered {"refused": "one line"} and
dropped. The runner reads each connection without blocking, inside its one select loop (`Arriving`),
so a client that sends slowly or never delays no one: it is dropped after REQUEST_SECONDS. Whatever a
client sends, the runner keeps only the first three fds of the stdio message and closes every other
(more fds, fds with the request or on later chunks, a request refused), and a request that is not the
expected shape (deep nesting, bad JSON, wrong types) is refused, never a crash. The runner answers
{"started": pid} when it started the command and {"exit": code} when it ended; a command that gets no
answer in TAKE_SECONDS says so in one line, and it sends nothing (its environment, its stdio) to a
socket served by another user.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from airnub.commands.requests import Request, RequestError, from_wire, to_wire

REQUEST_LIMIT = 4 << 20  # bytes: the request, working directory and environment
REQUEST_SECONDS = 10  # a command has this long to send its whole request
STANDARD_STREAMS = 3  # stdin, stdout, stderr
TAKE_SECONDS = 15  # a command waits this long for the runner to take its request
FD_ROOM = socket.CMSG_SPACE(16 * array("i").itemsize)  # fds a message may carry; the kernel closes any beyond


@dataclass
class Envelope:
    """A command to run: its typed request, working folder, environment, stdio fds, and signals it got before."""

    command: Request
    cwd: str
    env: dict[str, str]
    fds: list[int]
    signals: list[int] = field(default_factory=list)


def peer_uid(connection: socket.socket) -> int:
    """The user id of the process at the other end of the Unix socket `connection` (SO_PEERCRED)."""
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", credentials)[1]


def _text(value: object) -> bool:
    return isinstance(value, str) and "\0" not in value


def parse(line: bytes) -> Envelope:
    """The envelope in `line` (its stdio follows); RequestError, in one line, when it is not what a command sends."""
    try:
        sent = json.loads(line)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise RequestError(f"not JSON ({type(error).__name__})") from None
    if not (isinstance(sent, dict) and _text(cwd := sent.get("cwd")) and isinstance(env := sent.get("env"), dict)
            and all(_text(name) and _text(value) for name, value in env.items())):
        raise RequestError("not a request: command (a typed request), cwd (text) and env (text to text)")
    if "argv" in sent:
        raise RequestError("a command line (argv) is not taken: the command line sends its checked request")
    return Envelope(from_wire(sent.get("command")), cwd, env, [])


class Arriving:
    """A connection whose request is still arriving: what it sent so far, the fds it passed, its deadline.

    Two steps: the request's line (no fds), answered {"stdio": true}; then one message carrying the three
    standard streams (SCM_RIGHTS) and, after it, signal lines. A command's stdio is never in flight to a
    runner that did not read its request (a stalled runner would hold the caller's pipes open).
    """

    def __init__(self, connection: socket.socket) -> None:
        connection.setblocking(False)
        self.connection, self.data, self.request = connection, bytearray(), None
        self.deadline = time.monotonic() + REQUEST_SECONDS

    def receive(self) -> Envelope | None:
        """Read what has arrived: the request once it and its stdio are whole, else None; RequestError when refused."""
        try:
            chunk, ancillary, _, _ = self.connection.recvmsg(65536, FD_ROOM)
        except (BlockingIOError, InterruptedError):
            return None
        fds = _passed_fds(ancillary)
        if self.request is not None and not self.request.fds and fds:  # the stdio step: keep three, close the rest
            self.request.fds, fds = fds[:STANDARD_STREAMS], fds[STANDARD_STREAMS:]
            self.data.clear()
        for fd in fds:  # fds with the request's line, extras, fds on later chunks
            close_quietly(fd)
        if not chunk:
            raise RequestError("the command went away before its request was whole")
        self.data += chunk
        if self.request is None:
            return self._line()
        if len(self.request.fds) != STANDARD_STREAMS:
            if self.request.fds or len(self.data) > 64:
                raise RequestError(f"{len(self.request.fds)} file descriptors passed, not the standard streams")
            return None
        self.request.signals = [int(word) for word in self.data.split() if word.isdigit()]
        request, self.request = self.request, None  # the caller holds its fds now
        return request

    def _line(self) -> None:
        """The request's line, once whole: parsed, and the stdio asked for."""
        end = self.data.find(b"\n")
        if end < 0 or end > REQUEST_LIMIT:
            if len(self.data) > REQUEST_LIMIT:
                raise RequestError(f"request longer than {REQUEST_LIMIT} bytes")
            return None
        try:
            self.request = parse(bytes(self.data[:end]))
        except RequestError as error:  # said in one line to the command, then dropped
            with contextlib.suppress(OSError):
                self.connection.send(json.dumps({"refused": str(error)}).encode() + b"\n")
            raise
        del self.data[:end + 1]
        self.connection.send(b'{"stdio": true}\n')  # a line into an empty buffer: never blocks
        return None

    def close(self) -> None:
        """Drop the connection and the fds it passed."""
        for fd in self.request.fds if self.request else ():
            close_quietly(fd)
        self.request = None
        self.connection.close()


def _passed_fds(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    """The fds a message carried (SCM_RIGHTS)."""
    fds = array("i")
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    return list(fds)


def close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _interrupts(connection: socket.socket, sent: list[bool]) -> None:
    """Ctrl-C (or a stop) before the runner took the command drops it; after, it goes to the runner (twice: KILL)."""
    interrupts: list[int] = []

    def interrupt(signum: int, _frame: object) -> None:
        if not sent:  # the runner has not got the command: drop it (a request cut short is refused whole)
            raise KeyboardInterrupt
        interrupts.append(signum)
        if len(interrupts) == 1:
            print("\nairnub: interrupted; stopping the run (Ctrl-C again to stop it at once)", file=sys.stderr)
        with contextlib.suppress(OSError):
            connection.sendall(f"{signum if len(interrupts) == 1 else int(signal.SIGKILL)}\n".encode())

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


def _hand_over(connection: socket.socket, replies: Iterator[dict], socket_path: Path, request: Request,
               sent: list[bool]) -> dict:
    """Send the request, then (once the runner read it) the stdio; the runner's next reply, or `{"exit": code}`."""
    connection.connect(str(socket_path))
    if (owner := peer_uid(connection)) != os.getuid():
        print(f"airnub: the runner's socket {socket_path} is served by another user (uid {owner}); not sending "
              "this command there. Remove the socket or run `airnub server stop`", file=sys.stderr)
        return {"exit": 2}
    envelope = {"command": to_wire(request), "cwd": os.getcwd(), "env": dict(os.environ)}
    connection.sendall(json.dumps(envelope).encode() + b"\n")
    if "refused" in (read := next(replies)):  # else {"stdio": true}: the runner read the request
        print(f"airnub: the runner refused the command: {read['refused']}", file=sys.stderr)
        return {"exit": 2}
    socket.send_fds(connection, [b"\n"], [0, 1, 2])
    sent.append(True)
    return next(replies)  # {"started": pid}, or {"exit": 130}: interrupted before it started


def forward(socket_path: Path, request: Request) -> int:
    """Run the checked `request` in the runner at `socket_path`, as if in this process; return its exit code."""
    connection, sent = socket.socket(socket.AF_UNIX), []
    replies = _replies(connection)  # one reader: a reply may arrive in the same chunk as the one before
    _interrupts(connection, sent)
    connection.settimeout(TAKE_SECONDS)
    try:
        if "exit" in (taken := _hand_over(connection, replies, socket_path, request, sent)):
            return int(taken["exit"])
    except KeyboardInterrupt:
        connection.close()
        print("\nairnub: interrupted before the runner took the command; nothing ran", file=sys.stderr)
        return 130
    except StopIteration:
        print(f"airnub: the runner at {socket_path} hung up before taking the command; `airnub server status` tells "
              "more", file=sys.stderr)
        return 1
    except TimeoutError:
        print(f"airnub: the runner at {socket_path} did not take the command within {TAKE_SECONDS} s; "
              "`airnub server stop` and `airnub server start` restart it", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"airnub: cannot reach the runner at {socket_path}: {error.strerror or error}; "
              "`airnub server status` tells more", file=sys.stderr)
        return 1
    connection.settimeout(None)  # taken: the run takes as long as it takes
    for reply in replies:
        if "exit" in reply:
            return int(reply["exit"])
    print("airnub: the runner stopped before the command ended; `airnub server status` tells more", file=sys.stderr)
    return 1


def _replies(connection: socket.socket) -> Iterator[dict]:
    """The runner's replies, one JSON object a line: {"stdio": true}, {"started": pid}, then {"exit": code}."""
    buffer = b""
    while chunk := connection.recv(4096):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield json.loads(line)
