"""A notebook run's record holds what the run really read: edits during a run, files it opens on its own, helper
modules, folders named by parameters and the working folder each make the next `airnub notebook` run, saying why."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from airnub.testing.helpers import AIRNUB, PROJECT_ROOT, RECORD, airnub, own_notebooks_dir, write_notebook


def values(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.split("values: ")[1].splitlines()[0])


@pytest.fixture
def study(subprocess_env, tmp_path):
    """A notebooks folder of the test's own, for `airnub notebook` in a subprocess."""
    subprocess_env.update(own_notebooks_dir(tmp_path / "nbs"))
    (tmp_path / "nbs").mkdir()
    return tmp_path / "nbs"


def run_while(notebook: Path, env: dict, marker: Path, change) -> subprocess.CompletedProcess:
    """`airnub notebook NOTEBOOK`, calling `change()` once the run has reached its sleeping cell (`marker` exists)."""
    process = subprocess.Popen([AIRNUB, "notebook", str(notebook)], cwd=PROJECT_ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None and time.monotonic() < deadline, "the run never reached its sleeping cell"
            time.sleep(0.1)
        change()
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def sleeping(marker: Path) -> str:
    return f"import time\nopen({str(marker)!r}, 'w').close()\ntime.sleep(4)"


def test_a_notebook_edited_during_its_run_runs_again_with_the_new_code(study, subprocess_env, tmp_path):
    marker = tmp_path / "asleep"
    notebook = write_notebook(study / "edited.ipynb", None, RECORD, sleeping(marker), "record('answer', 1)")
    edit = lambda: notebook.write_text(notebook.read_text().replace("record('answer', 1)", "record('answer', 2)"))  # noqa: E731
    first = run_while(notebook, subprocess_env, marker, edit)
    assert values(first) == {"answer": 1}, "the run kept the code it started with"
    again = airnub("notebook", str(notebook), env=subprocess_env)
    assert values(again) == {"answer": 2} and "ran: notebook changed during its last run" in again.stdout


def test_a_package_module_saved_during_a_run_makes_the_next_run_run(study, subprocess_env, tmp_path):
    name = f"_probe_{uuid.uuid4().hex[:8]}"
    module = PROJECT_ROOT / "airnub_prefect_starter" / f"{name}.py"
    module.write_text("VALUE = 1\n")
    try:
        marker = tmp_path / "asleep"
        notebook = write_notebook(study / "imports.ipynb", None, RECORD, f"from airnub_prefect_starter import {name}",
                                  sleeping(marker), f"record('value', {name}.VALUE)")
        first = run_while(notebook, subprocess_env, marker, lambda: module.write_text("VALUE = 2\n"))
        assert values(first) == {"value": 1}
        again = airnub("notebook", str(notebook), env=subprocess_env)
        assert values(again) == {"value": 2}, again.stdout
        assert f"ran: module airnub_prefect_starter.{name} changed during its last run" in again.stdout
    finally:
        module.unlink(missing_ok=True)
        for compiled in module.parent.glob(f"__pycache__/{name}.*"):
            compiled.unlink()


def test_files_and_helper_modules_a_notebook_opens_itself_are_what_it_depends_on(study, subprocess_env):
    (study / "rate.txt").write_text("2\n")
    (study / "helper.py").write_text("FACTOR = 10\n")
    notebook = write_notebook(study / "reader.ipynb", None, f"{RECORD}\nimport helper",
                              "record('total', helper.FACTOR * int(open('rate.txt').read()))")
    assert values(airnub("notebook", str(notebook), env=subprocess_env)) == {"total": 20}
    again = airnub("notebook", str(notebook), env=subprocess_env)
    (study / "rate.txt").write_text("3\n")
    changed = airnub("notebook", str(notebook), env=subprocess_env)
    assert values(changed) == {"total": 30}
    (study / "helper.py").write_text("FACTOR = 100\n")
    helper = airnub("notebook", str(notebook), env=subprocess_env)
    assert values(helper) == {"total": 300}
    assert "served from the cache: nothing it depends on changed" in again.stdout
    assert f"ran: {study / 'rate.txt'} changed" in changed.stdout and "ran: module helper changed" in helper.stdout


def test_the_contents_of_a_folder_a_parameter_names_are_what_the_run_depends_on(study, subprocess_env, tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "a.txt").write_text("1\n")
    notebook = write_notebook(study / "folder.ipynb", f"folder: str = {str(tables)!r}",
                              f"{RECORD}\nimport os\nfrom pathlib import Path",
                              "record('total', sum(int((Path(folder) / n).read_text()) for n in os.listdir(folder)))")
    assert values(airnub("notebook", str(notebook), env=subprocess_env)) == {"total": 1}
    (tables / "b.txt").write_text("4\n")
    more = airnub("notebook", str(notebook), env=subprocess_env)
    assert values(more) == {"total": 5}
    assert f"ran: {tables} changed" in more.stdout


def test_another_working_folder_is_another_run(study, subprocess_env, tmp_path):
    notebook = write_notebook(study / "here.ipynb", None, f"{RECORD}\nfrom pathlib import Path",
                              "record('here', Path('mark.txt').read_text() if Path('mark.txt').exists() else '')")
    assert values(airnub("notebook", str(notebook), env=subprocess_env)) == {"here": ""}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "mark.txt").write_text("elsewhere")
    moved = airnub("notebook", str(notebook), "--cwd", str(elsewhere), env=subprocess_env)
    assert values(moved) == {"here": "elsewhere"}
    assert "ran: working folder changed" in moved.stdout
