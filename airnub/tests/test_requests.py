"""A command is parsed and checked once, into a typed request that travels as it is (no server, no kernel)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields

import pytest

from airnub.cli.main import request_of
from airnub.commands.requests import KINDS, NotebookRequest, RequestError, RunRequest, from_wire, to_wire
from airnub.testing.helpers import PROJECT_ROOT, own_notebooks_dir, write_notebook


def test_every_kind_of_request_comes_back_from_its_json_as_it_was_sent():
    for kind in KINDS.values():
        sample = {"str": "x", "str | None": None, "bool": True, "int | None": 30, "dict": {"a": [1]},
                  "list[str]": ["in.csv"]}
        request = kind(**{item.name: sample[item.type] for item in fields(kind)})
        assert from_wire(to_wire(request)) == request


@pytest.mark.parametrize("data, message", [
    (["notebook", "nbs/x.ipynb"], "not a command request: expected an object whose kind is one of run, notebook"),
    ({"kind": "run", "department": "demo", "stage": None, "plan": "yes", "json": False},
     "run request: field 'plan' must be bool, got str"),
    ({"kind": "sweep", "notebook": "n", "grid": {}, "use_cache": True, "timeout": True},
     "sweep request: field 'timeout' must be int | None, got bool"),
    ({"kind": "server", "action": "start", "argv": ["--help"]}, "server request: unknown field 'argv'"),
])
def test_a_request_that_does_not_validate_is_refused_in_one_line(data, message):
    with pytest.raises(RequestError) as refused:
        from_wire(data)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value), str(refused.value)


def test_the_command_line_checks_a_notebook_once_into_its_request(tmp_path, monkeypatch):
    for name, value in own_notebooks_dir(tmp_path / "nbs").items():
        monkeypatch.setenv(name, value)
    notebook = write_notebook(tmp_path / "nbs" / "probe.ipynb", "alpha: float = 0.5", "print(alpha)")
    request = request_of(["notebook", str(notebook), "-p", "alpha", "-1e-3", "--no-cache", "--timeout", "30"])
    assert request == NotebookRequest(str(notebook.resolve()), {"alpha": -0.001}, use_cache=False, timeout=30)
    assert from_wire(to_wire(request)) == request, "what the runner receives is what was checked"
    with pytest.raises(RequestError, match="^run request: field 'department' must be str, got int$"):
        from_wire(to_wire(RunRequest(department=7)))


def test_the_runner_and_the_command_line_do_not_import_each_other():
    runner = "import sys, airnub.services.warm_runner, airnub.commands.execution"
    imported = subprocess.run([sys.executable, "-c", f"{runner}; print(sorted(m for m in sys.modules "
                               "if m.startswith('airnub.cli')))"], capture_output=True, text=True, timeout=120,
                              cwd=PROJECT_ROOT)
    assert imported.stdout.strip() == "[]", imported.stdout + imported.stderr
    cli = subprocess.run([sys.executable, "-c", "import sys, airnub.cli.main; "
                          "print(sorted(m for m in sys.modules if 'warm_runner' in m))"],
                         capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert cli.stdout.strip() == "[]", "the command line imports the runner's wire only when it forwards"
