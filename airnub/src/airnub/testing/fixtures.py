"""The test kit's pytest plugin (loaded by pytest itself, entry point `pytest11`): a project's output tree moved
into a temporary folder, Prefect servers, the environment of `airnub` commands, and the `fast` marker."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from airnub.engine.settings import load_settings
from airnub.testing.helpers import (
    PROJECT_ROOT,
    airnub,
    ensure_second_user,
    free_port,
    migrated_prefect_database,
    output_overrides,
    own_notebooks_dir,
    second_user_available,
    seed_prefect_home,
)

BIN = Path(sys.executable).parent


def pytest_configure(config):
    """The markers the tool's tests and a project's use, and warnings that are not the project's to fix."""
    config.addinivalue_line("markers", "integration: runs real kernels or a real Prefect flow end to end")
    config.addinivalue_line("markers", "fast: starts no server and no pipeline (`make test-fast` runs these)")
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:jupyter_client.*")
    # A command a test runs without one of the server fixtures below must not start the project's own server
    # (127.0.0.1:4200, .prefect/ of this checkout): it runs on Prefect's temporary server instead.
    os.environ["AIRNUB_SERVER_AUTOSTART"] = "false"


@pytest.fixture
def second_user():
    """The name of a second, unprivileged local user (made once); skipped with the reason where none can be made."""
    if reason := second_user_available():
        pytest.skip(reason)
    return ensure_second_user()


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The project's paths, with every output moved into a temporary folder."""
    for name, value in output_overrides(tmp_path).items():
        monkeypatch.setenv(name, value)
    return load_settings().paths


@pytest.fixture(scope="session")
def prefect_database(tmp_path_factory, worker_id):
    """A migrated Prefect database, made once per test run (shared by the xdist test processes) for
    `seed_prefect_home` to copy into the home of each server a test starts."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    return migrated_prefect_database(shared / "prefect-database")


@pytest.fixture(scope="session")
def airnub_server(tmp_path_factory, prefect_database):
    """The environment of `airnub` commands that share one project server, as a user's commands do.

    `airnub server start` with a temporary home on a free port, once per test session (per xdist
    worker), and `airnub server stop` at the end: the commands of the tests meet the warm runner
    and the server the way a user's second and later commands do.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PREFECT_API_", "AIRNUB_"))}
    home = seed_prefect_home(tmp_path_factory.mktemp("airnub-server"), prefect_database)
    env.update(AIRNUB_SERVER_HOME=str(home), AIRNUB_SERVER_PORT=str(free_port()),
               AIRNUB_REPORTS_PORT=str(free_port()), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    started = airnub("server", "start", env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    # the server's credential, for the test's own clients (commands add it themselves for the project's server)
    env["PREFECT_API_AUTH_STRING"] = (home / "api-auth").read_text().strip()
    yield env
    stopped = airnub("server", "stop", env=env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr


@pytest.fixture(scope="session")
def prefect_api(airnub_server):
    """Flows run in the test process against the session's project server: one Prefect server per test process.

    Tests run one after another in a test process, so the flows of one test and the commands of the next
    share its server as a user's do; a test that stores Variables or blocks removes them (`clean_variables`).
    """
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{airnub_server['AIRNUB_SERVER_PORT']}/api",
                                     PREFECT_API_AUTH_STRING: airnub_server["PREFECT_API_AUTH_STRING"]}):
        yield


@pytest.fixture
def stopped_server(tmp_path, prefect_database):
    """The environment of a project whose server is not running (a home and ports of its own); stopped after.

    Its notebooks folder is `tmp_path/nbs`: the test's own notebooks. The first command that needs a server starts it.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PREFECT_API_", "AIRNUB_"))}
    home = seed_prefect_home(tmp_path / "server", prefect_database)
    env.update(output_overrides(tmp_path), **own_notebooks_dir(tmp_path / "nbs"), AIRNUB_SERVER_HOME=str(home),
               AIRNUB_SERVER_PORT=str(free_port()), AIRNUB_REPORTS_PORT=str(free_port()),
               PREFECT_HOME=str(tmp_path / "prefect-home"), PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    yield env
    airnub("server", "stop", env=env)


@pytest.fixture
def subprocess_env(tmp_path, airnub_server):
    """Environment for a command run in a subprocess: the session's project server, its own output tree."""
    return {**airnub_server, **output_overrides(tmp_path), "PREFECT_HOME": str(tmp_path / "prefect-home")}


@pytest.fixture
def notebooks_dir(tmp_path, monkeypatch, project):
    """A notebooks folder of the test's own (`notebooks_dir`), with outputs moved as in `project`."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    for name, value in own_notebooks_dir(folder).items():  # a tmp folder lies outside the project: allowed here
        monkeypatch.setenv(name, value)
    return folder


# The department generic tests run (`airnub new ...` as a user types it): a processing task that smooths a table and
# an analysis report notebook on it, both reading the table AIRNUB_INPUT_TABLE names.
DEPARTMENT_SCAFFOLD = [
    ("add_department", "--name", "Harbour Ops"),
    ("airnub new task", "--department", "harbour_ops", "--stage", "processing", "--name", "smooth readings"),
    ("airnub new task", "--department", "harbour_ops", "--stage", "analysis", "--name", "tide report",
     "--notebook-task"),
]
READINGS = {"site": ["a", "a", "b", "b", "b"], "level": [1.0, 3.0, 5.0, 7.0, 9.0]}  # a table's columns
# A last cell of the report that waits REPORT_SECONDS (0 when unset): a test can stop a run while its kernel runs.
REPORT_WAIT = "import os, time\n\ntime.sleep(float(os.environ.get('REPORT_SECONDS', '0')))"


@pytest.fixture(scope="session")
def department_project(tmp_path_factory, prefect_database):
    """`(root, env)`: a copy of the project with a department of its own, `harbour_ops`, scaffolded once per session.

    The tests of what every project keeps (the `airnub run` summary, the team path, a worker) run it, so they need
    no demo; its report notebook ends with REPORT_WAIT. `env` makes `flows` and the package resolve to the copy, as
    in generator tests; the copy's `.venv` is this project's, so its Makefile runs as in a checkout.
    """
    from airnub.testing.scaffold import scaffold_copy

    home = seed_prefect_home(tmp_path_factory.mktemp("department-prefect-home"), prefect_database)
    root, env, _ = scaffold_copy(PROJECT_ROOT, tmp_path_factory.mktemp("department"), home, DEPARTMENT_SCAFFOLD)
    (root / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    report = root / "nbs" / "reports" / "tide_report.ipynb"
    node = nbformat.read(report, as_version=4)
    node.cells.append(nbformat.v4.new_code_cell(REPORT_WAIT))
    nbformat.write(node, report)
    import pandas as pd  # here: the plugin loads with every pytest run, pandas only where a table is written

    pd.DataFrame(READINGS).to_parquet(root / "readings.parquet", index=False)
    return root, {**env, "AIRNUB_INPUT_TABLE": str(root / "readings.parquet")}


# What makes a test slow: a Prefect API or project server to start, a pipeline or scaffolded copy to build.
SLOW_FIXTURES = {"prefect_database", "prefect_api", "airnub_server", "subprocess_env", "stopped_server", "server",
                 "pipeline_run", "trained_outputs", "earlier_run", "scaffolded", "department_project"}


def pytest_collection_modifyitems(items):
    """Mark `fast` the tests that start no server and no pipeline (`make test-fast` runs them); long files first.

    pytest-xdist (`--dist loadfile`) hands whole files to the test processes in this order: files with
    integration tests, then those with other slow tests (most first), then the fast ones, so that the short files fill
    the end of the run rather than one long file keeping the others waiting.
    """
    kind, slow_tests = {}, Counter()
    for item in items:
        integration = item.get_closest_marker("integration") is not None
        slow = integration or bool(SLOW_FIXTURES & set(item.fixturenames))
        if not slow:
            item.add_marker(pytest.mark.fast)
        kind[item.path] = min(kind.get(item.path, 2), 0 if integration else 1 if slow else 2)
        slow_tests[item.path] += slow
    items.sort(key=lambda item: (kind[item.path], -slow_tests[item.path]))
