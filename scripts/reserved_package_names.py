"""Write scripts/reserved_package_names.txt: the names a project's package cannot take, each with the reason.

A package named `json`, `typing` or `prefect` would hide the real module from every import of the project, and one
named `class` cannot be imported at all. Copier's validator (copier.yml) is Jinja and cannot ask Python, so this
script writes the names down once; copier.yml and scripts/rename_project.py both read the file. Run it again when
the dependencies change (tests/test_template.py fails until you do):

    .venv/bin/python scripts/reserved_package_names.py
"""

from __future__ import annotations

import keyword
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
LISTED = ROOT / "scripts" / "reserved_package_names.txt"
PROJECT_NAMES = {"flows": "a folder of the project", "tests": "a folder of the project",
                 "scripts": "a folder of the project", "nbs": "a folder of the project",
                 "configs": "a folder of the project", "airnub": "the project's command"}
PACKAGE_NAME = re.compile(r"[a-z][a-z0-9_]*")  # what copier.yml accepts at all: only such names need a line


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [item for group in project.get("optional-dependencies", {}).values() for item in group]
    return [Requirement(text) for text in [*project["dependencies"], *extras]]


def dependency_distributions() -> set[str]:
    """The distributions pyproject.toml asks for (extras included), and theirs, as installed here."""
    seen, pending = set(), _requirements()
    while pending:
        requirement = pending.pop()
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if name in seen or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        pending += [Requirement(text) for text in requires]
    return seen


def reserved_names() -> dict[str, str]:
    """Every lower-case name a package must not take, with the reason (the first reason wins)."""
    names = {word: "a Python keyword" for word in keyword.kwlist}
    for module in sys.stdlib_module_names:
        names.setdefault(module, "a module of Python's standard library")
    wanted, found = dependency_distributions(), {}
    for module, distributions in metadata.packages_distributions().items():
        for distribution in distributions:
            if re.sub(r"[-_.]+", "-", distribution).lower() in wanted:
                found.setdefault(module, distribution)
    for module, distribution in sorted(found.items()):
        names.setdefault(module, f"the import name of {distribution}, a dependency")
    names.update(PROJECT_NAMES)
    return {name: why for name, why in sorted(names.items()) if PACKAGE_NAME.fullmatch(name)}


def listing() -> str:
    """The file's text: a header, then `name: reason` lines."""
    header = (f"# Names a project's package cannot take, and why: written by scripts/{Path(__file__).name} "
              f"(Python {sys.version_info.major}.{sys.version_info.minor}); read by copier.yml and "
              "scripts/rename_project.py.\n")
    return header + "".join(f"{name}: {why}\n" for name, why in reserved_names().items())


if __name__ == "__main__":
    LISTED.write_text(listing(), encoding="utf-8")
    print(f"{LISTED.relative_to(ROOT)}: {len(reserved_names())} names")
