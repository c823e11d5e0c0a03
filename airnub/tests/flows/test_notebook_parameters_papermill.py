"""`airnub notebook` against papermill's own command line, on notebooks written for papermill (issue 11).

Where the parameters are untyped, both tools must inject the same cell; every other difference
is a refusal with a one-line reason (exit 2, nothing run).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from airnub.testing.helpers import RECORD, airnub, injected_cell, own_notebooks_dir, write_notebook

PAPERMILL = Path(sys.executable).parent / "papermill"
LONG_TITLE = "Wine cultivar classifier: evaluation of the held-out rows, " * 5  # 295 characters

# papermill's most common pattern: untyped parameters with default None
THIRD_PARTY = "\n".join([
    "msg = None", "version = None", "time = None", "tag = None", "mention = None", "fmt = None", "emphasis = None",
    "day = None", "flag = None", "title = None", "code = None", "extra = None", "channel = None", "source = None",
    "start_date: str = '2020-01-01'",
])
ARGUMENTS = [
    "-p", "msg", "#general", "-p", "version", "0123", "-p", "time", "12:30", "-p", "tag", "[draft] weekly report",
    "-p", "mention", "@user", "-p", "fmt", "%d", "-p", "emphasis", "*bold*", "-p", "day", "2019-01-01",
    "-p", "flag", "True", "-p", "title", LONG_TITLE, "-r", "code", "0123", "-y", "extra: 12",
    "-b", base64.b64encode(b"source: encoded\nchannel: '#b64'").decode(),  # merged first, whatever its place
]




@pytest.fixture
def nbs(subprocess_env, tmp_path):
    subprocess_env.update(own_notebooks_dir(tmp_path / "nbs"))
    return tmp_path / "nbs"


def test_untyped_parameters_get_the_values_papermill_gives_them(nbs, subprocess_env, tmp_path):
    notebook = write_notebook(nbs / "third_party.ipynb", THIRD_PARTY, f"{RECORD}\nrecord('day', day)\n"
                              "record('types', {n: type(v).__name__ for n, v in dict(globals()).items() if n in "
                              "('msg', 'version', 'time', 'day', 'flag', 'code', 'extra', 'start_date')})\n"
                              "record('from_b_and_f', [source, channel])")
    (tmp_path / "params.yaml").write_text("start_date: 2011-01-01\nchannel: '#ops'\n")
    arguments = ["-f", str(tmp_path / "params.yaml"), *ARGUMENTS]
    done = airnub("notebook", str(notebook), *arguments, env=subprocess_env)
    assert done.returncode == 0, done.stderr
    reference = subprocess.run([PAPERMILL, str(notebook), str(tmp_path / "papermill.ipynb"), "--prepare-only",
                                *arguments], capture_output=True, text=True, timeout=120)
    assert reference.returncode == 0, reference.stderr
    executed = Path(done.stdout.split("executed notebook: ")[1].splitlines()[0])
    assert injected_cell(executed) == injected_cell(tmp_path / "papermill.ipynb")
    values = json.loads(done.stdout.split("values: ")[1].splitlines()[0])
    assert values == {"day": "2019-01-01", "types": {
        "msg": "str", "version": "int", "time": "str", "day": "str", "flag": "bool", "code": "str", "extra": "int",
        "start_date": "str"}, "from_b_and_f": ["encoded", "#ops"]}


def test_magics_constant_defaults_optional_and_element_types(nbs, subprocess_env):
    notebook = write_notebook(nbs / "typed.ipynb", "\n".join([
        "%matplotlib inline", "!echo installing", "from typing import List, Optional", "size = 10**3  # rows",
        "x: int | None = None", "s: str = None", "n: Optional[int] = 3", "names: List[str] = []",
        "counts: dict[str, int] = {}", "model_key: str = 'm'", "sort_pass: int = 1  # not-secret: which pass"]),
        f"{RECORD}\nfor name in ('size', 'x', 's', 'n', 'names', 'counts', 'model_key', 'sort_pass'):\n"
        "    record(name, [type(globals()[name]).__name__, globals()[name]])")
    done = airnub("notebook", str(notebook), "-p", "size", "500", "-p", "x", "None", "-p", "s", "None", "-p", "n", "5",
                  "-p", "names", "[a, '0123']", "-p", "counts", "{a: 1}", "-p", "model_key", "k", "-p", "sort_pass",
                  "2", env=subprocess_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.split("values: ")[1].splitlines()[0]) == {
        "size": ["int", 500], "x": ["NoneType", None], "s": ["NoneType", None], "n": ["int", 5],
        "names": ["list", ["a", "0123"]], "counts": ["dict", {"a": 1}], "model_key": ["str", "k"],
        "sort_pass": ["int", 2]}


TYPED = "n: Optional[int] = None\nflag: bool = False\nnames: list[str] = []\nthreshold = 0\ncount: int = 1"


@pytest.mark.parametrize(("arguments", "expected"), [
    (("-p", "n", "five"), "parameter 'n' must be int | None, got 'five' (a str, none of int | None)"),
    (("-p", "flag", "yes"), "parameter 'flag' must be bool, got 'yes' (a str, not bool; write True or False)"),
    (("-p", "names", "[a, 2]"), "parameter 'names' must be list[str], got '[a, 2]' (item 1 is int 2, not str"),
    (("-p", "threshold", "0.5"),
     "the type comes from the default 0: annotate the parameter (`threshold: float = ...`)"),
    (("-r", "count", "5"), "parameter 'count' must be int, got '5' (a str, not int; -r passes text unconverted, "
                           "-p converts it)"),
    (("-y", "count: 0123"), "-y:1: 0123 is read as 83 by YAML 1.1; quote it ('0123') to keep the text"),
    (("-y", "[count]"), "-y: expected a mapping of parameter names to values, got list"),
    (("-p", "authToken", "abc"), "parameter 'authToken' looks like a secret"),
], ids=["optional-int", "bool-word", "list-element", "inferred-type", "raw-for-int", "yaml-octal", "yaml-list",
        "secret"])
def test_what_papermill_would_inject_differently_is_refused_with_the_reason(nbs, subprocess_env, arguments, expected):
    notebook = write_notebook(nbs / "typed.ipynb", TYPED, "print(n)")
    done = airnub("notebook", str(notebook), *arguments, env=subprocess_env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"airnub: {notebook}: ") or done.stderr.startswith("airnub: -y"), done.stderr
    assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (Path(subprocess_env["AIRNUB_REPORTS_DIR"]) / "typed").exists(), "nothing ran"


def test_a_parameters_cell_that_is_not_python_is_named_with_its_line(nbs, subprocess_env):
    notebook = write_notebook(nbs / "broken.ipynb", "%matplotlib inline\nrows = 5\nif rows >\n", "print(rows)")
    done = airnub("notebook", str(notebook), "-p", "rows", "3", env=subprocess_env)
    assert done.returncode == 2
    assert done.stderr == f"airnub: {notebook}: the parameters cell is not valid Python at line 3 (invalid syntax); " \
                          "fix that line\n"
