"""The command a papermill user types, run through both `papermill` and `airnub notebook` (issue 21).

The same command line goes to both tools; the injected parameters cell and the exit status must match.
`--prepare-only` (papermill's, taken by airnub too) injects without starting a kernel, so most cases cost
no run; one case runs both tools for real. What airnub refuses on purpose is refused in one line.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from airnub.testing.helpers import KERNEL, RECORD, airnub, injected_cell, own_notebooks_dir, write_notebook

PAPERMILL = Path(sys.executable).parent / "papermill"

# A parameters cell as found in other people's notebooks: blocks, tuples, chained names, papermill's type comment.
THEIRS = "\n".join([
    "a = None", "b = None", "msg = None", "raw = None", "title: str = 'Report'", "names = ['a']", "alpha = 0.1",
    "try:", "    nb_name = __vsc_ipynb_file__", "except NameError:", "    nb_name = 'report.ipynb'",
    "if True:", "    debug = False", "width, height = 640, 480", "lo = hi = 0", "rate = 1  # type: float",
    "PAPERMILL_INPUT_PATH = None", "PAPERMILL_OUTPUT_PATH = None",
])
WRAPPED = base64.encodebytes(("msg: " + "a long message " * 8).encode()).decode()  # as `base64` prints it
assert "\n" in WRAPPED.strip()




@pytest.fixture
def theirs(subprocess_env, tmp_path):
    subprocess_env.update(own_notebooks_dir(tmp_path / "nbs"))
    return write_notebook(tmp_path / "nbs" / "theirs.ipynb", THEIRS, f"{RECORD}\nrecord('a', a)")


@pytest.mark.parametrize("arguments", [
    ("-p", "a", "-1", "-p", "b", "-1e-3", "-p", "msg", "-v", "-r", "raw", "-5d"),
    ("-p", "b", "-inf", "-p", "a", "-0.5"),
    ("-p", "nb_name", "weekly", "-p", "debug", "True", "-p", "width", "800", "-p", "hi", "9", "-p", "lo", "-9"),
    ("-p", "rate", "2.5"),
    ("-b", WRAPPED, "-p", "a", "1"),
    ("-k", "python3", "--execution-timeout", "30", "--no-progress-bar", "--autosave-cell-every", "5",
     "--request-save-on-cell-execute", "-p", "a", "1"),
    ("--inject-paths", "-p", "a", "1"),
], ids=["values-beginning-with-dash", "negative-infinity", "names-bound-in-blocks-tuples-chains",
        "type-comment", "wrapped-base64", "papermill-flags", "inject-paths"])
def test_the_same_command_line_injects_the_same_cell(theirs, subprocess_env, tmp_path, arguments):
    ours, reference = tmp_path / "airnub.ipynb", tmp_path / "papermill.ipynb"
    done = airnub("notebook", str(theirs), str(ours), "--prepare-only", *arguments, env=subprocess_env)
    expected = subprocess.run([PAPERMILL, str(theirs), str(reference), "--prepare-only", *arguments],
                              capture_output=True, text=True, timeout=120)
    assert (done.returncode, expected.returncode) == (0, 0), done.stderr + expected.stderr
    injected = injected_cell(ours)
    if "--inject-paths" in arguments:  # papermill names OUT as typed; both name it as typed here
        injected = injected.replace(str(ours), str(reference))
    assert injected == injected_cell(reference)
    assert "airnub: -k python3: the notebook runs in the project's kernel" in done.stderr or "-k" not in arguments


@pytest.mark.parametrize(("arguments", "expected"), [
    (("-p", "title", "None"), "parameter 'title' must be str, got 'None' (a NoneType, not str; None is accepted "
                              "by an optional parameter only (`title: str | None = ...`); -r passes the text 'None')"),
    (("-y", "title: null"), "parameter 'title' must be str, got None (a NoneType, not str; None is accepted by an "
                            "optional parameter only (`title: str | None = ...`))"),
    (("-y", "alpha: 1e-3"), "-y:1: 1e-3 is read as text by YAML 1.1, not as a number; write 0.001 for the number"),
    (("-p", "names", "x,y"), "must be list, got 'x,y' (a str, not list; write it in YAML, e.g. [x,y])"),
    (("-p", "alpha", "fast"), "annotate the parameter (`alpha: float | str = ...`) to accept this value"),
    (("-p", "titel", "Q3"), "unknown parameter 'titel'; closest: title (str, default 'Report'); all 16: "
                            "`airnub params "),
    (("--log-output",), "--log-output (papermill's) is not taken: the executed notebook and the HTML report hold"),
    (("--engine", "x"), "--engine (papermill's) is not taken: airnub runs every notebook with papermill's own engine"),
    (("--help-notebook",), "`airnub params NOTEBOOK` lists its parameters"),
    (("--prepare-only",), "--prepare-only writes the notebook with its parameters to OUT"),
    (("--inject-output-path",), "--inject-output-path needs an output path"),
], ids=["none-for-str", "yaml-null-for-str", "yaml-exponent", "list-advice", "inferred-type-advice",
        "closest-names", "log-output", "engine", "help-notebook", "prepare-only-without-out", "inject-without-out"])
def test_what_airnub_does_not_take_is_refused_in_one_line(theirs, subprocess_env, arguments, expected):
    done = airnub("notebook", str(theirs), *arguments, env=subprocess_env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("airnub: ") and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert expected in done.stderr, done.stderr
    assert "float = ..." not in done.stderr or "alpha" in arguments, "advice fits the value, not always float"
    assert not (Path(subprocess_env["AIRNUB_REPORTS_DIR"]) / "theirs").exists(), "nothing ran"


def test_an_output_path_gets_the_executed_notebook_as_papermill_writes_it(theirs, subprocess_env, tmp_path):
    ours, reference = tmp_path / "out" / "airnub.ipynb", tmp_path / "out" / "papermill.ipynb"
    ours.parent.mkdir()
    command = [str(theirs), "-p", "a", "-7", "--execution-timeout", "60"]
    done = airnub("notebook", command[0], str(ours), *command[1:], "-k", "python3", env=subprocess_env)
    expected = subprocess.run([PAPERMILL, command[0], str(reference), *command[1:], "-k", KERNEL],
                              capture_output=True, text=True, timeout=180)
    assert (done.returncode, expected.returncode) == (0, 0), done.stderr + expected.stderr
    assert f"output notebook: {ours}" in done.stdout
    assert json.loads(done.stdout.split("values: ")[1].splitlines()[0]) == {"a": -7}
    written = nbformat.read(ours, as_version=4)
    assert injected_cell(ours) == injected_cell(reference)
    assert written.metadata.papermill.output_path == str(ours)
    assert [cell.execution_count is not None for cell in written.cells if cell.cell_type == "code"] == [True] * 3
    assert done.stderr.count("airnub: -k python3: the notebook runs in the project's kernel") == 1, done.stderr
