"""The notebook run cache: hits and misses exactly as a user expects, across processes."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_output

from airnub.orchestration.notebook_flow import notebook_flow
from airnub.testing.helpers import RECORD, write_notebook


@pytest.fixture
def summing(notebooks_dir, tmp_path):
    """A notebook that sums a CSV file named by a parameter, and that file."""
    data = tmp_path / "numbers.csv"
    data.write_text("v\n1\n2\n")
    notebook = write_notebook(notebooks_dir / "summing.ipynb", f"source: str = {str(data)!r}\nscale: int = 1",
                              f"{RECORD}\nimport pandas as pd",
                              "record('total', int(pd.read_csv(source)['v'].sum()) * scale)")
    first = notebook_flow(str(notebook))
    assert not first.from_cache and first.values == {"total": 3}
    return notebook, data, first


def edit(notebook, change):
    node = nbformat.read(notebook, as_version=4)
    change(node)
    nbformat.write(node, notebook)


def test_unchanged_run_is_served_from_the_cache(summing, caplog):
    notebook, _, first = summing
    again = notebook_flow(str(notebook))
    assert again.from_cache and again.run_dir == first.run_dir and again.values == first.values
    assert any("served from the cache" in r.getMessage() for r in caplog.records)


def test_markdown_and_outputs_do_not_invalidate(summing):
    notebook, _, first = summing

    def prose_and_outputs(node):
        node.cells.insert(0, new_markdown_cell("# Sums, explained at length"))
        node.cells[-1].outputs = [new_output("stream", text="an old output\n")]
    edit(notebook, prose_and_outputs)
    assert notebook_flow(str(notebook)).from_cache


@pytest.mark.parametrize("change", ["code cell", "parameter", "input file", "deleted report"])
def test_what_invalidates_the_cache(summing, change):
    notebook, data, first = summing
    parameters = {}
    if change == "code cell":
        edit(notebook, lambda node: setattr(node.cells[-1], "source", node.cells[-1].source.replace("* scale", "* 10")))
    elif change == "parameter":
        parameters = {"scale": 2}
    elif change == "input file":
        data.write_text("v\n1\n2\n3\n")
    else:
        first.html.unlink()
    rerun = notebook_flow(str(notebook), parameters)
    assert not rerun.from_cache and rerun.run_dir != first.run_dir
    assert rerun.values == {"code cell": {"total": 30}, "parameter": {"total": 6},
                            "input file": {"total": 6}}.get(change, {"total": 3})


def test_no_cache_forces_a_run(summing):
    notebook, _, first = summing
    forced = notebook_flow(str(notebook), use_cache=False)
    assert not forced.from_cache and forced.run_dir != first.run_dir


def test_a_file_the_run_writes_does_not_make_the_next_run_miss(notebooks_dir, tmp_path):
    """A parameter that names the run's own output (a summary table): the file is there for the second run only."""
    summary = tmp_path / "summary.csv"
    notebook = write_notebook(notebooks_dir / "summary.ipynb", f"summary_table: str = {str(summary)!r}",
                              "from pathlib import Path\nPath(summary_table).write_text('total\\n3\\n')")
    first = notebook_flow(str(notebook))
    assert not first.from_cache and summary.exists()
    again = notebook_flow(str(notebook))
    assert again.from_cache and again.run_dir == first.run_dir, "nothing changed since the first run ended"
    summary.write_text("total\n4\n")  # edited (or damaged) since: the run makes it again
    third = notebook_flow(str(notebook))
    assert not third.from_cache and summary.read_text() == "total\n3\n"
