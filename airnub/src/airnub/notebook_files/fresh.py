"""Copy notebooks with their outputs cleared, for nbval.

nbdev-clean keeps outputs but blanks execution counts, and nbval refuses such cells ("Unrun
reference cell has outputs"). Validating fresh copies checks what matters: every cell runs in
the project kernel. Usage: python -m airnub.notebook_files.fresh SOURCE DEST [--skip FOLDER]...
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat


def fresh_copies(source: Path, destination: Path, skip: set[str]) -> list[Path]:
    """Write each notebook under `source` (but in `skip` folders) to `destination` without outputs."""
    written = []
    for notebook in sorted(source.rglob("*.ipynb")):
        relative = notebook.relative_to(source)
        if relative.parts[0] in skip or any(part.startswith((".", "_")) for part in relative.parts):
            continue
        node = nbformat.read(notebook, as_version=4)
        for cell in node.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(node, target)
        written.append(target)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("destination", type=Path)
    parser.add_argument("--skip", action="append", default=[], help="a top-level folder to leave out")
    args = parser.parse_args()
    copies = fresh_copies(args.source, args.destination, set(args.skip))
    print(f"{len(copies)} notebook(s) copied to {args.destination}")
