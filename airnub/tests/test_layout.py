"""The tool apart from the project: no module of the tool (`airnub/src/airnub/`) imports the project's package or
its flows (the demo's wine pipeline among them). Deleting the demo, or renaming the package, leaves the tool as it is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from airnub.project import package_name
from airnub.testing.helpers import PROJECT_ROOT

TOOL = PROJECT_ROOT / "airnub" / "src"
GENERIC = ["airnub/**/*.py"]  # the tool, all of it (under TOOL)
DEMO = (package_name(PROJECT_ROOT), "flows")  # the project: its package (whatever it is named) and its flows


def _module_name(path: Path) -> str:
    """`airnub/src/airnub/cli/main.py` -> `airnub.cli.main` (a package's `__init__.py` is the package)."""
    parts = path.relative_to(TOOL).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module `tree` imports, as `(line, absolute dotted name)`; relative imports resolved against `module`."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            name = ".".join(part for part in (base, node.module or "") if part)
            # `from . import x` may import a submodule: check `package.x` too
            found += [(node.lineno, name)] + [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def demo_imports(source: str, path: Path) -> list[str]:
    """`<file>:<line> imports <module>` for every demo module `source` (the text of `path`) imports."""
    module = _module_name(path)
    return [f"{path.relative_to(PROJECT_ROOT)}:{line} imports {name}"
            for line, name in _imported(ast.parse(source, filename=str(path)), module, path.name == "__init__.py")
            if any(name == demo or name.startswith(f"{demo}.") for demo in DEMO)]


def _generic_files() -> list[Path]:
    return sorted({path for pattern in GENERIC for path in TOOL.glob(pattern)})


def test_no_generic_module_imports_the_demo():
    files = _generic_files()
    assert len(files) > 20, f"the generic modules were not found under {PROJECT_ROOT}"
    offending = [line for path in files for line in demo_imports(path.read_text(encoding="utf-8"), path)]
    assert not offending, "generic modules import the demo:\n" + "\n".join(offending)


@pytest.mark.parametrize(("where", "source", "named"), [
    ("airnub/src/airnub/orchestration/x.py", "from airnub_prefect_starter.data_science.config_ds import data_paths",
     "airnub_prefect_starter.data_science.config_ds"),
    ("airnub/src/airnub/cli/main.py", "def run():\n    import flows.dept_demo.pipeline_flow_dept_demo\n",
     "flows.dept_demo.pipeline_flow_dept_demo"),
])
def test_the_check_names_the_module_and_the_import_it_finds(where, source, named):
    found = demo_imports(source, PROJECT_ROOT / where)
    assert any(line.startswith(f"{where}:") and line.endswith(f" imports {named}") for line in found), found


def test_engine_imports_are_not_mistaken_for_demo_imports():
    source = "from .settings import load_settings\nfrom airnub.engine.storage import write_json\n"
    assert demo_imports(source, PROJECT_ROOT / "airnub/src/airnub/engine/run_cache.py") == []


def test_no_two_test_files_share_a_name():
    """pytest imports test files by their name (the folders hold no __init__.py): a second file of the same name
    anywhere in `make test`'s folders stops the whole run with "import file mismatch"."""
    seen: dict[str, list[str]] = {}
    for folder in ("tests", "airnub/tests"):
        for path in (PROJECT_ROOT / folder).rglob("test_*.py"):
            seen.setdefault(path.name, []).append(path.relative_to(PROJECT_ROOT).as_posix())
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
