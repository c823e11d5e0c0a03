"""Parameterised notebook runs through the papermill task, in a real kernel: contract, kernel, outputs, failures."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from prefect.artifacts import Artifact

from airnub.engine.notebook_execution import NotebookExecutionError, NotebookPathError
from airnub.engine.notebook_parameters import NotebookParameterError
from airnub.engine.settings import load_settings
from airnub.orchestration.notebook_flow import notebook_flow
from airnub.testing.helpers import RECORD, write_notebook

CONTRACT = "count: int = 1  # how many\nratio: float = 0.5  # a share\nlabel: str = 'x'"


@pytest.mark.parametrize(("parameters", "expected"), [
    ({"cuont": 3}, "unknown parameter 'cuont'; closest: count (int, default 1: how many); all "),
    ({"count": "three"}, "parameter 'count' must be int, got 'three'"),
    ({"ratio": [1]}, "parameter 'ratio' must be float, got [1]"),
])
def test_bad_parameters_are_refused_before_a_kernel_starts(notebooks_dir, project, parameters, expected):
    notebook = write_notebook(notebooks_dir / "contract.ipynb", CONTRACT, "print(count)")
    with pytest.raises(NotebookParameterError) as refused:
        notebook_flow(str(notebook), parameters)
    assert expected in str(refused.value)
    assert not project.reports.exists(), "no run folder: nothing started"


@pytest.mark.parametrize("timeout", [0, -1])
def test_a_timeout_that_is_not_positive_is_refused_not_read_as_default_or_none(notebooks_dir, project, timeout):
    """A flow's `cell_timeout=0` once ran with the 600 s default, and -1 with no timeout at all."""
    notebook = write_notebook(notebooks_dir / "contract.ipynb", CONTRACT, "print(count)")
    with pytest.raises(NotebookParameterError, match=f"cell_timeout must be a positive whole number of seconds, "
                                                     f"got '{timeout}'"):
        notebook_flow(str(notebook), cell_timeout=timeout)
    assert not project.reports.exists(), "no run folder: nothing started"


def test_parameters_for_a_notebook_without_a_parameters_cell_are_refused(notebooks_dir, project):
    notebook = write_notebook(notebooks_dir / "plain.ipynb", None, "print('hello')")
    with pytest.raises(NotebookParameterError, match="has no cell tagged 'parameters'"):
        notebook_flow(str(notebook), {"count": 2})
    assert notebook_flow(str(notebook)).output_notebook.exists(), "without parameters it runs"


def test_runs_in_the_project_kernel_whatever_the_notebook_metadata_says(notebooks_dir):
    notebook = write_notebook(notebooks_dir / "elsewhere.ipynb", "n: int = 0", RECORD,
                              "import sys\nrecord('python', sys.executable)", kernel="someone-elses-kernel")
    run = notebook_flow(str(notebook))
    expected = KernelSpecManager().get_kernel_spec(load_settings().kernel_name).argv[0]
    assert run.values["python"] == expected
    assert Path(expected).parent == Path(sys.executable).parent, "the project's .venv"


def test_run_folder_holds_notebook_html_with_plots_and_manifest(notebooks_dir, project, tmp_path):
    data = tmp_path / "readings.csv"
    data.write_text("v\n1\n4\n9\n")
    notebook = write_notebook(
        notebooks_dir / "plot.ipynb", "source: str = ''  # a CSV file\ntitle: str = 'Readings'", RECORD,
        "%matplotlib inline\nimport pandas as pd\nframe = pd.read_csv(source)\nax = frame.plot(title=title)",
        "record('rows', len(frame))\nrecord('total', frame['v'].sum())")
    run = notebook_flow(str(notebook), {"source": str(data), "title": "../../outside"})
    assert run.run_dir.parent == project.reports / "plot", "the folder comes from the notebook, not a parameter"
    assert sorted(p.name for p in run.run_dir.iterdir()) == ["plot.html", "plot.ipynb", "run.json"]
    assert "data:image/png;base64," in run.html.read_text()
    manifest = json.loads(run.manifest.read_text())
    assert manifest["status"] == "completed" and manifest["parameters"]["title"] == "../../outside"
    assert manifest["values"] == run.values == {"rows": 3, "total": 14}
    assert list(manifest["depends"]["files"]) == [str(data)] and len(manifest["depends"]["files"][str(data)][0]) == 64
    assert {"step", "code", "cwd", "versions", "duration_seconds", "kernel", "reason"} <= set(manifest)
    artifact = Artifact.get("notebook-plot")
    assert "| rows | 3 |" in artifact.data and "| total | 14 |" in artifact.data and run.html.name in artifact.data


def test_failing_cell_names_notebook_cell_and_error_and_publishes_it(notebooks_dir, project):
    notebook = write_notebook(notebooks_dir / "fragile.ipynb", "limit: int = 3",
                              "print('checked so far')", "assert limit < 3, f'limit {limit} is too high'")
    with pytest.raises(NotebookExecutionError) as failed:
        notebook_flow(str(notebook), {"limit": 5})
    assert "fragile.ipynb: cell 3 raised AssertionError: limit 5 is too high" in str(failed.value)
    (run_dir,) = (project.reports / "fragile").iterdir()
    assert "checked so far" in (run_dir / "fragile.html").read_text()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"
    artifact = Artifact.get("failed-fragile")
    assert "limit 5 is too high" in artifact.data and str(run_dir) in artifact.data


def live_kernels() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True)
            if p.status() != psutil.STATUS_ZOMBIE and "ipykernel_launcher" in " ".join(p.cmdline())]


def test_a_hung_cell_is_stopped_by_the_timeout_and_its_kernel_with_it(notebooks_dir):
    notebook = write_notebook(notebooks_dir / "hung.ipynb", "seconds: int = 600", "import time\ntime.sleep(seconds)")
    with pytest.raises(NotebookExecutionError, match=r"hung.ipynb: cell 2 \(`import time`\) timed out after 3 s"):
        notebook_flow(str(notebook), cell_timeout=3)
    assert live_kernels() == []


def test_a_killed_kernel_fails_the_run_clearly(notebooks_dir, project):
    notebook = write_notebook(notebooks_dir / "victim.ipynb", "seconds: int = 600", "import time\ntime.sleep(seconds)")

    def kill_the_kernel_once_it_runs() -> None:
        deadline = time.monotonic() + 120
        while not (kernels := live_kernels()) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # let it reach the sleeping cell
        for kernel in kernels:
            kernel.kill()
    killer = threading.Thread(target=kill_the_kernel_once_it_runs, daemon=True)
    killer.start()
    with pytest.raises(NotebookExecutionError, match="victim.ipynb: the kernel died while running cell 2"):
        notebook_flow(str(notebook))
    killer.join()
    assert live_kernels() == []
    (run_dir,) = (project.reports / "victim").iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"


def test_retries_rerun_a_failed_notebook(notebooks_dir, project, tmp_path):
    marker = tmp_path / "first-attempt-done"
    notebook = write_notebook(notebooks_dir / "flaky.ipynb", f"marker: str = {str(marker)!r}",
                              "from pathlib import Path\nif not Path(marker).exists():\n"
                              "    Path(marker).touch()\n    raise RuntimeError('transient failure')")
    run = notebook_flow(str(notebook), retries=1)
    statuses = sorted(json.loads((d / "run.json").read_text())["status"] for d in (project.reports / "flaky").iterdir())
    assert statuses == ["completed", "failed"] and run.output_notebook.exists()


def test_notebooks_outside_the_notebooks_folder_are_refused(notebooks_dir, tmp_path):
    outside = write_notebook(tmp_path / "outside.ipynb", "n: int = 0", "print(n)")
    (notebooks_dir / "link.ipynb").symlink_to(outside)
    for path in (outside, notebooks_dir / ".." / "outside.ipynb", notebooks_dir / "link.ipynb"):
        with pytest.raises(NotebookPathError, match="only notebooks inside"):
            notebook_flow(str(path))
