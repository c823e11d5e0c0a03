"""The engine apart from the demo: no generic module imports a demo module.

Generic: the notebook engine (`airnub_prefect_starter/engine/`), the Prefect glue (`flows/common/`),
the `airnub` command, the department registry and the scaffolding. Demo: the wine pipeline's
steps (`airnub_prefect_starter/core/`, `airnub_prefect_starter/data_science/`) and its flows
(`flows/dept_demo/`). Deleting the demo must leave the generic modules importable.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import PROJECT_ROOT

GENERIC = ["airnub_prefect_starter/engine/**/*.py", "flows/common/**/*.py", "flows/cli.py", "flows/departments.py",
           "flows/scaffolding/**/*.py"]
DEMO = ("airnub_prefect_starter.core", "airnub_prefect_starter.data_science", "flows.dept_demo")


def _module_name(path: Path) -> str:
    """`flows/common/config.py` -> `flows.common.config` (a package's `__init__.py` is the package)."""
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
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
    return sorted({path for pattern in GENERIC for path in PROJECT_ROOT.glob(pattern)})


def test_no_generic_module_imports_the_demo():
    files = _generic_files()
    assert len(files) > 20, f"the generic modules were not found under {PROJECT_ROOT}"
    offending = [line for path in files for line in demo_imports(path.read_text(encoding="utf-8"), path)]
    assert not offending, "generic modules import the demo:\n" + "\n".join(offending)


@pytest.mark.parametrize(("where", "source", "named"), [
    ("flows/common/x.py", "from airnub_prefect_starter.data_science.config_ds import data_paths",
     "airnub_prefect_starter.data_science.config_ds"),
    ("flows/cli.py", "def run():\n    import flows.dept_demo.pipeline_flow_dept_demo\n",
     "flows.dept_demo.pipeline_flow_dept_demo"),
    ("airnub_prefect_starter/engine/x.py", "from ..core.data_validation import DataValidationError",
     "airnub_prefect_starter.core.data_validation"),
    ("airnub_prefect_starter/engine/__init__.py", "from ..data_science import config_ds",
     "airnub_prefect_starter.data_science.config_ds"),
])
def test_the_check_names_the_module_and_the_import_it_finds(where, source, named):
    found = demo_imports(source, PROJECT_ROOT / where)
    assert any(line.startswith(f"{where}:") and line.endswith(f" imports {named}") for line in found), found


def test_engine_imports_are_not_mistaken_for_demo_imports():
    source = "from .settings import load_settings\nfrom airnub_prefect_starter.engine.storage import write_json\n"
    assert demo_imports(source, PROJECT_ROOT / "airnub_prefect_starter/engine/run_cache.py") == []
