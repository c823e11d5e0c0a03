"""What the tool knows of the project it serves: its package, named where nbdev reads it (the project's
pyproject.toml, `[tool.nbdev]`), and its folder on the import path so that its flows import as `flows.dept_<id>`.

The tool never names a project's package itself: a project made from the template renames it, and the tool is
copied into every project unchanged.
"""

from __future__ import annotations

import sys
import tomllib
from functools import cache
from pathlib import Path


@cache
def nbdev_folders(root: Path) -> tuple[Path, Path]:
    """`(notebooks, package)`: nbdev's nbs_path and lib_path from the pyproject.toml of the project at `root`."""
    try:
        with (root / "pyproject.toml").open("rb") as stream:
            config = tomllib.load(stream).get("tool", {}).get("nbdev", {})
    except (OSError, tomllib.TOMLDecodeError):
        config = {}
    return root / config.get("nbs_path", "nbs"), root / config.get("lib_path", root.name.replace("-", "_"))


def package_name(root: Path) -> str:
    """The import name of the package the project's notebooks export to (`airnub_prefect_starter` in the template)."""
    return nbdev_folders(root)[1].name


def importable(root: Path) -> Path:
    """`root`, first on the import path (once): the project's `flows` package is imported from its folder."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root
