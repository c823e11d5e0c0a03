"""The `airnub` console script, run as a user runs it: a subprocess with its own Prefect home."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from airnub.testing.helpers import (
    AIRNUB,
    RECORD,
    airnub,
    config_project,
    free_port,
    output_overrides,
    own_notebooks_dir,
    write_notebook,
)


def run_in(root: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    """Run the `airnub` console script in the project at `root`, as a user there does."""
    return subprocess.run([AIRNUB, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def department_env(department_project, subprocess_env, tmp_path):
    """The environment of commands in the copy with a department of its own: its outputs under tmp_path, the
    session's project server as its API (the copy's code runs in the command itself, not the server's runner)."""
    _, env = department_project
    return {**env, **output_overrides(tmp_path), "PREFECT_HOME": subprocess_env["PREFECT_HOME"],
            "PREFECT_API_URL": f"http://127.0.0.1:{subprocess_env['AIRNUB_SERVER_PORT']}/api",
            "PREFECT_API_AUTH_STRING": subprocess_env["PREFECT_API_AUTH_STRING"]}


def test_run_a_single_stage(department_project, department_env, tmp_path):
    root, _ = department_project
    done = run_in(root, "run", "harbour_ops", "--stage", "processing", "--json", env=department_env)
    assert done.returncode == 0, done.stderr
    smoothed = tmp_path / "data" / "processed" / "dept_harbour_ops" / "processing" / "smooth_readings.parquet"
    assert json.loads(done.stdout)["smooth_readings"]["rows"] == 5
    assert pd.read_parquet(smoothed)["level"].tolist() == [1.0, 2.0, 3.0, 5.0, 7.0]
    assert not (tmp_path / "reports").exists(), "only the processing stage ran, not the analysis report"


def test_the_end_of_a_run_says_what_happened_in_a_few_lines(department_project, department_env, tmp_path):
    root, _ = department_project
    first = run_in(root, "run", "harbour_ops", env=department_env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) <= 5 and lines[0].startswith("pipeline-dept-harbour-ops: completed in "), first.stdout
    assert "/runs/flow-run/" in lines[0] and department_env["PREFECT_API_URL"].removesuffix("/api") in lines[0]
    written = lines[1].removeprefix("written: ").split(", ")
    assert "data/processed/dept_harbour_ops/processing/smooth_readings.parquet" in {
        Path(path).relative_to(tmp_path).as_posix() for path in written}, first.stdout
    report = Path(next(line for line in lines if line.startswith("report: ")).removeprefix("report: "))
    assert report.is_file() and report.is_relative_to(tmp_path / "reports") and report.name == "tide_report.html"
    again = run_in(root, "run", "harbour_ops", env=department_env)
    assert again.returncode == 0 and again.stdout.startswith("pipeline-dept-harbour-ops: completed in "), again.stderr
    assert len(again.stdout.strip().splitlines()) <= 5 and "report: " in again.stdout, again.stdout
    assert f"report: {report}" in again.stdout.splitlines(), "nothing changed: the report is the first run's, cached"


@pytest.mark.parametrize(("args", "named", "listed"), [
    (("run", "harbour"), "'harbour'", "harbour_ops"),
    (("run", "harbour_ops", "--stage", "cooking"), "'cooking'", "ingestion, processing, analysis"),
])
def test_unknown_department_or_stage_is_refused(department_project, args, named, listed):
    root, env = department_project
    done = run_in(root, *args, env=env)
    assert done.returncode == 2
    assert named in done.stderr and listed in done.stderr


@pytest.fixture
def typed_notebook(subprocess_env, tmp_path):
    """A notebook in a notebooks folder of the test's own, recording the type and value of each parameter."""
    subprocess_env.update(own_notebooks_dir(tmp_path / "nbs"))
    return write_notebook(tmp_path / "nbs" / "typed.ipynb",
                          "count: int = 1\nratio: float = 0.5\nflag: bool = False\nnames: list = []\nmeta: dict = {}",
                          f"{RECORD}\nfor name in ('count', 'ratio', 'flag', 'names', 'meta'):\n"
                          "    record(name, [type(globals()[name]).__name__, globals()[name]])")


def values(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.split("values: ")[1].splitlines()[0])


def test_notebook_values_are_converted_by_their_declared_types(typed_notebook, subprocess_env, tmp_path):
    (tmp_path / "params.yaml").write_text("ratio: 2\nnames: [from, file]\n")
    done = airnub("notebook", str(typed_notebook), "-f", str(tmp_path / "params.yaml"), "-p", "count", "7",
                  "-p", "flag", "True", "-p", "meta", "{depth: 3}", "-p", "names", "[a, b]", env=subprocess_env)
    assert values(done) == {"count": ["int", 7], "ratio": ["int", 2], "flag": ["bool", True],
                            "names": ["list", ["a", "b"]], "meta": ["dict", {"depth": 3}]}
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr  # a passing run is quiet
    html = Path(done.stdout.split("report: ")[1].strip())
    assert html.is_relative_to(tmp_path / "reports" / "typed")


def test_a_second_identical_run_is_served_from_the_cache_across_processes(typed_notebook, subprocess_env):
    first = airnub("notebook", str(typed_notebook), "-p", "count", "3", env=subprocess_env)
    second = airnub("notebook", str(typed_notebook), "-p", "count", "3", env=subprocess_env)
    forced = airnub("notebook", str(typed_notebook), "-p", "count", "3", "--no-cache", env=subprocess_env)
    assert "cache" not in first.stdout and "served from the cache" in second.stdout and "cache" not in forced.stdout
    assert values(first) == values(second) == values(forced)
    report = [done.stdout.split("report: ")[1].strip() for done in (first, second, forced)]
    assert report[0] == report[1] != report[2]


@pytest.mark.parametrize(("args", "expected"), [
    (("-p", "count", "many"), "parameter 'count' must be int, got 'many'"),
    (("-p", "cuont", "1"), "unknown parameter 'cuont'; closest: count (int, default 1)"),
    (("-p", "api_token", "s3cr3t"), "looks like a secret"),
])
def test_bad_notebook_parameters_exit_2_with_the_reason(typed_notebook, subprocess_env, args, expected):
    done = airnub("notebook", str(typed_notebook), *args, env=subprocess_env)
    assert done.returncode == 2 and expected in done.stderr


def test_timeout_stops_a_hung_cell(subprocess_env, tmp_path):
    subprocess_env.update(own_notebooks_dir(tmp_path / "nbs"))
    notebook = write_notebook(tmp_path / "nbs" / "hung.ipynb", "seconds: int = 600", "import time\ntime.sleep(seconds)")
    done = airnub("notebook", str(notebook), "--timeout", "2", env=subprocess_env)
    assert done.returncode == 1 and "hung.ipynb: cell 2 (`import time`) timed out after 2 s" in done.stderr


@pytest.mark.parametrize(("command", "timeout"), [("notebook", "-1"), ("notebook", "0"), ("sweep", "-5")])
def test_a_timeout_that_is_not_positive_exits_2_naming_the_option(typed_notebook, subprocess_env, tmp_path, command,
                                                                  timeout):
    """-1 once turned the timeout off and 0 silently meant 600 s."""
    (tmp_path / "grid.yaml").write_text("count: [1, 2]\n")
    extra = ["--grid", str(tmp_path / "grid.yaml")] if command == "sweep" else []
    done = airnub(command, str(typed_notebook), *extra, "--timeout", timeout, env=subprocess_env)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr == f"airnub: --timeout must be a positive whole number of seconds, got '{timeout}'\n"
    assert not (tmp_path / "reports").exists(), "nothing ran"


def test_sweep_command_runs_the_grid(typed_notebook, subprocess_env, tmp_path):
    (tmp_path / "grid.yaml").write_text("count: [1, 2]\nflag: [true, false]\n")
    done = airnub("sweep", str(typed_notebook), "--grid", str(tmp_path / "grid.yaml"), env=subprocess_env)
    assert done.returncode == 0, done.stderr
    results = sorted(line.split(" -> ")[1] for line in done.stdout.strip().splitlines())
    assert len(results) == 4 and len(list((tmp_path / "reports" / "typed").iterdir())) == 4
    assert all('"count": ["int", ' in line for line in results)


def test_variables_sync_refuses_a_broken_file_naming_it(subprocess_env, tmp_path):
    project = config_project(tmp_path / "project")
    broken = project / "configs" / "variables" / "dept_ops" / "processing" / "cleaning.yaml"
    broken.write_text("include_dropped_files: true\n  nested: [oops\n")
    done = airnub("variables", "sync", env={**subprocess_env, "AIRNUB_PROJECT_ROOT": str(project)})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"airnub: {broken}:2: not valid YAML"), done.stderr


def test_variables_dry_run_and_blocks_setup(subprocess_env, tmp_path):
    project = config_project(tmp_path / "project")
    files = sorted((project / "configs" / "variables").rglob("*.yaml"))
    dry = airnub("variables", "sync", "--dry-run", env={**subprocess_env, "AIRNUB_PROJECT_ROOT": str(project)})
    assert dry.returncode == 0, dry.stderr
    assert ("would create  dept_ops__ingestion__inbox_csv  "
            "(configs/variables/dept_ops/ingestion/inbox_csv.yaml)") in dry.stdout
    assert f"{len(files)} Variable(s): {len(files)} would create, 0 would update, 0 unchanged" in dry.stdout
    secret = "https://hooks.example.invalid/services/s3cr3t-t0ken"
    try:
        blocks = airnub("blocks", "setup", env={**subprocess_env, "AIRNUB_WEBHOOK_URL": secret})
        assert blocks.returncode == 0, blocks.stderr
        assert blocks.stdout == "airnub-webhook-url: saved from AIRNUB_WEBHOOK_URL\n"
        assert "s3cr3t" not in blocks.stdout + blocks.stderr
    finally:  # the session's server is shared: a webhook left there would make later pipelines notify it
        delete_block("airnub-webhook-url", f"http://127.0.0.1:{subprocess_env['AIRNUB_SERVER_PORT']}/api",
                     subprocess_env["PREFECT_API_AUTH_STRING"])


def delete_block(name: str, api_url: str, auth: str) -> None:
    """Remove the Secret block `name` from the server at `api_url` (credential `auth`), if it is there."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_API_AUTH_STRING: auth}), \
            get_client(sync_client=True) as client:
        try:
            block = client.read_block_document_by_name(name=name, block_type_slug="secret")
        except ObjectNotFound:
            return
        client.delete_block_document(block.id)


def test_the_kernel_starts_beside_the_notebook_and_declared_inputs_count_for_the_cache(subprocess_env, tmp_path):
    subprocess_env.update(own_notebooks_dir(tmp_path / "nbs"))
    study = tmp_path / "nbs" / "study"
    study.mkdir(parents=True)
    (study / "helper_module.py").write_text("FACTOR = 3\n")
    (study / "numbers.csv").write_text("x\n1\n2\n")
    notebook = write_notebook(study / "beside.ipynb", "scale: int = 1",
                              f"{RECORD}\n# airnub-inputs: numbers.csv\nimport helper_module\n"
                              "rows = open('numbers.csv').read().split()[1:]\n"
                              "record('total', helper_module.FACTOR * scale * sum(map(int, rows)))")
    first = airnub("notebook", str(notebook), env=subprocess_env)
    assert values(first) == {"total": 9}
    again = airnub("notebook", str(notebook), env=subprocess_env)
    assert "served from the cache: nothing it depends on changed" in again.stdout
    (study / "numbers.csv").write_text("x\n5\n")
    changed = airnub("notebook", str(notebook), env=subprocess_env)
    assert f"ran: {study / 'numbers.csv'} changed" in changed.stdout and values(changed) == {"total": 15}
    elsewhere = airnub("notebook", str(notebook), "--cwd", str(tmp_path), "--no-cache", env=subprocess_env)
    assert elsewhere.returncode == 1
    assert "beside.ipynb: cell 2 raised ModuleNotFoundError: No module named 'helper_module'" in elsewhere.stderr


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "sync"])
def test_variables_sync_with_the_server_down_names_the_api_and_how_to_start_one(subprocess_env, tmp_path, dry_run):
    api = f"http://127.0.0.1:{free_port()}/api"
    project = config_project(tmp_path / "project")
    done = airnub("variables", "sync", *(["--dry-run"] if dry_run else []),
                  env={**subprocess_env, "PREFECT_API_URL": api, "AIRNUB_PROJECT_ROOT": str(project)})
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.startswith(f"airnub: cannot reach the Prefect API at {api} (ConnectError: "), done.stderr
    assert done.stderr.endswith("start a server with `make serve` (or set PREFECT_API_URL to a running one); "
                                "nothing was changed\n") and done.stderr.count("\n") == 1, done.stderr


def test_blocks_setup_with_the_server_down_names_the_api_and_how_to_start_one(subprocess_env):
    api = f"http://127.0.0.1:{free_port()}/api"
    done = airnub("blocks", "setup", env={**subprocess_env, "PREFECT_API_URL": api,
                                           "AIRNUB_WEBHOOK_URL": "https://hooks.example/T000/B000/secret-token"})
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.startswith(f"airnub: cannot reach the Prefect API at {api} (ConnectError: "), done.stderr
    assert done.stderr.endswith("; no block was saved\n") and done.stderr.count("\n") == 1, done.stderr
    assert "secret-token" not in done.stderr


def test_plan_of_a_scaffolded_department(department_project, department_env):
    root, _ = department_project
    done = run_in(root, "run", "harbour_ops", "--plan", env=department_env)
    assert done.returncode == 0, done.stderr
    head, *steps = done.stdout.strip().splitlines()
    assert head.startswith("plan of pipeline-dept-harbour-ops: "), done.stdout
    assert any("smooth-readings: would run" in line for line in steps), done.stdout
    assert any("tide-report: would run" in line for line in steps), done.stdout
