"""Notebooks newer than their modules, exported before a run: the code a run uses is the code on screen.

`airnub run`, `airnub notebook` and `airnub sweep` call `export_stale` before anything runs (before a
command goes to the warm runner too, whose child then re-imports the project modules whose files
changed). A notebook of nbs/ with `#| default_exp NAME` writes `<lib_path>/NAME.py`; when the
notebook was saved after its module (or the module is missing), nbdev exports it, in a subprocess
run from the project folder (nbdev reads its settings there). A module that nbdev rewrote with the
same bytes gets a newer time, so the next command finds nothing to do. An export that fails, or
writes code that does not compile (nbdev writes a syntax error as it is), leaves the modules as
they were and stops the command in one line naming the notebook.

With nothing stale this costs a stat and a read of each notebook (under a millisecond for the
demo's twenty); nbdev is imported only when a notebook needs exporting. No Prefect import.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from airnub.project import nbdev_folders

DEFAULT_EXP = re.compile(rb"#\|\s*default_exp\s+([\w.]+)")
EXPORT_SECONDS = 120  # nbdev exports a notebook in well under a second; this bounds a stuck one
# The subprocess: nbdev's own exporter, for each notebook named on its command line.
EXPORT = ("import sys\nfrom nbdev.export import nb_export\n"
          "for notebook in sys.argv[2:]: nb_export(notebook, sys.argv[1])")


class ExportError(ValueError):
    """A notebook nbdev could not export, or whose exported code does not compile; the message names it."""


def stale_notebooks(root: Path) -> list[tuple[Path, Path]]:
    """`(notebook, module)` for each exported notebook under the project at `root` saved after its module."""
    notebooks, package = nbdev_folders(root)
    stale = []
    for notebook in sorted(notebooks.rglob("*.ipynb")):  # nbdev's own glob skips `_` and `.` names
        if any(part.startswith(("_", ".")) for part in notebook.relative_to(notebooks).parts):
            continue
        try:
            found = DEFAULT_EXP.search(notebook.read_bytes())
            if not found:
                continue
            module = package / f"{found.group(1).decode().replace('.', '/')}.py"
            if not module.exists() or notebook.stat().st_mtime_ns > module.stat().st_mtime_ns:
                stale.append((notebook, module))
        except OSError:  # a notebook removed while we look: nothing to export
            continue
    return stale


def _saved(module: Path) -> tuple[bytes, int] | None:
    """A module's bytes and modification time (None when it does not exist yet)."""
    return (module.read_bytes(), module.stat().st_mtime_ns) if module.exists() else None


def _restore(saved: dict[Path, tuple[bytes, int] | None]) -> None:
    """Each module as it was, its time too: the notebook stays newer, so the next run tries it again."""
    for module, before in saved.items():
        if before is None:
            module.unlink(missing_ok=True)
        else:
            module.write_bytes(before[0])
            os.utime(module, ns=(before[1], before[1]))


def export_stale(root: Path, say=lambda line: print(line, file=sys.stderr)) -> list[Path]:
    """Export the notebooks of `root` newer than their modules; say which changed a module; return them."""
    stale = stale_notebooks(root)
    if not stale:
        return []
    _, package = nbdev_folders(root)
    shown = {notebook: notebook.relative_to(root) for notebook, _ in stale}
    saved = {module: _saved(module) for _, module in stale}
    environment = {k: v for k, v in os.environ.items() if k != "IN_TEST"}  # nbdev exports nothing under IN_TEST
    try:
        done = subprocess.run([sys.executable, "-c", EXPORT, str(package), *(str(n) for n, _ in stale)], cwd=root,
                              env=environment, capture_output=True, text=True, timeout=EXPORT_SECONDS)
    except subprocess.TimeoutExpired:
        _restore(saved)
        raise ExportError(f"exporting {', '.join(map(str, shown.values()))} took over {EXPORT_SECONDS} s; modules "
                          f"left as they were; run `nbdev-export` to see why") from None
    if done.returncode:
        _restore(saved)
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ExportError(f"{', '.join(map(str, shown.values()))}: nbdev could not export it ({last}); modules "
                          f"left as they were; fix the notebook, then run again")
    for notebook, module in stale:
        try:
            compile(module.read_bytes(), str(module), "exec")
        except SyntaxError as error:
            _restore(saved)
            raise ExportError(f"{shown[notebook]}: its exported code does not compile ({error.msg}, line "
                              f"{error.lineno} of {module.relative_to(root)}); the module is left as it was; fix "
                              f"the cell, then run again") from None
    changed = [notebook for notebook, module in stale
               if saved[module] is None or module.read_bytes() != saved[module][0]]
    for notebook in changed:
        say(f"airnub: exported {shown[notebook]} (newer than its module)")
    return changed
