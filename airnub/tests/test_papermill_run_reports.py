"""What a run reports, as papermill's command reports it (issue 21, items 7-10).

Each case runs one notebook through `papermill` (the command a user already types) and through `airnub notebook`,
and compares what the user then sees: the cell a stopped run names, the exit status, the executed notebook's
papermill metadata, the code hidden by `--report-mode`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from airnub.testing.helpers import KERNEL, airnub, own_notebooks_dir, write_notebook

PAPERMILL = Path(sys.executable).parent / "papermill"


def papermill(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """Run papermill's own command in the project kernel, as a papermill user does."""
    return subprocess.run([PAPERMILL, *args, "-k", KERNEL, "--no-progress-bar"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def last_started(notebook: Path) -> nbformat.NotebookNode:
    """The cell that was running when the run stopped: the last one papermill gave a start time."""
    return [c for c in nbformat.read(notebook, as_version=4).cells if c.metadata.papermill.get("start_time")][-1]


def executed_notebook(done: subprocess.CompletedProcess) -> Path:
    """The executed notebook of an `airnub notebook` run, from its output (a failed run names its partial report)."""
    if done.returncode == 0:
        return Path(done.stdout.split("executed notebook: ")[1].splitlines()[0])
    return Path(done.stderr.split("(partial report: ")[1].split(")")[0]).with_suffix(".ipynb")


@pytest.fixture
def notebooks(subprocess_env, tmp_path) -> Path:
    """A notebooks folder of the test's own (outside the project, as settings.ini allows)."""
    subprocess_env.update(own_notebooks_dir(tmp_path / "nbs"))
    return tmp_path / "nbs"


def test_a_timeout_names_the_cell_that_was_running_as_papermill_does(notebooks, subprocess_env, tmp_path):
    """Once named the notebook's last cell (papermill marks the cells it never started "completed" at the end)."""
    notebook = write_notebook(notebooks / "slow.ipynb", "seconds: int = 60", "import time\nprint('warming up')",
                              "time.sleep(seconds)  # the slow step", "print('never reached')")
    theirs = papermill(str(notebook), str(tmp_path / "theirs.ipynb"), "--execution-timeout", "5",
                       env=subprocess_env, cwd=tmp_path)
    ours = airnub("notebook", str(notebook), "--timeout", "5", env=subprocess_env)
    assert theirs.returncode == ours.returncode == 1, theirs.stderr[-2000:] + ours.stderr
    running = last_started(tmp_path / "theirs.ipynb").source
    assert running == "time.sleep(seconds)  # the slow step" and running in theirs.stderr
    assert ours.stderr.splitlines()[-1].startswith(f"airnub: slow.ipynb: cell 3 (`{running}`) timed out after 5 s")
    assert last_started(executed_notebook(ours)).source == running


@pytest.mark.parametrize("fatal", ["os._exit(1)", "os.kill(os.getpid(), 9)"])
def test_a_dead_kernel_exits_138_naming_the_cell_as_papermill_does(notebooks, subprocess_env, tmp_path, fatal):
    """Once exited 1 (scripts test for papermill's 138) and named the last cell."""
    notebook = write_notebook(notebooks / "fatal.ipynb", "n: int = 0", "import os\nprint('about to go')",
                              f"{fatal}  # the fatal step", "n += 1")
    theirs = papermill(str(notebook), str(tmp_path / "theirs.ipynb"), env=subprocess_env, cwd=tmp_path)
    ours = airnub("notebook", str(notebook), env=subprocess_env)
    assert theirs.returncode == ours.returncode == 138, theirs.stderr[-2000:] + ours.stderr
    running = last_started(tmp_path / "theirs.ipynb").source
    assert running == f"{fatal}  # the fatal step"
    assert ours.stderr.splitlines()[-1].startswith(f"airnub: fatal.ipynb: the kernel died while running cell 3 "
                                                   f"(`{running}`)")
    assert last_started(executed_notebook(ours)).source == running


def test_other_failures_keep_exit_status_1(notebooks, subprocess_env, tmp_path):
    """The dead kernel's 138 is its own: a cell that raises exits 1 in both commands."""
    notebook = write_notebook(notebooks / "raises.ipynb", "n: int = 0", "raise ValueError('bad input')")
    theirs = papermill(str(notebook), str(tmp_path / "theirs.ipynb"), env=subprocess_env, cwd=tmp_path)
    ours = airnub("notebook", str(notebook), env=subprocess_env)
    assert theirs.returncode == ours.returncode == 1, ours.stderr
    assert "raises.ipynb: cell 2 raised ValueError: bad input" in ours.stderr


def test_the_executed_notebook_records_its_own_path_as_papermills_does(notebooks, subprocess_env, tmp_path):
    """`metadata.papermill.output_path` once named the `.partial` file the run wrote to and then renamed."""
    notebook = write_notebook(notebooks / "square.ipynb", "side: int = 2", "print(side * side)")
    theirs = papermill(str(notebook), str(tmp_path / "theirs.ipynb"), "-p", "side", "3",
                       env=subprocess_env, cwd=tmp_path)
    ours = airnub("notebook", str(notebook), "-p", "side", "3", env=subprocess_env)
    assert theirs.returncode == ours.returncode == 0, theirs.stderr[-2000:] + ours.stderr
    their_meta = nbformat.read(tmp_path / "theirs.ipynb", as_version=4).metadata.papermill
    output = executed_notebook(ours)
    our_meta = nbformat.read(output, as_version=4).metadata.papermill
    assert their_meta.output_path == str(tmp_path / "theirs.ipynb") and our_meta.output_path == str(output)
    assert output.is_file() and ".partial" not in our_meta.output_path
    assert our_meta.input_path == their_meta.input_path == str(notebook)
    assert our_meta.parameters == their_meta.parameters == {"side": 3}


def test_report_mode_hides_the_code_in_the_executed_notebook_as_papermills_does(notebooks, subprocess_env, tmp_path):
    """`--report-mode` once hid the code in the HTML only: the `.ipynb` opened with every code cell expanded."""
    notebook = write_notebook(notebooks / "review.ipynb", "side: int = 2", "print(side * side)")
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("# Review"))
    nb.cells[2].metadata["jupyter"] = {"outputs_hidden": True}  # papermill replaces what was there
    nbformat.write(nb, notebook)
    theirs = papermill(str(notebook), str(tmp_path / "theirs.ipynb"), "--report-mode", "-p", "side", "3",
                       env=subprocess_env, cwd=tmp_path)
    ours = airnub("notebook", str(notebook), "--report-mode", "-p", "side", "3", env=subprocess_env)
    assert theirs.returncode == ours.returncode == 0, theirs.stderr[-2000:] + ours.stderr

    def hidden(path: Path) -> list:
        return [(c.cell_type, c.metadata.get("jupyter")) for c in nbformat.read(path, as_version=4).cells]
    expected = [("code", {"source_hidden": True})] * 2 + [("markdown", None), ("code", {"source_hidden": True})]
    assert hidden(executed_notebook(ours)) == hidden(tmp_path / "theirs.ipynb") == expected
    full = Path(ours.stdout.split("report with code: ")[1].splitlines()[0]).read_text()
    assert "side</span>" in full, "the page for the notebook's authors still shows the code"
