"""`airnub settings`: the project's settings as every command reads them, and the Makefile's values from it."""

from __future__ import annotations

import os
import subprocess
import time

from airnub.testing.helpers import AIRNUB, PROJECT_ROOT, free_port

# make's own variables win over the settings (SERVER_PORT=... make serve): a test of the settings must not inherit them
MAKE_OVERRIDES = ("SERVER_HOST", "SERVER_PORT", "SERVER_HOME", "AIRNUB_WORK_POOL", "MAKEFLAGS", "MAKELEVEL")


def clean_env(**overrides: str) -> dict[str, str]:
    """This environment without AIRNUB_* variables and make's overrides, plus `overrides`."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("AIRNUB_") and name not in MAKE_OVERRIDES}
    return {**env, **overrides}


def settings(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([AIRNUB, "settings", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def make_dry_run(target: str, env: dict, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-n", target, *arguments], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_settings_get_prints_the_value_the_tool_runs_with_and_an_override_wins():
    assert settings("get", "server_port", env=clean_env()).stdout == "4200\n"
    assert settings("get", "server_home", env=clean_env()).stdout == f"{PROJECT_ROOT / '.prefect'}\n", "absolute"
    port = str(free_port())
    assert settings("get", "server_port", env=clean_env(AIRNUB_SERVER_PORT=port)).stdout == f"{port}\n"
    shown = settings("show", env=clean_env(AIRNUB_KERNEL_NAME="other-kernel")).stdout.splitlines()
    assert "kernel_name=other-kernel" in shown and "task_runner=threads" in shown, "not checked to be installed"


def test_a_bad_setting_or_an_unknown_key_is_refused_in_one_line():
    done = settings("get", "kernel_name", env=clean_env(AIRNUB_SERVER_PORT="web"))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"airnub: {PROJECT_ROOT / 'settings.ini'}: 'server_port' must be a port number, "
                           "got 'web' (from AIRNUB_SERVER_PORT)\n")
    done = settings("get", "server_prot", env=clean_env())
    assert done.returncode == 2 and done.stderr.startswith("airnub: settings.ini has no key 'server_prot'; keys: ")


def test_the_makefile_takes_its_settings_from_the_tool_with_their_overrides():
    port, pool = str(free_port()), "a-pool-of-our-own"
    env = clean_env(AIRNUB_SERVER_PORT=port, AIRNUB_WORK_POOL=pool, AIRNUB_KERNEL_NAME="other-kernel")
    serve = make_dry_run("serve", env).stdout
    home = settings("get", "server_home", env=env).stdout.strip()
    assert f"AIRNUB_SERVER_PORT={port} AIRNUB_SERVER_HOME={home} " in serve, serve
    assert f'--pool "{pool}" --type process --limit 1' in make_dry_run("worker", env).stdout, "one run at a time"
    assert "--limit 3" in make_dry_run("worker", env, "WORKER_LIMIT=3").stdout, "a worker takes WORKER_LIMIT runs"
    assert f'set-concurrency-limit "{pool}" 2' in make_dry_run("deploy", env, "POOL_LIMIT=2").stdout
    assert "set-concurrency-limit" not in make_dry_run("deploy", env).stdout, "no POOL_LIMIT: the pool is left as is"
    assert "--nbval-kernel-name other-kernel " in make_dry_run("test-nbval", env).stdout
    before_setup = make_dry_run("serve", env, "BIN=/no-venv-yet/bin").stdout  # the system's Python reads them then
    assert f"AIRNUB_SERVER_PORT={port} AIRNUB_SERVER_HOME={home} " in before_setup, before_setup


def test_make_stops_on_a_bad_setting_with_the_tools_message():
    done = make_dry_run("help", clean_env(AIRNUB_REPORTS_PORT="web"))
    assert done.returncode != 0 and done.stdout == ""
    assert ("'reports_port' must be a port number (0: do not serve reports), got 'web' (from AIRNUB_REPORTS_PORT)"
            in done.stderr.splitlines()[0]), done.stderr


def test_make_help_answers_fast():
    started = time.monotonic()
    done = subprocess.run(["make", "--no-print-directory", "help"], cwd=PROJECT_ROOT, env=clean_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "make setup" in done.stdout
    assert time.monotonic() - started < 2, "reading the settings imports no Prefect"
