"""The notebooks add_task.py writes: a core notebook exporting the task's function, or a report notebook."""

from __future__ import annotations

import ast
import builtins
import json
import re
import textwrap
from functools import cache
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from airnub.scaffolding.names import ScaffoldError

KERNELSPEC = {"language": "python"}  # name and display name: the project kernel, from settings.ini


def _notebook(cells: list, kernel_name: str) -> str:
    for index, cell in enumerate(cells):
        cell.id = f"c{index:03d}"
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {**KERNELSPEC, "name": kernel_name,
                                                                  "display_name": kernel_name}})
    return nbformat.writes(notebook) + "\n"


def _prose(text: str) -> object:
    """A markdown cell with each paragraph of `text` (but headings and quotes) wrapped at 95 columns."""
    paragraphs = [p if p.startswith(("#", ">")) else textwrap.fill(" ".join(p.split()), 95, break_on_hyphens=False)
                  for p in text.split("\n\n")]
    return new_markdown_cell("\n\n".join(paragraphs))


def next_number(folder: Path) -> str:
    """The next free two-digit prefix in `folder`: ten past the highest one (`40_x` -> `50`)."""
    numbers = [int(m.group(1)) for p in folder.glob("*.ipynb") if (m := re.match(r"(\d+)", p.name))]
    return f"{(max(numbers, default=-10) // 10 + 1) * 10:02d}"


def exports_function(path: Path, module: str, function: str) -> bool:
    """Whether the notebook at `path` exports `module` with a function named `function`."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]
    return (any(s.strip() == f"#| default_exp {module}" for s in sources)
            and any(s.startswith("#| export") and re.search(rf"^def {function}\(", s, re.M) for s in sources))


def _function_cells(task: str) -> list:
    """The core notebook's `<task>(frame, window, columns)`: the exported function, a sentence, its tests."""
    return [
        new_code_cell(
            f"#| export\ndef {task}(\n"
            "    frame: pd.DataFrame,  # the table to work on\n"
            "    window: int,  # how many consecutive rows each mean covers\n"
            "    columns: list[str] | None = None,  # numeric columns to change; None or empty: every numeric one\n"
            ") -> pd.DataFrame:\n"
            '    "A copy of `frame` with the rolling mean of `window` rows in place of each of `columns`."\n'
            "    if isinstance(window, bool) or not isinstance(window, int) or window < 1:\n"
            '        raise ValueError(f"window must be a whole number of rows, at least 1; got {window!r}")\n'
            '    numeric = list(frame.select_dtypes("number").columns)\n'
            "    columns = list(columns or numeric)\n"
            "    if not columns or any(column not in numeric for column in columns):\n"
            '        raise ValueError(f"columns must be numeric columns of the table ({numeric}); got {columns}")\n'
            "    result = frame.copy()\n"
            "    result[columns] = frame[columns].rolling(window, min_periods=1).mean()\n"
            "    return result"),
        new_markdown_cell("The first rows average over the rows there are, so the table keeps its length; "
                          "text columns pass through."),
        new_code_cell(
            'readings = pd.DataFrame({"site": ["a", "a", "b", "b"], "level": [1.0, 3.0, 5.0, 7.0], '
            '"count": [2, 4, 6, 8]})\n'
            f"smoothed = {task}(readings, window=2)\n"
            'assert smoothed["level"].tolist() == [1.0, 2.0, 4.0, 6.0]\n'
            'assert smoothed["count"].tolist() == [2.0, 3.0, 5.0, 7.0]\n'
            'assert smoothed["site"].tolist() == ["a", "a", "b", "b"], "text columns stay as they are"\n'
            'assert readings["level"].tolist() == [1.0, 3.0, 5.0, 7.0], "the input is not changed"\n'
            f'assert {task}(readings, window=2, columns=["level"])["count"].tolist() == [2, 4, 6, 8]\n'
            'for bad, named in [({"window": 0}, "window"), ({"window": 2, "columns": ["site"]}, "site")]:\n'
            "    try:\n"
            f"        {task}(readings, **bad)\n"
            '        raise AssertionError(f"{bad} should have been refused")\n'
            "    except ValueError as error:\n"
            "        assert named in str(error)"),
    ]


def _file_cells(task: str) -> list:
    """The core notebook's `<task>_file(...)`: the exported function on parquet files, a sentence, its tests."""
    return [
        new_code_cell(
            f"#| export\ndef {task}_file(\n"
            "    input_file: Path,  # parquet table to read\n"
            "    output_file: Path,  # parquet table to write (replaced in one rename)\n"
            "    window: int,  # how many consecutive rows each mean covers\n"
            "    columns: list[str] | None = None,  # numeric columns to change; None or empty: every numeric one\n"
            ") -> dict:\n"
            f'    "Apply `{task}` to the table in `input_file`, write `output_file`; return its shape."\n'
            "    if not Path(input_file).exists():\n"
            '        raise FileNotFoundError(f"{input_file} does not exist: run the stage that writes it first")\n'
            f"    result = {task}(pd.read_parquet(input_file), window, columns)\n"
            "    write_parquet(result, output_file)\n"
            '    return {"rows": len(result), "columns": result.shape[1], "output_file": str(output_file)}'),
        new_markdown_cell("A missing input names the file; an earlier output stays until the new one is complete."),
        new_code_cell(
            "with tempfile.TemporaryDirectory() as tmp:\n"
            '    source, target = Path(tmp) / "readings.parquet", Path(tmp) / "out" / "smoothed.parquet"\n'
            "    readings.to_parquet(source, index=False)\n"
            f'    assert {task}_file(source, target, 2)["rows"] == 4\n'
            '    assert pd.read_parquet(target)["level"].tolist() == [1.0, 2.0, 4.0, 6.0]\n'
            "    try:\n"
            f'        {task}_file(Path(tmp) / "nowhere.parquet", target, 2)\n'
            '        raise AssertionError("a missing input should have been refused")\n'
            "    except FileNotFoundError as error:\n"
            '        assert "nowhere.parquet" in str(error)'),
    ]


def core_notebook(task: str, name: str, where: str, kernel_name: str) -> str:
    """`nbs/core/NN_<task>.ipynb`: exports `<task>(frame, window, columns)` and `<task>_file(...)`, with tests."""
    if not task.isidentifier():
        raise ScaffoldError(f"task: {task!r} is not an identifier")
    cells = [
        new_code_cell(f"#| default_exp core.{task}"),
        _prose(
            f"# {name}\n\n> A rolling mean over the numeric columns of a table, the first version of `{task}`.\n\n"
            f"Generated by `add_task.py` for {where}. `{task}` starts as a small, real transformation: each\n"
            "numeric column (or the ones named) becomes the mean of a window of consecutive rows, so noisy\n"
            f"readings turn into a smooth series; other columns stay as they are. `{task}_file` applies it to a\n"
            "parquet table and writes the result atomically; the task wrapper calls it with the window and\n"
            "columns from its config. Change the function here to what the task should do, keep the tests in\n"
            "step, and run `nbdev-export`."),
        new_code_cell("#| export\nfrom __future__ import annotations\n\nfrom pathlib import Path\n\n"
                      "import pandas as pd\n\nfrom airnub.engine.storage import write_parquet"),
        new_code_cell("import tempfile"),
        *_function_cells(task),
        *_file_cells(task),
    ]
    return _notebook(cells, kernel_name)


def report_notebook(task: str, name: str, where: str, kernel_name: str) -> str:
    """`nbs/reports/<task>.ipynb`: a parameterised report on a table, saving its numeric summary."""
    parameters = new_code_cell(
        f'title: str = "{name}"  # heading shown at the top of the report\n'
        'input_table: str = ""  # parquet table to report on; empty: input_table of settings.ini\n'
        'summary_table: str = ""  # where to save the summary (.parquet); empty: not saved')
    parameters.metadata["tags"] = ["parameters"]
    cells = [
        _prose(
            f"# {name}\n\n> A report on a table of the project: its size and a summary of each numeric column.\n\n"
            f"Generated by `add_task.py` for {where}; its task runs it through the papermill task. An empty\n"
            "`input_table` means the table `input_table` of settings.ini names; a relative one is\n"
            "relative to the storage root (the project folder unless `storage_root` names another). This notebook is\n"
            "never exported."),
        parameters,
        new_code_cell("from pathlib import Path\n\nimport pandas as pd\n"
                      "from IPython.display import Markdown, display\n\n"
                      "from airnub.engine.settings import load_settings\n"
                      "from airnub.engine.storage import write_parquet"),
        new_code_cell(
            "settings = load_settings()\n"
            "source = settings.paths.storage / input_table if input_table else settings.input_table\n"
            "table = pd.read_parquet(source)\n"
            'assert len(table), f"{source} has no rows to report on"\n'
            'display(Markdown(f"## {title}\\n\\n`{source.name}`: {len(table)} rows, {table.shape[1]} columns."))'),
        new_markdown_cell("## Numeric columns\n\nCount, mean, spread and quartiles of each numeric column; "
                          "saved as a table when `summary_table` is set."),
        new_code_cell(
            "summary = table.describe().transpose()\n"
            "if summary_table:\n"
            '    write_parquet(summary.reset_index(names="column"), Path(summary_table))\n'
            "summary.round(3)"),
    ]
    return _notebook(cells, kernel_name)


def names_in_code(sources: list[str]) -> set[str]:
    """Every name the Python `sources` bind or read: imports, functions, parameters, variables, exceptions."""
    names = set()
    for node in (node for source in sources for node in ast.walk(ast.parse(source))):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


@cache
def core_notebook_names() -> frozenset[str]:
    """The names the generated core notebook uses itself, read from the template (`task_placeholder` left out)."""
    cells = nbformat.reads(core_notebook("task_placeholder", "Task", "a stage", "python3"), as_version=4).cells
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    return frozenset(name for name in names_in_code(code) if "task_placeholder" not in name)


def check_task_name(task: str) -> str:
    """`task`, or ScaffoldError when the function `task()` would shadow a builtin or a name the notebook uses."""
    if task in dir(builtins):
        raise ScaffoldError(f"task: {task!r} is a Python builtin; the generated {task}() would hide it from the "
                            f"code that calls it; expected another name (e.g. '{task}_rows')")
    if task in core_notebook_names():
        raise ScaffoldError(f"task: {task!r} would make the function {task}(), but the generated notebook already "
                            f"uses the name {task!r} for something else; expected another name")
    return task
