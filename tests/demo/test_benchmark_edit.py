"""`make bench`'s one-function edit (scripts/benchmark_edit.py) still finds the line it edits in the training notebook:
a change of the notebook that moves the line stops the benchmark only after the whole pipeline ran, minutes in."""

from __future__ import annotations

import ast
import importlib.util
import json

from airnub.testing.helpers import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("benchmark_edit", PROJECT_ROOT / "scripts" / "benchmark_edit.py")
benchmark_edit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark_edit)


def test_the_benchmarks_edit_is_one_valid_change_of_the_training_function():
    cells = json.loads((PROJECT_ROOT / benchmark_edit.NOTEBOOK).read_text(encoding="utf-8"))["cells"]
    found = [cell for cell in cells if benchmark_edit.EDIT[0] in "".join(cell["source"])]
    assert len(found) == 1, f"{benchmark_edit.EDIT[0]} is in {len(found)} cells of {benchmark_edit.NOTEBOOK}"
    edited = "".join(found[0]["source"]).replace(*benchmark_edit.EDIT)
    tree = ast.parse(edited)  # the edited function is still Python
    assert "test_rows" in ast.unparse(tree) and "def train_and_save" in edited
