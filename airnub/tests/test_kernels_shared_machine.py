"""Kernels on a machine others share (issue 19, items 1 and 8): each process's kernel files in a private folder of
its own, no kernel holding the caller's output, no kernel outliving the command that started it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from airnub.engine.kernels import KernelFolderError, kernel_dir, private_folder
from airnub.engine.notebook_execution import prepare_run, run_notebook
from airnub.testing.helpers import (
    AIRNUB,
    KERNEL,
    PROJECT_ROOT,
    RECORD,
    output_overrides,
    own_notebooks_dir,
    second_user_python,
    write_notebook,
)

TMP = Path(tempfile.gettempdir())
# A kernel writes its pid and connection file where the test can find them, then works on.
REPORT_KERNEL = ("import os\nfrom ipykernel.connect import get_connection_file\n"
                 "open(pid_file, 'w').write(f'{os.getpid()} {get_connection_file()}')")


def command_env(tmp_path: Path) -> dict[str, str]:
    """A command's environment: Prefect's temporary server (no project server, no warm runner), outputs in tmp_path."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PREFECT_API_", "AIRNUB_"))}
    return {**env, **output_overrides(tmp_path), **own_notebooks_dir(tmp_path / "nbs"),
            "PREFECT_HOME": str(tmp_path / "prefect-home"), "AIRNUB_SERVER_AUTOSTART": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"}


def end_all(process: subprocess.Popen, *pids: int) -> None:
    """Kill what a test started: the command's process group (Prefect's temporary server) and the given pids."""
    for pid in pids:
        with_suppressed(os.kill, pid, signal.SIGKILL)
    with_suppressed(os.killpg, process.pid, signal.SIGKILL)
    with_suppressed(process.wait, timeout=10)


def with_suppressed(function, *args, **kwargs) -> None:
    try:
        function(*args, **kwargs)
    except (OSError, subprocess.TimeoutExpired):
        pass


def gone(pid: int) -> bool:
    """True when `pid` has ended (a zombie waiting for a reaper counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_a_run_ignores_kernel_folders_another_user_made_first(second_user, tmp_path):
    # the names the old code would use: airnub-kernels-<pid> of this process and of the next pids, open to all
    next_pid = int(Path("/proc/sys/kernel/ns_last_pid").read_text()) + 1
    names = [TMP / f"airnub-kernels-{pid}" for pid in (os.getpid(), *range(next_pid, next_pid + 20))]
    made = second_user_python(
        "import os, sys\nfor name in sys.argv[1:]:\n    try:\n        os.mkdir(name)\n        os.chmod(name, 0o777)\n"
        "        print(name)\n    except FileExistsError:\n        pass", *map(str, names))
    assert made.returncode == 0, made.stderr
    hers = [Path(line) for line in made.stdout.split()]
    assert TMP / f"airnub-kernels-{os.getpid()}" in hers, "this process's old name was free for her to take"
    try:
        notebook = write_notebook(tmp_path / "where.ipynb", "pid_file: str = ''", REPORT_KERNEL,
                                  f"{RECORD}\nrecord('connection_file', get_connection_file())")
        prepared = prepare_run(notebook, {"pid_file": str(tmp_path / "kernel")}, KERNEL)
        run = run_notebook(prepared, tmp_path / "reports", cell_timeout=120)
        folder = Path(run.values["connection_file"]).parent
        assert folder not in hers and folder.name.startswith(f"airnub-kernels-{os.getpid()}-")
        info = folder.stat()
        assert (info.st_uid, info.st_mode & 0o777) == (os.geteuid(), 0o700), "the kernel's folder is private"
        assert all(not any(name.iterdir()) for name in hers), "nothing was written to her folders"
    finally:
        for name in hers:
            shutil.rmtree(name, ignore_errors=True)


def test_a_kernel_folder_that_is_not_the_users_own_with_mode_0700_is_refused(second_user, tmp_path):
    made = second_user_python("import tempfile; print(tempfile.mkdtemp(prefix='airnub-kernels-'))")
    assert made.returncode == 0, made.stderr
    hers = Path(made.stdout.strip())
    try:
        with pytest.raises(KernelFolderError) as refused:
            private_folder(hers)
        assert str(refused.value) == (f"kernel folder {hers} is owned by user {second_user}, not a folder of yours "
                                      "with mode 0700: another user could take over kernels started there; remove it, "
                                      "or set TMPDIR to a folder of your own")
        shared = tmp_path / "shared"
        shared.mkdir(mode=0o755)
        shared.chmod(0o755)
        with pytest.raises(KernelFolderError, match=f"kernel folder {shared} is mode 0755, not a folder of yours"):
            private_folder(shared)
        assert private_folder(kernel_dir()) == kernel_dir()
    finally:
        shutil.rmtree(hers, ignore_errors=True)


def test_the_cleanup_of_ended_processes_touches_only_the_users_own_folders(second_user, tmp_path):
    ended = [subprocess.Popen(["true"]) for _ in range(2)]
    for process in ended:
        process.wait()
    hers, link = TMP / f"airnub-kernels-{ended[0].pid}", TMP / f"airnub-kernels-{ended[1].pid}"
    made = second_user_python(f"import os; os.mkdir({str(hers)!r}); open({str(hers / 'kernel.json')!r}, 'w')")
    assert made.returncode == 0, made.stderr
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "results.csv").write_text("kept\n")
    link.symlink_to(precious)
    try:
        # a new process cleans up when it makes its own folder
        done = subprocess.run([sys.executable, "-c", "from airnub.engine.kernels import kernel_dir; "
                               "print(kernel_dir())"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert (hers / "kernel.json").exists(), "another user's folder is not ours to remove"
        assert link.is_symlink() and (precious / "results.csv").read_text() == "kept\n", "a link is never followed"
        assert not Path(done.stdout.strip()).exists(), "the process's own folder went when it ended"
    finally:
        shutil.rmtree(hers, ignore_errors=True)
        link.unlink(missing_ok=True)


def test_a_daemon_a_notebook_starts_does_not_hold_the_commands_output_open(tmp_path):
    env = command_env(tmp_path)
    # a classic double fork: the daemon keeps every descriptor the kernel had; it notes them, then sleeps
    notebook = write_notebook(tmp_path / "nbs" / "forker.ipynb", "pid_file: str = ''",
                              "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                              "        fds = {fd: os.readlink(f'/proc/self/fd/{fd}') for fd in map(int, "
                              "os.listdir('/proc/self/fd')) if os.path.exists(f'/proc/self/fd/{fd}')}\n"
                              "        open(pid_file + '.fds', 'w').write(repr(sorted(fds.values())))\n"
                              "        open(pid_file, 'w').write(str(os.getpid()))\n        time.sleep(300)\n"
                              "    os._exit(0)\nos.wait()")
    pid_file = tmp_path / "daemon.pid"
    command = subprocess.Popen([AIRNUB, "notebook", str(notebook), "-p", "pid_file", str(pid_file), "--no-cache"],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # as `airnub notebook ... | cat` reads it
    ours = {f"pipe:[{os.fstat(stream.fileno()).st_ino}]" for stream in (command.stdout, command.stderr)}
    daemon = 0
    try:
        try:
            out, err = command.communicate(timeout=400)
        except subprocess.TimeoutExpired:
            pytest.fail("the command's output stays open: the notebook's daemon holds it")
        assert command.returncode == 0, err
        assert "forker.ipynb: completed" in out
        daemon = int(pid_file.read_text())
        held = Path(f"{pid_file}.fds").read_text()
        assert not any(pipe in held for pipe in ours), f"the kernel passed the command's output on: {held}"
        deadline = time.monotonic() + 10
        while not gone(daemon):  # the command's sweep ends what the run started (services/processes.py)
            assert time.monotonic() < deadline, "the daemon runs on after the command"
            time.sleep(0.1)
    finally:
        end_all(command, *([daemon] if daemon else []))


def test_a_kernel_dies_with_the_command_that_started_it_when_that_is_killed(tmp_path):
    env = command_env(tmp_path)
    # the kernel computes in C holding the interpreter lock: ipykernel's own parent check (a thread) cannot run
    notebook = write_notebook(tmp_path / "nbs" / "busy.ipynb", "pid_file: str = ''", REPORT_KERNEL,
                              "sum(range(10**12))")
    pid_file = tmp_path / "kernel.pid"
    command = subprocess.Popen([AIRNUB, "notebook", str(notebook), "-p", "pid_file", str(pid_file), "--no-cache"],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    kernel = 0
    try:
        deadline = time.monotonic() + 400
        while not (pid_file.exists() and pid_file.read_text()) and command.poll() is None:
            assert time.monotonic() < deadline, "the kernel never started"
            time.sleep(0.5)
        assert command.poll() is None, command.stderr.read()
        kernel_pid, connection_file = pid_file.read_text().split()
        kernel = int(kernel_pid)
        cmdline = Path(f"/proc/{kernel}/cmdline").read_bytes().split(b"\0")
        assert b"ipykernel_launcher" in cmdline and connection_file.encode() in cmdline
        time.sleep(1)  # the cell is running
        os.kill(command.pid, signal.SIGKILL)
        command.wait(timeout=10)
        deadline = time.monotonic() + 5
        while not gone(kernel) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert gone(kernel), "the kernel runs on after its command was killed"
    finally:
        end_all(command, *([kernel] if kernel else []))
