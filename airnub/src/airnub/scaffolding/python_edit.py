"""Wiring into existing Python files, guided by their syntax tree: an import, a parameter, a call, a mapping entry.

Each edit is idempotent (what is already there is left alone) and keeps the file's own formatting;
a file whose shape the edit does not recognise is refused with a message saying what to add by hand.
"""

from __future__ import annotations

import ast
import re

from airnub.scaffolding.names import ScaffoldError

LINE_LENGTH = 120  # a copy of [tool.ruff] line-length (pyproject.toml, its home): a test fails when they differ
SECTIONS = {"airnub": 0, "flows": 2}  # the tool's imports, then the project's package (1), then its flows


def _sort_key(module: str) -> tuple[int, list]:
    """The order ruff's isort gives these imports (pyproject.toml's isort sections: the tool, the package whatever it
    is named, flows), then case-insensitive, numbers compared as numbers."""
    section = SECTIONS.get(module.split(".")[0], 1)
    return section, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", module.lower())]


def import_line(module: str, name: str) -> str:
    """`from module import name`, in the wrapped form ruff uses when it is too long for one line."""
    line = f"from {module} import {name}"
    return line if len(line) <= LINE_LENGTH else f"from {module} import (\n    {name},\n)"


def _function(tree: ast.Module, name: str, path: str) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise ScaffoldError(f"{path}: no function {name}() to wire into; was it renamed?")


def _module_names(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level: imports, functions, classes, assignments."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def add_import(source: str, module: str, name: str) -> str:
    """`source` with `from module import name` among its first-party imports, in sorted position."""
    tree = ast.parse(source)
    imports = [n for n in tree.body if isinstance(n, ast.ImportFrom | ast.Import)]
    if any(isinstance(n, ast.ImportFrom) and n.module == module and name in {a.name for a in n.names}
           for n in imports):
        return source
    if name in _module_names(tree):
        raise ScaffoldError(f"{name}: the file it would be imported into already uses that name for something else "
                            f"(another import or a definition), which the import would replace; expected another name")
    ours = {*SECTIONS, module.split(".")[0]}  # the tool, flows, and the package when `module` is the package's
    first_party = [n for n in imports if isinstance(n, ast.ImportFrom) and n.module
                   and n.module.split(".")[0] in ours]
    lines = source.splitlines(keepends=True)
    text = import_line(module, name) + "\n"
    if not first_party:
        at = imports[-1].end_lineno if imports else 0
        return "".join([*lines[:at], "\n", text, *lines[at:]])
    later = [n for n in first_party if _sort_key(n.module) > _sort_key(module)]
    at = later[0].lineno - 1 if later else first_party[-1].end_lineno
    return "".join([*lines[:at], text, *lines[at:]])


def _signature(node: ast.FunctionDef, source: str, parameters: list[str]) -> str:
    returns = f" -> {ast.get_source_segment(source, node.returns)}" if node.returns else ""
    opening = f"def {node.name}("
    rows, row = [], opening
    for index, parameter in enumerate(parameters):
        piece = parameter + (", " if index < len(parameters) - 1 else f"){returns}:")
        if len(row) + len(piece) > LINE_LENGTH and row.strip() != opening.strip():
            rows.append(row.rstrip())
            row = " " * len(opening)
        row += piece
    if not parameters:
        row += f"){returns}:"
    return "\n".join([*rows, row]) + "\n"


def add_parameter(source: str, function: str, parameter: str, path: str) -> str:
    """`source` with `parameter` (e.g. `run_tides: bool = True`) appended to the signature of `function`."""
    tree = ast.parse(source)
    node = _function(tree, function, path)
    arguments = node.args
    name = parameter.split(":")[0].strip()
    if name in {a.arg for a in arguments.args}:
        return source
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.posonlyargs:
        raise ScaffoldError(f"{path}: {function}() has *args, **kwargs or keyword-only parameters; "
                            f"add `{parameter}` to it by hand")
    defaults = [None] * (len(arguments.args) - len(arguments.defaults)) + list(arguments.defaults)
    existing = [ast.get_source_segment(source, a) + (f" = {ast.get_source_segment(source, d)}" if d else "")
                for a, d in zip(arguments.args, defaults, strict=True)]
    lines = source.splitlines(keepends=True)
    if node.body[0].lineno == node.lineno:
        raise ScaffoldError(f"{path}: {function}() is written on one line; add `{parameter}` to it by hand")
    parts = [*arguments.args, *arguments.defaults, *([node.returns] if node.returns else [])]
    start, end = node.lineno - 1, max([node.lineno, *(p.end_lineno for p in parts)])
    while not lines[end - 1].split("#")[0].rstrip().endswith(":"):  # a closing `):` on a line of its own
        end += 1
    return "".join([*lines[:start], _signature(node, source, [*existing, parameter]), *lines[end:]])


def add_before_return(source: str, function: str, statements: list[str], uses: str, path: str) -> str:
    """`source` with `statements` (indented lines) before the final `return results` of `function`.

    Nothing changes when the function already refers to `uses` (the flow or task being wired in).
    """
    tree = ast.parse(source)
    node = _function(tree, function, path)
    if any(isinstance(n, ast.Name) and n.id == uses for n in ast.walk(node)):
        return source
    last = node.body[-1]
    if not (isinstance(last, ast.Return) and isinstance(last.value, ast.Name) and last.value.id == "results"):
        raise ScaffoldError(f"{path}: {function}() does not end with `return results`; "
                            f"add these lines to it by hand:\n" + "\n".join(statements))
    lines = source.splitlines(keepends=True)
    at = last.lineno - 1
    return "".join([*lines[:at], *(s + "\n" for s in statements), *lines[at:]])


def assigns(source: str, function: str, name: str, path: str) -> bool:
    """Whether `function` in `source` assigns the local variable `name`."""
    node = _function(ast.parse(source), function, path)
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(node))
