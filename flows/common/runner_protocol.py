"""The wire between a command and the warm runner: the command's side (`forward`) and the runner's (`Arriving`).

A command (`forward`) sends one line of JSON (argv, working folder, environment) with its stdin,
stdout and stderr attached to the first byte (SCM_RIGHTS); lines after it are signals it received
(Ctrl-C). The runner reads each connection without blocking, inside its one select loop (`Arriving`),
so a client that sends slowly or never delays no one: it is dropped after REQUEST_SECONDS. Whatever a
client sends, the runner keeps only the first three fds of the first chunk and closes every other
(more fds, fds on later chunks, a request refused), and a request that is not the expected shape (deep
nesting, bad JSON, wrong types) is refused, never a crash. The runner answers {"started": pid} when it
took the command and {"exit": code} when it ended; a command that gets no answer in TAKE_SECONDS says so in
one line, and it sends nothing (its environment, its stdio) to a socket served by another user.
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

REQUEST_LIMIT = 4 << 20  # bytes: argv, working directory and environment
REQUEST_SECONDS = 10  # a command has this long to send its whole request
STANDARD_STREAMS = 3  # stdin, stdout, stderr
TAKE_SECONDS = 15  # a command waits this long for the runner to take its request
FD_ROOM = socket.CMSG_SPACE(16 * array("i").itemsize)  # fds a message may carry; the kernel closes any beyond


class RequestError(ValueError):
    """A request the runner refuses; the message says why."""


@dataclass
class Request:
    """A command to run: its argv, working folder, environment, stdio fds, and signals it got before it started."""

    argv: list[str]
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


def parse(line: bytes, fds: list[int]) -> Request:
    """The request in `line` with its stdio `fds`; RequestError when either is not what a command sends."""
    if len(fds) != STANDARD_STREAMS:
        raise RequestError(f"{len(fds)} file descriptors passed, not the {STANDARD_STREAMS} standard streams")
    try:
        request = json.loads(line)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise RequestError(f"not JSON ({type(error).__name__})") from None
    if not (isinstance(request, dict) and isinstance(argv := request.get("argv"), list) and all(map(_text, argv))
            and _text(cwd := request.get("cwd")) and isinstance(env := request.get("env"), dict)
            and all(_text(name) and _text(value) for name, value in env.items())):
        raise RequestError("not a request: argv (a list of text), cwd (text) and env (text to text)")
    return Request(argv, cwd, env, fds)


class Arriving:
    """A connection whose request is still arriving: what it sent so far, the fds it passed, its deadline."""

    def __init__(self, connection: socket.socket) -> None:
        connection.setblocking(False)
        self.connection, self.data, self.fds = connection, bytearray(), []
        self.deadline = time.monotonic() + REQUEST_SECONDS

    def receive(self) -> Request | None:
        """Read what has arrived: the request once its line is whole, else None; RequestError when refused."""
        try:
            chunk, ancillary, _, _ = self.connection.recvmsg(65536, FD_ROOM)
        except (BlockingIOError, InterruptedError):
            return None
        self._take_fds(ancillary, first=not self.data)
        if not chunk:
            raise RequestError("the command went away before its request was whole")
        self.data += chunk
        end = self.data.find(b"\n")
        if end < 0 or end > REQUEST_LIMIT:
            if len(self.data) > REQUEST_LIMIT:
                raise RequestError(f"request longer than {REQUEST_LIMIT} bytes")
            return None
        request = parse(bytes(self.data[:end]), self.fds)
        request.signals = [int(word) for word in self.data[end + 1:].split() if word.isdigit()]
        self.fds = []  # the request holds them now
        return request

    def _take_fds(self, ancillary: list[tuple[int, int, bytes]], first: bool) -> None:
        """Keep the first three fds passed with the first chunk; close every other."""
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array("i")
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
                for fd in fds:
                    if first and len(self.fds) < STANDARD_STREAMS:
                        self.fds.append(fd)
                    else:
                        close_quietly(fd)

    def close(self) -> None:
        """Drop the connection and the fds it passed."""
        for fd in self.fds:
            close_quietly(fd)
        self.fds = []
        self.connection.close()


def close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def forward(socket_path: Path, argv: list[str]) -> int:
    """Run `airnub argv` in the runner at `socket_path`, as if in this process; return its exit code."""
    interrupts: list[int] = []
    connection = socket.socket(socket.AF_UNIX)

    def tell(signum: int) -> None:
        with contextlib.suppress(OSError):
            connection.sendall(f"{signum if len(interrupts) == 1 else int(signal.SIGKILL)}\n".encode())

    def interrupt(signum: int, _frame: object) -> None:
        interrupts.append(signum)
        if len(interrupts) == 1:
            print("\nairnub: interrupted; stopping the run (Ctrl-C again to stop it at once)", file=sys.stderr)
        if sent:  # never in the middle of the request: it is told once the request is sent
            tell(signum)

    sent = False
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    connection.settimeout(TAKE_SECONDS)
    try:
        connection.connect(str(socket_path))
        if (owner := peer_uid(connection)) != os.getuid():
            print(f"airnub: the runner's socket {socket_path} is served by another user (uid {owner}); not sending "
                  "this command there. Remove the socket or run `airnub server stop`", file=sys.stderr)
            return 2
        header = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode() + b"\n"
        socket.send_fds(connection, [header[:1]], [0, 1, 2])
        connection.sendall(header[1:])
        sent = True
        for signum in interrupts[:1]:
            tell(signum)
        replies = _replies(connection)
        if "exit" in (taken := next(replies)):  # interrupted before it started
            return int(taken["exit"])
    except (TimeoutError, StopIteration):
        print(f"airnub: the runner at {socket_path} did not take the command within {TAKE_SECONDS} s; "
              "`airnub server stop` and `airnub server start` restart it", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"airnub: cannot reach the runner at {socket_path}: {error.strerror or error}; "
              "`airnub server status` tells more", file=sys.stderr)
        return 1
    finally:
        connection.settimeout(None)
    for reply in replies:
        if "exit" in reply:
            return int(reply["exit"])
    print("airnub: the runner stopped before the command ended; `airnub server status` tells more", file=sys.stderr)
    return 1


def _replies(connection: socket.socket) -> Iterator[dict]:
    """The runner's replies, one JSON object a line: {"started": pid}, then {"exit": code}."""
    buffer = b""
    while chunk := connection.recv(4096):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield json.loads(line)
